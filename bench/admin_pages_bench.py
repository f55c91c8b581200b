"""Benchmark: the admin's non-person pages (claims list and its searches and filters, the
记账凭证 / 审计日志 / 任务 / 支付批次 lists, the admin index with the dashboard, the plan-year,
person and claim change pages) as the superuser ``admin`` and a one-county clerk, through
Django's test client in this process (no web server: the time is the view's, SQL
included). Per page: HTTP status, median of ``--repeat`` warm requests (after one
unmeasured request), and the SQL count and time of the last one.

Reads only: run it against a loaded database (``load_demo``; at scale the 1 000 000-person
database of bench/, or scratch claims copied in SQL, docs/benchmarks.md §Admin pages at
scale).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_scale \\
        .venv/bin/python bench/admin_pages_bench.py --repeat 5 [--only claims] [--explain]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def pages(clerk_region_code: str) -> list[tuple[str, str, str]]:
    """(label, url, second user) of every measured page (objects taken from the database);
    the second user is the demo account of that page's one-county role (垫江), or the
    all-region non-superuser role when no one-county role sees the page."""
    from django.urls import reverse

    from claims.models import Claim
    from enrollment.models import Person
    from policies.models import PlanYear

    claim = (Claim.objects.filter(region__code=clerk_region_code).exclude(status="draft")
             .order_by("-id").first())
    person = claim.person if claim else Person.objects.order_by("id").first()
    plan_year = (PlanYear.objects.filter(scheme__region__code=clerk_region_code)
                 .order_by("-year", "scheme__settlement_order").first())
    claims = reverse("admin:claims_claim_changelist")
    out = [
        ("claims list", claims, "jingban_dj"),
        ("claims list page 1000", f"{claims}?p=1000", "jingban_dj"),
        ("claims search 结算单号", f"{claims}?q={claim.settlement_no}" if claim else claims, "jingban_dj"),
        ("claims search full ID", f"{claims}?q={person.document_number}", "jingban_dj"),
        ("claims search name", f"{claims}?q={person.name[:2]}", "jingban_dj"),
        ("claims filter status", f"{claims}?status__exact=settled", "jingban_dj"),
        ("claims filter region", f"{claims}?region__id__exact={claim.region_id if claim else 0}", "jingban_dj"),
        ("记账凭证 list", reverse("admin:ledger_journal_changelist"), "caiwu_dj"),
        ("审计日志 list", reverse("admin:audit_auditentry_changelist"), "shenji"),
        ("全部任务 list", reverse("admin:jobs_job_changelist"), "jianguan"),
        ("支付批次 list", reverse("admin:finance_paymentbatch_changelist"), "caiwu_dj"),
        ("admin index (dashboard)", reverse("admin:index"), "zhengce"),
    ]
    if plan_year:
        out.append(("plan-year change", reverse("admin:policies_planyear_change", args=[plan_year.pk]), "zhengce"))
    if person:
        out.append(("person change", reverse("admin:enrollment_person_change", args=[person.pk]), "jingban_dj"))
    if claim:
        out.append(("claim change", reverse("admin:claims_claim_change", args=[claim.pk]), "jingban_dj"))
    return out


def measure(client, url: str, repeat: int, explain: bool):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
    sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]), default=None)
    if explain and slowest and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + slowest["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall()[:12])
        print(f"    slowest ({float(slowest['time']) * 1000:.0f} ms): {slowest['sql'][:300]}\n{plan}")
    return response.status_code, statistics.median(times), len(ctx.captured_queries), sql_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--superuser", default="admin")
    parser.add_argument("--clerk-region", default="500231", help="the clerk's county (垫江)")
    parser.add_argument("--only", default="", help="measure the pages whose label contains this")
    parser.add_argument("--explain", action="store_true", help="print the slowest query's plan")
    args = parser.parse_args()

    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # the 403s of a role that may not see a page
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    users = get_user_model().objects
    targets = pages(args.clerk_region)
    print(f"{'page':32} {'user':12} {'status':>6} {'median ms':>10} {'SQL':>5} {'SQL ms':>8}")
    for label, url, clerk in targets:
        if args.only and args.only not in label:
            continue
        for username in (args.superuser, clerk):
            client = Client()
            client.force_login(users.get(username=username))
            status, ms, n, sql_ms = measure(client, url, args.repeat, args.explain)
            print(f"{label:32} {username:12} {status:>6} {ms:>10.0f} {n:>5} {sql_ms:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
