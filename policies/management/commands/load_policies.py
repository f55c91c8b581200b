"""``python manage.py load_policies [--region CODE]``: load the policy fixtures
(``fixtures/codes.json`` then ``fixtures/policies/*.json``; spec README §5).

Idempotent: a second run reports every row unchanged. A database whose tables are not
there yet or not up to date (a fresh checkout's SQLite file) is migrated first, as
``manage.py migrate`` would: the fixtures need the tables, and the trial-calc contract
(spec trial-calc.md) asks only for ``load_policies`` before ``trial_calc``. Prints one line per plan year,
e.g. "乐山市 职工补充医疗保险 2024：新增 12 行，更新 0 行，未变 0 行" (``-v 2``: per table).
"""
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from policies.services import PolicyFixtureError, policies_load


class Command(BaseCommand):
    help = "加载政策参数文件（编码表与各统筹区年度方案），按自然键新增或更新，重复执行不产生变化"

    def add_arguments(self, parser):
        parser.add_argument("--region", metavar="CODE", help="只加载该统筹区（行政区划代码）的政策文件")
        parser.add_argument("--path", metavar="PATH",
                            help="政策文件目录或单个 JSON 文件（默认：项目的 fixtures/ 目录）")

    def handle(self, *args, region=None, path=None, verbosity=1, **options):
        if _unapplied_migrations():
            self.stderr.write("数据库结构尚未建立或不是最新，先执行 migrate")
            call_command("migrate", interactive=False, verbosity=0)
        try:
            report = policies_load(path_or_data=path, region_code=region)
        except PolicyFixtureError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        if verbosity >= 1:
            for line in report.lines(per_table=verbosity >= 2):
                self.stdout.write(line)


def _unapplied_migrations() -> bool:
    """Whether the default database lacks migrations of the project (``migrate``'s plan)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
