"""``python manage.py trial_calc CASES.json [--plan-status draft]`` (spec trial-calc.md).

Reads the cases from a file or standard input (``-``), prints one JSON array of results
on standard output and nothing else (logs go to standard error). Exit status 0 when
every case was read (a case may still answer ``"ok": false``), 2 when the input is not
valid JSON or not an array of objects, 1 when the database is not usable (unreachable)
or a case hit a programming error (``internal_error``: every result is still printed, the
trace goes to standard error). Nothing is written to the database.

A database with no plan year at all — a fresh checkout's, not migrated or migrated without
``load_policies`` — cannot answer any case: the cases are then computed on the seed
policies ``load_policies`` loads, in a database in memory that ends with the command
(``use_seed_policies_in_memory``), and standard error says so. The configured database
is not written, nor created (a SQLite file that does not exist is not opened).
"""
import io
import json
import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from claims.trial.cases import BadInput, had_internal_error, load_cases, run_cases


class Command(BaseCommand):
    help = "批量试算：读取案例（JSON 数组、JSON Lines 或含 cases 的对象），输出每个案例的结果（不写入数据库）"

    def add_arguments(self, parser):
        parser.add_argument("cases", help="案例文件路径；- 表示从标准输入读取")
        parser.add_argument("--plan-status", choices=("active", "draft"), default="active",
                            help="使用的年度方案：active（生效，默认）或 draft（草稿；无草稿的险种用生效方案）")

    def handle(self, *args, **options):
        path = options["cases"]
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8-sig") as fh:
                    text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取案例文件 {path}：{exc}", returncode=2) from exc
        try:
            cases = load_cases(text)
        except BadInput as exc:
            raise CommandError(f"输入无效：{exc}", returncode=2) from exc
        self.stderr.write(f"试算 {len(cases)} 个案例（年度方案：{options['plan_status']}）")
        try:
            if not has_plan_years():
                self.stderr.write("数据库中还没有年度方案（未执行 migrate 或 load_policies）："
                                  "按随附的种子政策在内存数据库中试算，不写入任何数据库")
                use_seed_policies_in_memory()
            results = run_cases(cases, plan_status=options["plan_status"])
        except DatabaseError as exc:
            raise CommandError(f"数据库不可用：{exc}（请检查数据库连接设置 DATABASE_URL 与数据库服务）") from exc
        failed = sum(1 for r in results if not r.get("ok"))
        self.stdout.write(json.dumps(results, ensure_ascii=False, indent=1))
        self.stderr.write(f"完成：{len(results) - failed} 个成功，{failed} 个未能计算")
        if had_internal_error(results):
            raise CommandError("有案例因试算程序内部错误未能计算（见上方错误信息），请报告系统管理员", returncode=1)


def has_plan_years() -> bool:
    """Whether the default database holds a plan year; False without opening it when it is
    a SQLite file that does not exist (opening would create it)."""
    from policies.models import PlanYear

    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "sqlite" and not connection.creation.is_in_memory_db(connection.settings_dict["NAME"]) \
            and not os.path.exists(connection.settings_dict["NAME"]):
        return False
    if PlanYear._meta.db_table not in connection.introspection.table_names():
        return False
    return PlanYear.objects.exists()


def use_seed_policies_in_memory() -> None:
    """Point the default alias, for the rest of this process, at a new SQLite database in
    memory holding the schema and the seed policies (``migrate``, ``load_policies``)."""
    connections[DEFAULT_DB_ALIAS].close()
    connections.settings[DEFAULT_DB_ALIAS] = connections.configure_settings(
        {DEFAULT_DB_ALIAS: {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})[DEFAULT_DB_ALIAS]
    del connections[DEFAULT_DB_ALIAS]
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_policies", verbosity=0, stdout=io.StringIO(), stderr=io.StringIO())
