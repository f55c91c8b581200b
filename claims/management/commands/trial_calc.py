"""``python manage.py trial_calc CASES.json [--plan-status draft]`` (spec trial-calc.md).

Reads the cases from a file or standard input (``-``), prints one JSON array of results
on standard output and nothing else (logs go to standard error). Exit status 0 when
every case was read (a case may still answer ``"ok": false``), 2 when the input is not
valid JSON or not an array of objects, 1 when the database is not usable (not migrated)
or a case hit a programming error (``internal_error``: every result is still printed, the
trace goes to standard error). Nothing is written to the database.
"""
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

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
            results = run_cases(cases, plan_status=options["plan_status"])
        except DatabaseError as exc:
            raise CommandError(f"数据库不可用：{exc}（请先运行 manage.py migrate 与 load_policies）") from exc
        failed = sum(1 for r in results if not r.get("ok"))
        self.stdout.write(json.dumps(results, ensure_ascii=False, indent=1))
        self.stderr.write(f"完成：{len(results) - failed} 个成功，{failed} 个未能计算")
        if had_internal_error(results):
            raise CommandError("有案例因试算程序内部错误未能计算（见上方错误信息），请报告系统管理员", returncode=1)
