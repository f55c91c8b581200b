"""Settlement without re-reading what it already knows (issue 17): the plan parameters
are built once per process and plan year and dropped as soon as a rule row of the plan
year changes, however it is written (``PlanYear.rules_version``, policies/rules_version.py);
one settlement stays within a bounded number of SQL queries."""
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from claims import services
from claims.models import ClaimLayer
from policies import models as pm
from policies import selectors as policy_selectors

from .factories import dianjiang_person, outpatient

pytestmark = pytest.mark.django_db


def basic_line(claim) -> ClaimLayer:
    return ClaimLayer.objects.get(claim=claim, is_current=True, scheme_kind="resident_basic")


def benefit_row(claim) -> pm.BenefitRule:
    [ref] = [r for r in basic_line(claim).param_refs if r["table"] == "BenefitRule"]
    return pm.BenefitRule.objects.get(pk=ref["id"])


def change_ratio(row: pm.BenefitRule, how: str, ratio: Decimal) -> None:
    if how == "save":
        row.ratio = ratio
        row.save()
    elif how == "update":  # no signal: only the database sees it
        pm.BenefitRule.objects.filter(pk=row.pk).update(ratio=ratio)
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {pm.BenefitRule._meta.db_table} SET ratio = %s WHERE id = %s",
                           [ratio, row.pk])


@pytest.mark.parametrize("how", ["save", "update", "sql"])
def test_a_changed_rule_row_changes_the_next_settlement(loaded_policies, how):
    first = services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "100"), acting_user=None)
    assert basic_line(first).paid == Decimal("60.00")  # 100 × 60 %, parameters now cached
    change_ratio(benefit_row(first), how, Decimal("50"))
    second = services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "100"), acting_user=None)
    assert basic_line(second).paid == Decimal("50.00")
    assert benefit_row(second).pk == benefit_row(first).pk


def test_a_rolled_back_change_is_not_served_from_the_cache(loaded_policies):
    """A version written and rolled back is never met again (random, not a counter)."""
    from django.db import transaction

    first = services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "100"), acting_user=None)
    row = benefit_row(first)
    with pytest.raises(RuntimeError), transaction.atomic():
        change_ratio(row, "update", Decimal("50"))
        inside = services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "100"), acting_user=None)
        assert basic_line(inside).paid == Decimal("50.00")  # cached under the new version
        raise RuntimeError
    change_ratio(row, "update", Decimal("40"))
    after = services.claim_settle(claim=outpatient(dianjiang_person(tier=1), "100"), acting_user=None)
    assert basic_line(after).paid == Decimal("40.00")


def test_parameters_are_built_once_per_plan_year(loaded_policies, monkeypatch):
    person = dianjiang_person(tier=1)
    services.claim_settle(claim=outpatient(person, "100"), acting_user=None)
    built = []
    real = policy_selectors.build_params
    monkeypatch.setattr(policy_selectors, "build_params", lambda *a, **k: built.append(1) or real(*a, **k))
    services.claim_settle(claim=outpatient(person, "100", day=date(2024, 4, 1)), acting_user=None)
    assert built == []
    pm.PlanYear.objects.filter(scheme__region__code="500231", year=2024,
                               scheme__kind="resident_basic").update(note="改说明")
    services.claim_settle(claim=outpatient(person, "100", day=date(2024, 5, 1)), acting_user=None)
    assert built == [1]


# the person's lock and the claim; the schemes and plan years (the parameters cached);
# the history, carried-in layers, enrollments, suspensions, pre-existing groups,
# identities, registrations; the result lines; the claim and its history row; the audit
# entry and its chain — and the savepoints. Was 101 before issue 17.
MAX_QUERIES = 24


def test_one_settlement_stays_within_its_queries(loaded_policies, django_assert_max_num_queries):
    person = dianjiang_person(tier=1)
    services.claim_settle(claim=outpatient(person, "100"), acting_user=None)  # the cache is warm
    claim = outpatient(person, "200", day=date(2024, 4, 1))  # with a year-to-date history
    with django_assert_max_num_queries(MAX_QUERIES):
        services.claim_settle(claim=claim, acting_user=None)
    assert basic_line(claim).paid == Decimal("120.00")
