"""``python manage.py refresh_dashboard [--region CODE] [--year YEAR]``

Recomputes the dashboard's summary tables (docs/reports.md §汇总表) from the payments,
enrollments and claims: every plan year, or those of one pooling region and/or year. The
same as the nightly job ``dashboard_refresh``; run it after loading data outside the
services (SQL, COPY) or to check the figures by hand.
"""
import time

from django.core.management.base import BaseCommand, CommandError

from policies.models import PlanYear, Region
from reports.services import dashboard_refresh


class Command(BaseCommand):
    help = "刷新统计报表汇总表（首页统计报表读取的各年度方案汇总数）"

    def add_arguments(self, parser):
        parser.add_argument("--region", help="统筹区代码，如 500231（默认全部）")
        parser.add_argument("--year", type=int, help="年度（默认全部）")

    def handle(self, *args, **options):
        start = time.perf_counter()
        if options["region"] is None and options["year"] is None:
            count = dashboard_refresh()
        else:
            plan_years = PlanYear.objects.all()
            if options["region"]:
                region = Region.objects.filter(code=options["region"]).first()
                if region is None:
                    raise CommandError(f"找不到统筹区：{options['region']}")
                plan_years = plan_years.filter(scheme__region=region)
            if options["year"]:
                plan_years = plan_years.filter(year=options["year"])
            count = dashboard_refresh(plan_year_ids=list(plan_years.values_list("pk", flat=True)))
        self.stdout.write(f"已刷新 {count} 个年度方案的统计报表汇总（{time.perf_counter() - start:.1f} 秒）")
