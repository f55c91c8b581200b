"""Fixtures of the enrollment/contribution database tests: the seed systems' policy rows
(``loaded_policies`` = ``load_policies``, including the payer-relation and
auto-enrollment rows) and persons with valid ID numbers. Import the fixtures into a test
module to use them."""
from __future__ import annotations

from datetime import date
from itertools import count

import pytest

from enrollment import services
from enrollment.documents import make_id_number
from policies.models import PlanYear, Region

_seq = count(1)


@pytest.fixture
def contribution_rows(loaded_policies):
    """The 2024 rows of the five systems (windows, standards, subsidies, figures, payer
    relations, auto-enrollment rules)."""
    from policies.models import AutoEnrollmentRule, PayerRelationRule

    assert PayerRelationRule.objects.exists() and AutoEnrollmentRule.objects.exists()


def plan_year(region: str, kind: str, year: int = 2024) -> PlanYear:
    return PlanYear.objects.select_related("scheme__region").get(
        scheme__region__code=region, scheme__kind=kind, year=year)


def new_person(*, birth: date = date(1980, 6, 15), category: str = "resident",
               region: str | None = "500231", area: str = "500231", name: str | None = None,
               acting_user=None, **fields):
    """A person with a fresh valid 18-digit ID number (sequence odd → male)."""
    seq = next(_seq) * 2 + 1
    region_obj = Region.objects.get(code=region) if region else None
    return services.person_create(
        acting_user=acting_user, document_number=make_id_number(area, birth, seq % 1000),
        name=name or f"测试{seq}", category=category, hukou_region=region_obj,
        residence_region=region_obj, **fields)
