"""System checks keeping schemes, engine modules and plan years in step, and the
registries refusing duplicates (claims/system_checks.py, insurance_rules/registry.py,
sheets/registry.py)."""
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from claims import system_checks
from insurance_rules import registry
from insurance_rules.registry import DuplicateRegistration, formula, given_handler
from policies import models as pm
from sheets.registry import DuplicateKind, SheetKind, register


def ids(errors):
    return sorted(e.id for e in errors)


def test_the_shipped_code_passes():
    assert system_checks.check_formula_registry() == []


def test_a_formula_offered_but_not_implemented(monkeypatch):
    monkeypatch.setattr(system_checks, "FORMULA_CHOICES",
                        [*system_checks.FORMULA_CHOICES, ("no_such_family", "未实现的规则族")])
    [error] = system_checks.check_formula_registry()
    assert error.id == "claims.E001" and "未实现的规则族" in error.msg


def test_a_formula_declaring_an_unknown_table(monkeypatch):
    monkeypatch.setitem(registry.FORMULA_NEEDS, "given_only", ("applicable", "no_such_table"))
    [error] = system_checks.check_formula_registry()
    assert error.id == "claims.E001" and "no_such_table" in error.msg


def test_a_given_hook_for_a_missing_formula(monkeypatch):
    monkeypatch.setitem(registry.GIVEN_HANDLERS, "no_such_family", lambda ctx, given: None)
    assert ids(system_checks.check_formula_registry()) == ["claims.E002"]


def test_a_second_module_registering_a_formula_is_refused():
    def other(ctx):
        return None

    with pytest.raises(DuplicateRegistration, match="chongqing_resident"):
        formula("chongqing_resident")(other)
    with pytest.raises(DuplicateRegistration, match="changzhi_employee_large"):
        given_handler("changzhi_employee_large")(other)
    # the same definition registered again (a module imported twice) is not a duplicate
    existing = registry.FORMULAS["given_only"]
    assert formula("given_only", needs=registry.FORMULA_NEEDS["given_only"])(existing) is existing
    assert registry.FORMULAS["chongqing_resident"].__module__.endswith("dianjiang")


def test_a_second_sheet_kind_under_a_taken_name_is_refused():
    class Persons(SheetKind):
        name = "persons"

    with pytest.raises(DuplicateKind, match="persons"):
        register(Persons)


@pytest.mark.django_db
def test_the_seed_plan_years_pass(loaded_policies):
    assert system_checks.check_plan_years(databases=["default"]) == []
    assert system_checks.check_plan_years(databases=None) == []  # only with --database
    call_command("check", "--database", "default", verbosity=0)


@pytest.mark.django_db
def test_a_scheme_naming_an_unimplemented_formula(loaded_policies):
    pm.Scheme.objects.filter(region__code="371500", kind="inclusive_commercial").update(formula="gone")
    [error] = system_checks.check_plan_years(databases=["default"])
    assert error.id == "claims.E003" and "gone" in error.msg


@pytest.mark.django_db
def test_a_plan_year_lacking_a_needed_rule_table(loaded_policies):
    py = pm.PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic", year=2024)
    pm.BenefitRule.objects.filter(plan_year=py).delete()
    [error] = system_checks.check_plan_years(databases=["default"])
    assert error.id == "claims.E004"
    assert pm.BenefitRule._meta.verbose_name in error.msg and error.obj == py
    with pytest.raises(SystemCheckError, match="claims.E004"):
        call_command("check", "--database", "default", verbosity=0)
    pm.PlanYear.objects.filter(pk=py.pk).update(status=pm.PlanYear.Status.DRAFT)
    assert ids(system_checks.check_plan_years(databases=["default"])) == ["claims.W004"]
