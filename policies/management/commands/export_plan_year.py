"""``manage.py export_plan_year FILE.xlsx --region CODE --kind KIND --year YYYY [--user NAME]``:
write a plan year's parameters as one workbook, one sheet per rule table
(docs/policy-sheets.md). ``--user`` limits the export to that user's regions. The export is
an entry of the 审计日志 (导出, as the admin's 导出参数表; who: the --user, else the OS user)."""
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from audit.models import Action
from audit.services import audit_command, audit_record
from jobs.management.acting_user import find_user
from policies.codes import SchemeKind
from policies.resources import write_plan_year_workbook
from policies.rollover import find_plan_year


class Command(BaseCommand):
    help = "导出年度方案参数表（.xlsx，每张规则表一个工作表）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="输出的 .xlsx 文件")
        parser.add_argument("--region", required=True, metavar="CODE", help="统筹区行政区划代码")
        parser.add_argument("--kind", required=True, choices=SchemeKind.values, help="险种类别代码")
        parser.add_argument("--year", required=True, type=int, help="年度")
        parser.add_argument("--user", help="以该用户身份导出（检查查看权限和负责的统筹区）")

    def handle(self, *args, file, region, kind, year, user, verbosity=1, **options):
        if not file.lower().endswith(".xlsx"):
            raise CommandError("参数表只能导出为 .xlsx 文件")
        plan_year = find_plan_year(region, kind, year)
        if plan_year is None:
            raise CommandError(f"找不到年度方案：统筹区 {region}，险种 {kind}，{year} 年度")
        acting_user = find_user(user)
        try:
            counts = write_plan_year_workbook(plan_year, file, user=acting_user)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        with audit_command("命令行导出参数表"):
            audit_record(action=Action.EXPORT, user=acting_user, obj=plan_year,
                         details={"file": file, "rows": sum(counts.values())})
        if verbosity >= 1:
            self.stdout.write(f"已导出 {plan_year} 的参数表到 {file}：{len(counts)} 张表，"
                              f"共 {sum(counts.values())} 行")
