"""``python manage.py rollover_plan_year --region CODE --kind KIND --from 2024 --to 2025``:
copy a plan year with all its rows into a new draft (spec README §5)."""
from django.core.management.base import BaseCommand, CommandError

from policies.codes import SchemeKind
from policies.rollover import row_counts
from policies.services import PlanYearRolloverError, plan_year_rollover


class Command(BaseCommand):
    help = "将某险种的年度方案（含全部规则行）结转为新年度的草稿方案，日期字段按年度差顺延"

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, metavar="CODE", help="统筹区行政区划代码")
        parser.add_argument("--kind", required=True, choices=SchemeKind.values, help="险种类别代码")
        parser.add_argument("--from", dest="from_year", required=True, type=int, help="来源年度")
        parser.add_argument("--to", dest="to_year", required=True, type=int, help="目标年度")

    def handle(self, *args, region, kind, from_year, to_year, verbosity=1, **options):
        try:
            plan_year = plan_year_rollover(region_code=region, kind=kind, from_year=from_year,
                                           to_year=to_year)
        except PlanYearRolloverError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        if verbosity < 1:
            return
        scheme = plan_year.scheme
        self.stdout.write(f"已将 {scheme.region.name} {scheme.name} {from_year} 年度方案结转为 "
                          f"{to_year} 年度（{plan_year.get_status_display()}），日期字段顺延 "
                          f"{to_year - from_year} 年：")
        total = 0
        for model, n in row_counts(plan_year).items():
            if n:
                self.stdout.write(f"  {model._meta.verbose_name}（{model.__name__}）：{n} 行")
                total += n
        self.stdout.write(f"合计复制 {total} 行")
