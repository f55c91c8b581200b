"""Benchmark: a policy officer's plan-year work — 复制为新年度草稿 (``plan_year_rollover``),
导出参数表 (``write_plan_year_workbook``) and 导入参数表 (``plan_year_import_sheets``) of the
draft's own workbook (every row 未变) and of the same workbook with every ratio of the
benefit table changed (rows updated, history written). Per step: median wall and CPU ms
(``time.process_time``) of ``--repeat`` runs and the SQL statements of the last one;
``--profile`` prints a cProfile of one more run of each step.

Each run happens in a transaction that is rolled back, so the database is left as it
was; run it on a scratch database loaded with ``load_policies``:

    createdb -h 127.0.0.1 -U postgres medins_sheets_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_sheets_bench .venv/bin/python manage.py migrate
    DATABASE_URL=… .venv/bin/python manage.py load_policies
    DATABASE_URL=… .venv/bin/python bench/rule_sheets_bench.py --repeat 7 [--profile]

The plan year is 长治 城乡居民医保 (140400 resident_basic, the seed plan year with the most
rows: 51 门诊慢特病 among them) unless ``--region`` / ``--kind`` say otherwise.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class _Rollback(Exception):
    pass


def statement_kinds(queries) -> Counter:
    kinds: Counter = Counter()
    for q in queries:
        kinds[q["sql"].lstrip().split(None, 1)[0].upper()] += 1
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--region", default="140400")
    parser.add_argument("--kind", default="resident_basic")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    import django
    django.setup()
    from django.conf import settings
    from django.db import connection, reset_queries, transaction
    from openpyxl import load_workbook

    from policies import models as pm
    from policies.resources import sheet_title, write_plan_year_workbook
    from policies.services import plan_year_import_sheets, plan_year_rollover

    settings.DEBUG = True  # connection.queries
    folder = Path(tempfile.mkdtemp(prefix="rule-sheets-bench-"))
    source = pm.PlanYear.objects.get(scheme__region__code=args.region, scheme__kind=args.kind, year=2024)
    print(f"{source}: {sum(m.objects.filter(plan_year=source).count() for m in pm.RULE_MODELS)} rule rows, "
          f"{connection.vendor}")

    def changed_copy(book: Path) -> Path:
        """The workbook with every ratio of the benefit tables one point lower."""
        wb = load_workbook(book)
        for model in (pm.BenefitRule, pm.Responsibility, pm.ChronicBenefit):
            sheet = wb[sheet_title(model)]
            headers = [c.value for c in sheet[1]]
            for index, header in enumerate(headers, start=1):
                if header and "比例" in header:
                    for row in range(2, sheet.max_row + 1):
                        cell = sheet.cell(row=row, column=index)
                        if isinstance(cell.value, (int, float)) and cell.value >= 1:
                            cell.value = cell.value - 1
        target = book.with_name(book.stem + "-changed.xlsx")
        wb.save(target)
        return target

    def rollover():
        return plan_year_rollover(region_code=args.region, kind=args.kind, from_year=2024, to_year=2025)

    def steps(draft):
        book = folder / "draft.xlsx"
        return {
            "export": lambda: write_plan_year_workbook(draft, book),
            "import unchanged": lambda: plan_year_import_sheets(plan_year=draft, path=book, acting_user=None),
            "import changed": lambda: plan_year_import_sheets(plan_year=draft, path=changed, acting_user=None),
        }

    results: dict[str, list] = {}

    def timed(name, fn):
        reset_queries()
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        results.setdefault(name, []).append(((time.perf_counter() - w) * 1000,
                                             (time.process_time() - c) * 1000, list(connection.queries)))
        return out

    changed = None
    for run in range(args.repeat + 1):  # the first run warms the caches and is not counted
        try:
            with transaction.atomic():
                draft = timed("rollover", rollover)
                for name, fn in steps(draft).items():
                    if name == "import unchanged" and changed is None:
                        changed = changed_copy(folder / "draft.xlsx")
                    result = timed(name, fn)
                    if name.startswith("import"):
                        assert result.ok, [str(e) for e in result.errors]
                raise _Rollback
        except _Rollback:
            pass
        if run == 0:
            results.clear()

    print(f"{'step':<18}{'wall ms':>10}{'CPU ms':>10}  statements (last run)")
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        kinds = statement_kinds(runs[-1][2])
        print(f"{name:<18}{wall:>10.0f}{cpu:>10.0f}  {sum(kinds.values())} "
              f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())})")

    if args.profile:
        try:
            with transaction.atomic():
                draft = None
                for name in ("rollover", "export", "import unchanged", "import changed"):
                    profile = cProfile.Profile()
                    profile.enable()
                    if name == "rollover":
                        draft = rollover()
                    else:
                        steps(draft)[name]()
                    profile.disable()
                    print(f"\n--- {name}")
                    pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
                raise _Rollback
        except _Rollback:
            pass


if __name__ == "__main__":
    main()
