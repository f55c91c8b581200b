"""Demo plan years of the current year for ``manage.py load_demo`` (first hook of
``DEMO_LOADERS``).

The seed systems ship as 2024 plan years; the demo lives in the current year (the
calendar year of today in Asia/Shanghai, ``timezone.localdate()``). For every scheme
with a seed plan year and no plan year of the current year, the seed year is rolled
over with the policy officers' own service (``plan_year_rollover``: every rule row
copied, dates shifted by the difference in years), marked ``is_demo`` (shown as 演示数据
in the admin) and activated through ``plan_year_set_status``. The dates written in the
windows' names and notes (“2024 年度集中参保期（截至 2023-12-31）”) move with them
(``policies.rollover.shift_text``). A plan year
of the current year that already exists — loaded, rolled over or entered by a policy
officer — is left as it is (idempotent). Next year's plan years are rolled over the same
way, so that next year's 集中缴费期 (open in the last months of the year) can be recorded.
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import PlanYear, Scheme
from .plan_status import plan_year_set_status
from .services import plan_year_rollover

SEED_YEAR = 2024


def current_year() -> int:
    return timezone.localdate().year


@transaction.atomic
def current_plan_years(*, acting_user, year: int | None = None, from_year: int = SEED_YEAR) -> list[PlanYear]:
    """Roll every scheme's ``from_year`` plan year over to ``year`` (default: the current
    year) where that year has none; returns the plan years created (active, demo)."""
    year = year or current_year()
    created = []
    if year == from_year:
        return created
    schemes = (Scheme.objects.filter(plan_years__year=from_year).exclude(plan_years__year=year)
               .select_related("region").distinct().order_by("region__code", "settlement_order"))
    for scheme in schemes:
        plan_year = plan_year_rollover(region_code=scheme.region.code, kind=scheme.kind,
                                       from_year=from_year, to_year=year, acting_user=acting_user)
        plan_year.is_demo = True
        plan_year.note = (f"演示数据：由 {from_year} 年度种子方案结转生成并生效，仅用于演示和培训。\n"
                          f"{plan_year.note}")
        plan_year._history_user = acting_user
        plan_year.save(update_fields=["is_demo", "note"])
        created.append(plan_year_set_status(plan_year=plan_year, status=PlanYear.Status.ACTIVE,
                                            acting_user=acting_user))
    return created


def load(*, acting_user, stdout, **options):
    """The current year's plan years, and next year's: in the last months of a year the
    bureau already collects next year's contributions (集中缴费期), so a clerk records
    them today."""
    year = current_year()
    for target in (year, year + 1):
        created = current_plan_years(acting_user=acting_user, year=target)
        total = PlanYear.objects.filter(year=target, status=PlanYear.Status.ACTIVE).count()
        stdout.write(f"{target} 年度方案：本次结转生成并生效 {len(created)} 个（演示数据），"
                     f"生效中的 {target} 年度方案共 {total} 个")
