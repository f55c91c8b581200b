"""``manage.py import_plan_year FILE.xlsx --region CODE --kind KIND --year YYYY [--dry-run]
[--user NAME]``: import a plan-year workbook into a draft plan year, all-or-nothing
(docs/policy-sheets.md). Exit code 0 when imported (with --dry-run: would be), 1 when
anything is wrong — nothing written, every error printed to stderr."""
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_command
from jobs.management.acting_user import find_user
from policies.codes import SchemeKind
from policies.rollover import find_plan_year
from policies.services import plan_year_import_sheets


class Command(BaseCommand):
    help = "导入年度方案参数表（.xlsx）到草稿年度方案：全部校验通过才写入，按自然键新增或更新"

    def add_arguments(self, parser):
        parser.add_argument("file", help="参数表 .xlsx 文件（export_plan_year 或后台“导出参数表”的格式）")
        parser.add_argument("--region", required=True, metavar="CODE", help="统筹区行政区划代码")
        parser.add_argument("--kind", required=True, choices=SchemeKind.values, help="险种类别代码")
        parser.add_argument("--year", required=True, type=int, help="年度（须为草稿年度方案）")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--user", help="以该用户身份导入（检查修改权限和负责的统筹区，记入历史）")

    def handle(self, *args, file, region, kind, year, dry_run, user, verbosity=1, **options):
        if not Path(file).is_file():
            raise CommandError(f"文件不存在：{file}")
        plan_year = find_plan_year(region, kind, year)
        if plan_year is None:
            raise CommandError(f"找不到年度方案：统筹区 {region}，险种 {kind}，{year} 年度")
        try:
            with audit_command("命令行导入参数表"):  # the service's 导入 entry names the command
                result = plan_year_import_sheets(plan_year=plan_year, path=file, acting_user=find_user(user),
                                                 dry_run=dry_run)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(result.summary())
        if verbosity >= 1:
            for line in result.lines():
                self.stdout.write(line)
