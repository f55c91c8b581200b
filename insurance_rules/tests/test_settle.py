"""The layer pipeline (insurance_rules.settle, spec README §4): coverage, applicability,
given layers, missing rules, bounds."""
from dataclasses import replace

import pytest

from insurance_rules.errors import InvalidInput, MissingRule
from insurance_rules.params import ChronicRule, Disease
from insurance_rules.registry import formula
from insurance_rules.results import ItemResult, LayerResult
from insurance_rules.settle import settle_claim

from .builders import (
    D,
    applicable,
    claim,
    coverage,
    dianjiang_plans,
    leshan_plans,
    person,
    plan,
    sanming_plans,
)


def settle(plans, coverages, c, who=None, history=()):
    return settle_claim(plans=plans, person=who or person(), coverages=coverages, claim=c, history=history)


DJ = dianjiang_plans()
DJ_COV = [coverage("resident_basic", tier=1), coverage("critical_illness")]


def test_layers_in_settlement_order_only_for_held_schemes():
    s = settle(DJ, [coverage("resident_basic", tier=1)], claim(total=30000))
    assert [lr.scheme for lr in s.layers] == ["resident_basic"]
    s = settle(DJ, list(reversed(DJ_COV)), claim(total=30000))
    assert [lr.scheme for lr in s.layers] == ["resident_basic", "critical_illness"]
    assert s.fund_total == D("14600.00")


@pytest.mark.parametrize("cov", [
    coverage("resident_basic", tier=1, start="2024-06-01"),
    coverage("resident_basic", tier=1, end="2024-05-09"),
    coverage("resident_basic", tier=1, suspended=[("2024-05-01", "2024-05-31")]),
])
def test_not_covered_on_the_service_date(cov):
    s = settle(DJ, [cov], claim(day="2024-05-10", total=30000))
    lr = s.layer("resident_basic")
    assert (lr.paid, lr.reason) == (D("0"), "not_covered")


def test_suspension_that_ended_before_the_date_does_not_matter():
    cov = coverage("resident_basic", tier=1, suspended=[("2024-03-01", "2024-05-09")])
    assert settle(DJ, [cov], claim(total=30000)).layer("resident_basic").paid == D("14600.00")


def test_not_applicable_claim_type():
    s = settle(DJ, DJ_COV, claim("outpatient", total=100))
    lr = s.layer("critical_illness")
    assert (lr.paid, lr.reason) == (D("0"), "not_applicable")


SM = sanming_plans()
SM_COV = [coverage("resident_basic"), coverage("critical_illness"), coverage("inclusive_commercial")]
SM_GIVEN = {"resident_basic": ("30000",), "critical_illness": ("5000",)}


def test_supplementary_needs_basic_insurance_in_the_region():
    c = claim(day="2024-07-01", total=60000, ooc=10000, given=SM_GIVEN)
    assert settle(SM, SM_COV, c).layer("inclusive_commercial").paid == D("20000.00")
    lr = settle(SM, SM_COV, c, who=person(basic=False)).layer("inclusive_commercial")
    assert (lr.paid, lr.reason) == (D("0"), "not_covered")


def test_supplementary_not_covered_while_basic_is_suspended():
    covs = [coverage("resident_basic", suspended=[("2024-06-01", "2024-07-31")]),
            coverage("inclusive_commercial")]
    c = claim(day="2024-07-01", total=60000, given={"resident_basic": ("0",)})
    s = settle(SM, covs, c)
    assert [lr.reason for lr in s.layers] == ["not_covered", "not_covered"]


def test_given_layer_is_taken_as_given():
    c = claim(total=50000, given={"employee_basic": ("38000", "1000", "500")})
    s = settle(leshan_plans(), [coverage("employee_basic")], c, who=person(category="employee_active"))
    lr = s.layer("employee_basic")
    assert lr.given and lr.paid == D("38000.00") and lr.deductible == D("1000")
    assert lr.extra_value("over_cap") == D("500")


def test_given_paid_above_total_is_invalid():
    c = claim(total=100, given={"employee_basic": ("200",)})
    with pytest.raises(InvalidInput, match="given.employee_basic.paid"):
        settle(leshan_plans(), [coverage("employee_basic")], c)


def test_given_for_a_scheme_the_person_does_not_hold_is_invalid():
    c = claim(total=100, given={"employee_supplementary": ("10",)})
    with pytest.raises(InvalidInput, match="employee_supplementary"):
        settle(leshan_plans(), [coverage("employee_basic")], c)


def test_missing_rule_for_a_given_only_layer_without_input():
    c = claim(total=50000)
    covs = [coverage("employee_basic"), coverage("employee_supplementary")]
    with pytest.raises(MissingRule) as err:
        settle(leshan_plans(), covs, c)
    assert "employee_basic" in err.value.message and "2024" in err.value.message


