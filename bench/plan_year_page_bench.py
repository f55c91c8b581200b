"""Benchmark: the 年度方案 (plan-year) change page, GET and the POST of an unchanged save
(every rule table's rows sent back as shown), through Django's test client in this
process. Per request: median wall and CPU ms (``time.process_time``) of ``--repeat`` warm
requests, the PostgreSQL server's CPU ms per request (mean, when the server runs on this
host) and the SQL statements of the last one (by kind with ``--sql``); ``--profile``
prints a cProfile of one more request of each kind.

Writes (each POST saves the plan year: history rows, admin log): run it on a scratch
database loaded with ``load_policies``:

    createdb -h 127.0.0.1 -U postgres medins_plan_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_plan_bench .venv/bin/python manage.py migrate
    DATABASE_URL=… .venv/bin/python manage.py load_policies
    DATABASE_URL=… .venv/bin/python bench/plan_year_page_bench.py --repeat 7 [--sql] [--profile]

The plan year is the one with the most rule rows (``--plan-year PK`` to choose); users:
the superuser ``admin`` and the all-region 政策管理员 ``zhengce`` (created if missing) and a
垫江 经办员 ``jingban_dj`` (read-only view of a 垫江 plan year). The garbage collector is
set up as a web worker's (``config.worker_gc.tune``, called by ``config.wsgi``) unless
``--python-gc``. The save is posted urlencoded, as a browser posts this form (it has no
file field; ``--multipart``: the test client's default, which the earlier figures used).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def statement_kinds(queries) -> Counter:
    kinds: Counter = Counter()
    for q in queries:
        sql = q["sql"].lstrip()
        word = sql.split(None, 1)[0].upper()
        if word == "SELECT" and " FROM " in sql:
            table = sql.split(" FROM ", 1)[1].split(None, 1)[0].strip('"')
            word = f"SELECT {table}"
        elif word in ("INSERT", "UPDATE", "DELETE"):
            parts = sql.split(None, 3)
            word = f"{word} {parts[2].strip(chr(34)) if word != 'UPDATE' else parts[1].strip(chr(34))}"
        kinds[word] += 1
    return kinds


def measure(fn, repeat: int):
    """Median wall and process CPU, mean process CPU (a full garbage collection every few
    requests shows there, not in the median) and server CPU ms (None off this host) of
    ``repeat`` warm calls, and the statements of the last one. The server's CPU is read in
    clock ticks (10 ms), so only its mean per request is given."""
    from django.db import connection, reset_queries
    from settle_bench import server_cpu

    def server_cpu_ms():
        seconds = server_cpu()
        return None if seconds is None else seconds * 1000

    fn()  # warm
    walls, cpus = [], []
    server_start = server_cpu_ms()
    for _ in range(repeat):
        reset_queries()
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - w) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    queries = list(connection.queries)
    server_end = server_cpu_ms()
    server = None if server_start is None or server_end is None else (server_end - server_start) / repeat
    return statistics.median(walls), statistics.median(cpus), statistics.mean(cpus), server, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plan-year", type=int)
    parser.add_argument("--sql", action="store_true", help="statements of each request by kind")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dump", help="write every statement of each last request to DUMP.<user>.<kind>.sql")
    parser.add_argument("--multipart", action="store_true",
                        help="post multipart/form-data (the test client's default) instead of "
                             "the urlencoded body a browser sends for this form (no file field)")
    parser.add_argument("--python-gc", action="store_true",
                        help="Python's own garbage collection settings instead of a web worker's "
                             "(config/worker_gc.py, what config.wsgi sets up)")
    args = parser.parse_args()

    import django
    django.setup()
    if not args.python_gc:
        from config import worker_gc
        worker_gc.tune()  # as config.wsgi does once the application is loaded
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.client import MULTIPART_CONTENT
    from django.urls import reverse
    from django.utils.http import urlencode

    from policies.models import RULE_MODELS, PlanYear, Region
    from policies.roles import CLERK, POLICY_OFFICER
    from policies.tests.factories import role_staff
    from policies.tests.page_forms import form_post_data

    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["*"]
    settings.OTP_REQUIRED_ROLES, settings.OTP_REQUIRED_FOR_SUPERUSERS = [], False  # no TOTP in a bench
    connection.force_debug_cursor = True
    if args.plan_year:
        plan_year = PlanYear.objects.get(pk=args.plan_year)
    else:
        plan_year = max(PlanYear.objects.all(),
                        key=lambda p: sum(m.objects.filter(plan_year=p).count() for m in RULE_MODELS))
    region = plan_year.scheme.region.code
    users = {
        "admin": role_staff("admin", None, superuser=True),
        "zhengce": role_staff("zhengce", POLICY_OFFICER, tuple(
            Region.objects.filter(is_pooling=True).values_list("code", flat=True))),
        "jingban": role_staff("jingban_bench", CLERK, (region,)),
    }
    url = reverse("admin:policies_planyear_change", args=[plan_year.pk])
    print(f"plan year {plan_year.pk} {plan_year}: "
          f"{sum(m.objects.filter(plan_year=plan_year).count() for m in RULE_MODELS)} rule rows")
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        html = client.get(url).content.decode()
        data = form_post_data(html, "planyear_form")
        editable = "planyear_form" in html and 'name="_continue"' in html

        def get(client=client):
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        body = data if args.multipart else urlencode(data, doseq=True)
        content_type = MULTIPART_CONTENT if args.multipart else "application/x-www-form-urlencoded"

        def post(client=client, body=body, content_type=content_type):
            response = client.post(url, body, content_type=content_type)
            assert response.status_code == 302, (response.status_code, response.content.decode()[:2000])

        kinds = [("GET", get)] + ([("POST", post)] if editable else [])
        for kind, fn in kinds:
            wall, cpu, cpu_mean, server, queries = measure(fn, args.repeat)
            server_text = "   n/a" if server is None else f"{server:6.0f}"
            print(f"{name:8} {kind:4} wall {wall:7.0f} ms  cpu {cpu:7.0f} ms (mean {cpu_mean:4.0f})  server {server_text} ms"
                  f"  {len(queries):4} statements"
                  + (f"  ({len(data)} fields posted)" if kind == "POST" else ""))
            if args.dump:
                Path(f"{args.dump}.{name}.{kind}.sql").write_text("\n".join(q["sql"] for q in queries))
            if args.sql:
                for word, count in statement_kinds(queries).most_common(25):
                    print(f"           {count:4} {word}")
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(fn)
                pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
