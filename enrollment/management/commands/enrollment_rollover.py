"""``manage.py enrollment_rollover --region 350400 --scheme inclusive_commercial --year 2024``:
automatic renewal (三明 自动续保, 乐山 个人账户代扣) into the next plan year through
``enrollment.services.enrollment_rollover`` (docs/enrollment.md)."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from enrollment import selectors, services
from insurance_rules.errors import CaseError


class Command(BaseCommand):
    help = "为同意自动续保（或个人账户自动代扣）的参保人登记下一年度参保（待缴费）"

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="统筹区代码，如 350400")
        parser.add_argument("--scheme", required=True, help="险种类别代码，如 inclusive_commercial")
        parser.add_argument("--year", required=True, type=int, help="源年度，如 2024")

    def handle(self, *args, region, scheme, year, **options):
        try:
            pooling = selectors.pooling_region(region)
            plan_year = selectors.plan_year_of(selectors.region_scheme(pooling, scheme), year)
            result = services.enrollment_rollover(plan_year=plan_year, acting_user=None)
        except CaseError as exc:
            raise CommandError(exc.message) from exc
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"已登记 {len(result['created'])} 人的 {year + 1} 年度参保（待缴费）")
        for enrollment, reason in result["skipped"]:
            self.stdout.write(f"未续保：{enrollment.person.name}（{reason}）")