def test_missing_rule_when_no_plan_year():
    plans = {"resident_basic": None}
    with pytest.raises(MissingRule, match="城乡居民基本医疗保险没有 2024 年度方案"):
        settle(plans, [coverage("resident_basic")], claim(total=100))
    # a given result still settles it
    s = settle(plans, [coverage("resident_basic")], claim(total=100, given={"resident_basic": ("50",)}))
    assert s.layer("resident_basic").paid == D("50.00")


def test_missing_rule_when_the_row_says_rules_not_in_seed():
    p = replace(DJ["resident_basic"], applicable=(applicable("inpatient", rules_in_seed=False),))
    with pytest.raises(MissingRule, match="住院的本层结算规则未录入"):
        settle({"resident_basic": p}, [coverage("resident_basic", tier=1)], claim(total=100))


def test_missing_rule_for_an_unimplemented_formula():
    p = plan("resident_basic", "no_such_formula", applicable=[applicable("inpatient")])
    with pytest.raises(MissingRule, match="no_such_formula"):
        settle({"resident_basic": p}, [coverage("resident_basic")], claim(total=100))


def test_missing_rule_names_the_missing_row():
    p = replace(DJ["resident_basic"], benefits=())
    with pytest.raises(MissingRule, match="待遇标准"):
        settle({"resident_basic": p}, [coverage("resident_basic", tier=1)], claim(total=100))


def _chronic(code, cls):
    d = Disease(id=1, code=code, name=code, kind="chronic", disease_class=cls, closed_from=None,
                excluded_by=None)
    return ChronicRule(id=2, disease=d, monthly_limit=None, ratio=D(85), deductible=D(0), shares_pool="")


def test_chronic_class_and_special_b_only_restrict_applicability():
    large = plan("employee_large", "given_only", applicable=[applicable("inpatient"),
                                                             applicable("chronic_outpatient", chronic_class=1)])
    basic = plan("employee_basic", "given_only", chronic=[_chronic("CZ01", 1), _chronic("CZ18", 2)],
                 applicable=[applicable("chronic_outpatient", rules_in_seed=False)])
    plans = {"employee_basic": basic, "employee_large": large}
    covs = [coverage("employee_basic"), coverage("employee_large")]
    second = claim("chronic_outpatient", total=100, disease="CZ18", given={"employee_basic": ("50",)})
    assert settle(plans, covs, second).layer("employee_large").reason == "not_applicable"
    first = claim("chronic_outpatient", total=100, disease="CZ01",
                  given={"employee_basic": ("50",), "employee_large": ("10",)})
    assert settle(plans, covs, first).layer("employee_large").paid == D("10.00")

    sup = leshan_plans()
    lcovs = [coverage("employee_basic"), coverage("employee_supplementary")]
    not_b = claim("chronic_outpatient", total=100, given={"employee_basic": ("50",)})
    assert settle(sup, lcovs, not_b).layer("employee_supplementary").reason == "not_applicable"


@formula("test_overpay")
def _overpay(ctx) -> LayerResult:
    return LayerResult(scheme=ctx.plan.kind, paid=ctx.claim.total * 2, explanation="x")


@formula("test_negative")
def _negative(ctx) -> LayerResult:
    return LayerResult(scheme=ctx.plan.kind, paid=D("-5"), explanation="x")


@pytest.mark.parametrize("code, paid", [("test_overpay", "70.00"), ("test_negative", "0.00")])
def test_a_layer_never_pays_more_than_unpaid_nor_negative(code, paid):
    first = plan("resident_basic", "given_only", applicable=[applicable("inpatient")], order=1)
    second = plan("critical_illness", code, applicable=[applicable("inpatient")], order=2)
    s = settle({"resident_basic": first, "critical_illness": second},
               [coverage("resident_basic"), coverage("critical_illness")],
               claim(total=100, given={"resident_basic": ("30",)}))
    assert s.layer("critical_illness").paid == D(paid)


@formula("test_overpay_items")
def _overpay_items(ctx) -> LayerResult:
    items = (ItemResult(code="R1", paid=D("60")), ItemResult(code="R2", paid=D("60")))
    return LayerResult(scheme=ctx.plan.kind, paid=D("120"), items=items, explanation="x")


def test_bound_trims_items_from_the_last():
    first = plan("resident_basic", "given_only", applicable=[applicable("inpatient")], order=1)
    second = plan("inclusive_commercial", "test_overpay_items", applicable=[applicable("inpatient")], order=2)
    s = settle({"resident_basic": first, "inclusive_commercial": second},
               [coverage("resident_basic"), coverage("inclusive_commercial")],
               claim(total=100, given={"resident_basic": ("30",)}))
    lr = s.layer("inclusive_commercial")
    assert lr.paid == D("70.00")
    assert [(i.code, i.paid, i.capped) for i in lr.items] == [("R1", D(60), D(0)), ("R2", D(10), D(50))]
    assert "剩余未支付费用 70.00" in lr.explanation
