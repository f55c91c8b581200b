"""``manage.py export_sheet KIND FILE [--region CODE] [--year YYYY] [--user USERNAME]
[--template]``: export a kind to .xlsx/.csv (scoped to the user's regions, ID numbers
masked unless the user may see them; without --user a system export with full values),
or write the kind's empty import template (docs/spreadsheets.md). An export is an entry of
the 审计日志 (导出: who — the --user, else the OS user —, kind, region, year, rows, file)."""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from audit.models import Action
from audit.services import audit_command, audit_record
from jobs.management.acting_user import find_user
from jobs.scope import current_scope
from sheets.exporting import run_export
from sheets.registry import get_kind, kind_names
from sheets.writers import write_template

from .import_sheet import Progress


class Command(BaseCommand):
    help = "导出表格，或生成空白导入模板（--template）"

    def add_arguments(self, parser):
        parser.add_argument("kind", help="表格类型，如 persons、payments")
        parser.add_argument("file", help="输出文件（.xlsx 或 .csv）")
        parser.add_argument("--region", help="只导出该统筹区（含下级区域）的数据：行政区划代码")
        parser.add_argument("--year", type=int, help="只导出该参保年度的数据")
        parser.add_argument("--user", help="以该用户身份导出（负责的统筹区、证件号码脱敏）")
        parser.add_argument("--template", action="store_true", help="生成空白导入模板")

    def handle(self, *args, kind, file, region, year, user, template, **options):
        try:
            sheet_kind = get_kind(kind)
        except KeyError as exc:
            raise CommandError(f"{exc.args[0]}（已注册：{'、'.join(kind_names())}）") from None
        if not file.lower().endswith((".xlsx", ".csv")):
            raise CommandError("输出文件须以 .xlsx 或 .csv 结尾")
        if template:
            write_template(sheet_kind, file)
            self.stdout.write(f"已生成{sheet_kind.label}导入模板：{file}")
            return
        region_obj = None
        if region:
            region_obj = current_scope().region(region)
            if region_obj is None:
                raise CommandError(f"未知的统筹区代码：{region}")
        acting_user = find_user(user)
        progress = Progress(sys.stderr)
        try:
            count = run_export(sheet_kind, file, user=acting_user, region=region_obj, year=year,
                               progress=progress)
        finally:
            progress.done()
        with audit_command("命令行导出表格"):
            audit_record(action=Action.EXPORT, user=acting_user, obj=sheet_kind.label, details={
                "kind": sheet_kind.label, "region": region_obj.name if region_obj is not None else "",
                "year": year, "rows": count, "file": file})
        self.stdout.write(f"已导出{sheet_kind.label} {count} 行：{file}")
