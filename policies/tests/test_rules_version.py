"""``PlanYear.rules_version`` (policies/rules_version.py): every write of a rule row, of a
chronic disease or of a special identity gives the plan years whose parameters read it a
new version, in the same transaction, whichever way the row is written — the key of the
settlement parameter cache (``policies.selectors.region_year_params``)."""
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Case, F, Value, When

from policies import models as pm
from policies import rules_version

pytestmark = pytest.mark.django_db


def versions() -> dict[int, object]:
    return dict(pm.PlanYear.objects.values_list("pk", "rules_version"))


def changed(before: dict, after: dict) -> set[int]:
    return {pk for pk, version in after.items() if before.get(pk) != version}


def test_every_rule_table_has_its_trigger(loaded_policies):
    expected = rules_version.trigger_names(connection.vendor)
    assert len(expected) >= len(pm.RULE_MODELS) + 2
    assert expected <= rules_version.installed()


def test_install_is_idempotent(loaded_policies):
    rules_version.install()
    rules_version.install()
    assert rules_version.trigger_names(connection.vendor) <= rules_version.installed()


def _a_benefit_rule() -> pm.BenefitRule:
    return pm.BenefitRule.objects.select_related("plan_year").order_by("pk").first()


@pytest.mark.parametrize("how", ["save", "update", "sql", "delete", "create"])
def test_a_rule_row_write_changes_its_plan_year_only(loaded_policies, how):
    row = _a_benefit_rule()
    before = versions()
    if how == "save":
        row.ratio = Decimal("1")
        row.save()
    elif how == "update":
        pm.BenefitRule.objects.filter(pk=row.pk).update(ratio=Decimal("1"))
    elif how == "sql":
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {pm.BenefitRule._meta.db_table} SET ratio = 1 WHERE id = %s", [row.pk])
    elif how == "delete":
        pm.PlanFigure.objects.filter(plan_year=row.plan_year).delete()
    else:
        pm.PlanFigure.objects.create(plan_year=row.plan_year, code="bench_probe", value=Decimal("1"))
    assert changed(before, versions()) == {row.plan_year_id}


def test_a_row_moved_to_another_plan_year_changes_both(loaded_policies):
    row = _a_benefit_rule()
    other = pm.PlanYear.objects.exclude(pk=row.plan_year_id).order_by("pk").first()
    before = versions()
    pm.BenefitRule.objects.filter(pk=row.pk).update(plan_year=other)
    assert changed(before, versions()) == {row.plan_year_id, other.pk}


def test_a_disease_changes_its_regions_plan_years_and_an_identity_all(loaded_policies):
    disease = pm.ChronicDisease.objects.select_related("region").order_by("pk").first()
    of_region = set(pm.PlanYear.objects.filter(scheme__region=disease.region).values_list("pk", flat=True))
    before = versions()
    pm.ChronicDisease.objects.filter(pk=disease.pk).update(name="改名")
    assert changed(before, versions()) == of_region
    before = versions()
    pm.Identity.objects.filter(pk=pm.Identity.objects.order_by("pk").first().pk).update(name="改名")
    assert changed(before, versions()) == set(before)


def test_a_plan_years_own_save_keeps_no_stale_version(loaded_policies):
    """A stale instance saved after a rule row changed must not put the old version back:
    any update of the plan year's row gets a new one."""
    row = _a_benefit_rule()
    stale = pm.PlanYear.objects.get(pk=row.plan_year_id)
    pm.BenefitRule.objects.filter(pk=row.pk).update(ratio=Decimal("1"))
    bumped = pm.PlanYear.objects.get(pk=stale.pk).rules_version
    stale.note = "改说明"
    stale.save()
    assert pm.PlanYear.objects.get(pk=stale.pk).rules_version not in (stale.rules_version, bumped)


def test_a_save_that_changes_nothing_keeps_every_version(loaded_policies):
    """A page saved unchanged changes nothing (the round-trip rule): neither the plan year's
    own row nor a rule row saved with the values it holds gives a new version."""
    rule = _a_benefit_rule()
    before = versions()
    pm.PlanYear.objects.get(pk=rule.plan_year_id).save()
    pm.BenefitRule.objects.get(pk=rule.pk).save()
    assert changed(before, versions()) == set()
    pm.PlanYear.objects.filter(pk=rule.plan_year_id).update(year=rule.plan_year.year)
    assert changed(before, versions()) == set()


def test_one_statement_on_many_rows_changes_each_plan_year_it_touches(loaded_policies):
    """A statement writing rows of several plan years (``load_policies``, a rollover, a
    rule-sheet import) changes each of them, and only the rows it changed count."""
    a, b = pm.PlanYear.objects.order_by("pk")[:2]
    before = versions()
    pm.PlanFigure.objects.bulk_create([pm.PlanFigure(plan_year=py, code=f"bench_probe_{py.pk}", value=Decimal("1"))
                                       for py in (a, b)])
    assert changed(before, versions()) == {a.pk, b.pk}
    before = versions()
    pm.PlanFigure.objects.filter(plan_year__in=(a, b)).update(
        value=Case(When(plan_year=b, code=f"bench_probe_{b.pk}", then=Value(Decimal("2"))), default=F("value")))
    assert changed(before, versions()) == {b.pk}
    before = versions()
    pm.PlanFigure.objects.filter(code__startswith="bench_probe_").delete()
    assert changed(before, versions()) == {a.pk, b.pk}


def test_a_statement_without_rows_changes_nothing(loaded_policies):
    before = versions()
    with connection.cursor() as cursor:
        for model in (pm.Identity, pm.ChronicDisease, pm.BenefitRule):
            cursor.execute(f"UPDATE {model._meta.db_table} SET id = id WHERE id < 0")
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE id < 0")
    assert changed(before, versions()) == set()
