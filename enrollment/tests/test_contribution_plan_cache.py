"""``contribution_plan`` is built once per process and plan year and rebuilt when a row
it was built from changes (enrollment/selectors/enrollments.py, policies.rules_version)."""
from decimal import Decimal

import pytest

from enrollment.selectors.enrollments import contribution_plan
from policies.models import PlanFigure, PlanYear

pytestmark = pytest.mark.django_db


def plan_year(region: str, kind: str) -> PlanYear:
    return PlanYear.objects.select_related("scheme__region").get(
        scheme__region__code=region, scheme__kind=kind, year=2024)


def test_reused_while_nothing_changed(loaded_policies, django_assert_num_queries):
    py = plan_year("500231", "resident_basic")
    first = contribution_plan(py)
    assert first.standards and first.windows  # built from rows: the test compares something
    with django_assert_num_queries(1):  # the plan year's rules_version, no rule table read
        again = contribution_plan(py)
    assert again is first


def test_a_rule_row_write_is_seen_even_through_an_old_plan_year_object(loaded_policies):
    py = plan_year("500231", "resident_basic")
    before = contribution_plan(py)
    standard = before.standards[0]
    code = PlanFigure.Code.STATED_EXPENSES
    assert before.figure(code) is None
    figure = PlanFigure.objects.create(plan_year=py, code=code, value=Decimal("1"))
    after = contribution_plan(py)  # ``py`` read before the write
    assert after is not before and after.figure(code).value == Decimal("1")
    assert after.standards[0] == standard
    PlanFigure.objects.filter(pk=figure.pk).update(value=Decimal("2"))  # no signal: the trigger
    assert contribution_plan(py).figure(code).value == Decimal("2")
    figure.delete()
    assert contribution_plan(py).figure(code) is None


def test_the_given_objects_fields_are_part_of_the_key(loaded_policies):
    py = plan_year("500231", "resident_basic")
    active = contribution_plan(py)
    draft_view = PlanYear.objects.select_related("scheme__region").get(pk=py.pk)
    draft_view.status = PlanYear.Status.DRAFT  # not saved: the caller's object says draft
    assert contribution_plan(draft_view).status == PlanYear.Status.DRAFT
    assert contribution_plan(py) == active
