"""Bureau-scale benchmark (issue 17; docs/benchmarks.md §机构规模基准).

``build``: into the PostgreSQL database of ``DATABASE_URL`` — migrate, load_policies, then
by COPY (psycopg ``cursor.copy``) N persons across the five pooling regions and 三明's
counties (30 % 垫江), ≈ 1.9 enrollments each, one payment each with its 缴费到账 journal,
a settled claim per five persons with its result lines (and the 待遇核定/待遇支付 journals
of the approved and paid ones), 长治 门诊慢特病 registrations, refunds, jobs and 审计日志
entries; then the derived tables (``DERIVE_COMMANDS``) and VACUUM ANALYZE. ``--reuse``
keeps a complete database of that size.

``time``: the users (a superuser; 垫江's 经办员, 审核员 and 基金财务 through
``policies.staff.staff_user_ensure`` as demo accounts: one factor), each logged in with
``Client.force_login``; every page of each role's day requested once (must answer 200),
then ``--runs`` times: median wall time, SQL queries and SQL time; a markdown table,
pages ≥ 300 ms marked; ``--explain``: EXPLAIN (ANALYZE, BUFFERS) of the slowest queries
of each slow page.

    createdb -h 127.0.0.1 -U postgres medins_scale
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_scale \\
        .venv/bin/python bench/bureau_scale.py build --persons 1000000 [--reuse]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_scale \\
        .venv/bin/python bench/bureau_scale.py time [--runs 5] [--explain] [--roles admin,clerk]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# the bench times pages, not the login: its superuser logs in with one factor (the role
# accounts are demo accounts, exempt like load_demo's)
os.environ.setdefault("OTP_REQUIRED_FOR_SUPERUSERS", "false")
# production settings (DEBUG off: no query log, compressed static files); requests are made
# as https (SECURE_SSL_REDIRECT stays on)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)


def machine() -> str:
    cores = os.cpu_count()
    with open("/proc/meminfo") as handle:
        mem_kb = int(handle.readline().split()[1])
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cores} cores, {mem_kb / 1024 / 1024:.0f} GB RAM, load {load}"


def cmd_build(args) -> None:
    from scale.build import build, complete, sizes

    if args.reuse and complete(args.persons):
        print(f"reusing the complete database of {args.persons} persons")
    else:
        started = time.perf_counter()
        result = build(persons=args.persons)
        print(f"build: {time.perf_counter() - started:.0f} s ({machine()})")
        for name, n in result["counts"].items():
            print(f"  {name:<18} {n:>12,}")
    found = sizes()
    for table, (rows, size) in found["tables"].items():
        print(f"  {table:<26} {rows:>12,} rows {size / 2**20:>9,.0f} MiB")
    print(f"database size on disk: {found['database_bytes'] / 2**30:.2f} GiB")


def cmd_time(args) -> None:
    from scale.pages import ROLES, users
    from scale.timing import report, time_pages

    roles = args.roles.split(",") if args.roles else list(ROLES)
    def say(line):
        print(line, flush=True)

    only = [label for label in args.only.split(",") if label]
    results = time_pages(users(), roles=roles, runs=args.runs, deep_page=args.deep_page, out=say, only=only)
    print(f"\nmachine: {machine()}\n")
    print(report(results, roles, threshold_ms=args.threshold))
    if args.explain:
        from scale.timing import explain_slow

        explain_slow(results, threshold_ms=args.threshold, top=args.top, out=say)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--persons", type=int, default=1_000_000)
    b.add_argument("--reuse", action="store_true", help="keep an existing complete database of this size")
    t = sub.add_parser("time")
    t.add_argument("--runs", type=int, default=5, help="warm requests per page (the median is shown)")
    t.add_argument("--roles", default="", help="comma-separated: admin,clerk,reviewer,finance (default all)")
    t.add_argument("--deep-page", type=int, default=1000, help="the deep page of the long lists")
    t.add_argument("--only", default="", help="comma-separated beginnings of the page labels to time")
    t.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) of the slow pages' queries")
    t.add_argument("--threshold", type=float, default=300.0, help="ms: a slower page is marked (and explained)")
    t.add_argument("--top", type=int, default=3, help="queries explained per slow page")
    args = parser.parse_args(argv)
    import django

    django.setup()
    {"build": cmd_build, "time": cmd_time}[args.cmd](args)


if __name__ == "__main__":
    main()
