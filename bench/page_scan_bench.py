"""Benchmark: every role's day as tests/test_page_scan.py scans it (up to 170 admin pages
per role through Django's test client in this process), on a demo database, in a
transaction rolled back after each role. Per role: pages, SQL statements, process CPU of
the whole scan and of the requests alone (``time.process_time``), per page. ``--save``
keeps every response (status, headers, bytes) for ``--compare``: two saved runs, of two
trees on two copies of the same database, compared page by page with what changes from
run to run masked (CSRF tokens, times and export stamps, the 2FA secret and its QR code,
the workbook protection's salt) — equal bytes otherwise.

    createdb -h 127.0.0.1 -U postgres medins_scan_demo
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_scan_demo DJANGO_SETTINGS_MODULE=config.test_settings
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py load_policies
    .venv/bin/python manage.py load_demo --persons 60
    .venv/bin/python manage.py shell -c "from reports.services import dashboard_refresh; dashboard_refresh()"
    # per run: a fresh copy (the scan writes audit entries; ids and sequences must match)
    dropdb --if-exists medins_scan_run; createdb -T medins_scan_demo medins_scan_run
    DATABASE_URL=…/medins_scan_run .venv/bin/python bench/page_scan_bench.py [--save A.pkl] [--roles admin,jingban_dj]
    .venv/bin/python bench/page_scan_bench.py --compare A.pkl B.pkl

Templates render as outside the tests unless ``--instrumented`` (the test runner's
signal per template, as ``response.context`` needs); the garbage collector is a web
worker's (``config.worker_gc.tune``). ``--profile FILE``: cProfile of the requests.
"""
from __future__ import annotations

import argparse
import os
import pickle
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _normal(content: bytes) -> bytes:
    if content[:2] == b"PK":  # a workbook: its parts, without the creation stamps
        import io
        import zipfile

        book = zipfile.ZipFile(io.BytesIO(content))
        content = b"".join(name.encode() + book.read(name) for name in sorted(book.namelist())
                           if name != "docProps/core.xml")
    for pattern, mask in ((rb'name="csrfmiddlewaretoken" value="[^"]*"', b"CSRF"), (rb"csrftoken=[^;]*", b"CSRF"),
                          (rb"\d+\xe5\xb9\xb4\d+\xe6\x9c\x88\d+\xe6\x97\xa5 \d\d:\d\d", b"TIME"),  # 2026年12月5日 06:20
                          (rb"20\d\d-\d\d-\d\d \d\d:\d\d", b"TIME"),
                          (rb"<(?:workbookProtection|sheetProtection)[^>]*>", b"PROTECTION"),
                          (rb'<div class="otp-qr".*?</div>', b"QR"), (rb'id="otp-secret">[^<]*<', b"SECRET")):
        content = re.sub(pattern, mask, content, flags=re.S)
    return content


def compare(first: str, second: str) -> int:
    with open(first, "rb") as f:
        a = pickle.load(f)
    with open(second, "rb") as f:
        b = pickle.load(f)
    differing = [key for key in sorted(set(a) | set(b))
                 if key not in a or key not in b or a[key][:2] != b[key][:2]
                 or _normal(a[key][2]) != _normal(b[key][2])]
    for key in differing:
        print("differs:", *key)
    print(f"{len(a)} / {len(b)} pages, {len(differing)} differ")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roles", help="comma-separated demo accounts (default: the page scan's nine)")
    parser.add_argument("--save", help="keep every response in this file")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two --save files and exit")
    parser.add_argument("--instrumented", action="store_true", help="the test runner's template signal on")
    parser.add_argument("--profile", help="cProfile of the requests into this file")
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import reset_queries, transaction
    from django.template.base import Template
    from django.test import Client
    from django.test.utils import setup_test_environment

    from config.worker_gc import tune
    from tests import test_page_scan

    settings.DEBUG = False
    plain = Template._render
    setup_test_environment()  # the test client's host; locmem e-mail
    if not args.instrumented:
        Template._render = plain
    tune()
    pages: dict = {}
    request_cpu = [0.0]
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()

    class Recording(Client):
        role = ""

        def request(self, **request):
            started = time.process_time()
            if profile:
                profile.enable()
            try:
                response = super().request(**request)
            finally:
                if profile:
                    profile.disable()
                request_cpu[0] += time.process_time() - started
            if args.save:
                pages[(self.role, request["PATH_INFO"], request.get("QUERY_STRING", ""))] = (
                    response.status_code, sorted((k, v) for k, v in response.items()
                                                 if k not in ("Date", "Expires", "Content-Length")),
                    response.content)
            return response

    roles = args.roles.split(",") if args.roles else test_page_scan.ROLES
    totals = [0, 0, 0.0, 0.0]
    for role in roles:
        with transaction.atomic():
            client = Recording()
            client.role = role
            client.force_login(get_user_model().objects.get(username=role))
            stats: dict = {}
            reset_queries()
            request_cpu[0] = 0.0
            started = time.process_time()
            problems, visited = test_page_scan.scan(client, stats)
            cpu = time.process_time() - started
            transaction.set_rollback(True)
        statements = sum(s[1] for s in stats.values())
        for i, value in enumerate((visited, statements, cpu, request_cpu[0])):
            totals[i] += value
        print(f"{role:11s} pages {visited:3d}  statements {statements:5d} ({statements / visited:4.1f}/page)  "
              f"CPU {cpu:5.2f} s ({1000 * cpu / visited:4.1f} ms/page), requests "
              f"{1000 * request_cpu[0] / visited:4.1f} ms/page  problems {len(problems)}", flush=True)
    visited, statements, cpu, requests = totals
    print(f"{'all':11s} pages {visited:4d} statements {statements:5d} ({statements / visited:4.1f}/page)  "
          f"CPU {cpu:5.2f} s ({1000 * cpu / visited:4.1f} ms/page), requests {1000 * requests / visited:4.1f} ms/page")
    if args.save:
        with open(args.save, "wb") as f:
            pickle.dump(pages, f)
    if profile:
        profile.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
