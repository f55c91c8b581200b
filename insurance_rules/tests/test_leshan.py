"""乐山 职工补充医疗保险 (spec leshan.md) with the spec's numbers."""
import pytest

from insurance_rules.settle import settle_claim

from .builders import D, claim, coverage, hospital, leshan_plans, person

PLANS = leshan_plans()
COVS = [coverage("employee_basic"), coverage("employee_supplementary")]


def settle(c, *, who=None, history=()):
    return settle_claim(plans=PLANS, person=who or person(category="employee_active"), coverages=COVS,
                        claim=c, history=history)


def run(claims, **kw):
    done = []
    for c in claims:
        done.append(settle(c, history=tuple(done), **kw))
    return done


def sup(settled):
    return settled.layer("employee_supplementary")


def items(settled):
    return {i.code: i.paid for i in sup(settled).items}


def ip(total, basic="38000", deductible="1000", over_cap="0", **kw):
    return claim(total=total, given={"employee_basic": (basic, deductible, over_cap)}, **kw)


def test_example_ex5_band_in_region():
    s = settle(ip(50000))
    assert sup(s).paid == D("9900.00")  # (50 000 − 1 000 − 38 000) × 90 %
    assert s.layer("employee_basic").given
    assert s.fund_total == D("47900.00")


@pytest.mark.parametrize("location, resettled, paid", [
    ("in_region", False, "9900.00"),
    ("in_province", False, "8580.00"),      # 11 000 × 78 %
    ("out_of_province", False, "8580.00"),
    ("out_of_province", True, "9900.00"),   # 异地安置: as in region
])
def test_band_ratio_by_location(location, resettled, paid):
    who = person(category="employee_retired", resettled=resettled)
    assert sup(settle(ip(50000, hosp=hospital(location=location)), who=who)).paid == D(paid)


def test_band_never_below_zero():
    assert sup(settle(ip(10000, basic="9500", deductible="1000"))).paid == D("0.00")


@pytest.mark.parametrize("years, high", [
    (0, "18000.00"), (5, "18000.00"), (6, "18400.00"), (9, "18400.00"), (10, "18600.00"), (25, "18600.00"),
])
def test_high_with_incentive_on_the_first_over_cap_claim(years, high):
    # band 70 000 − 1 000 − 20 000 − 38 000 = 11 000 → 9 900; high 20 000 × 90/92/93 %
    s = settle(ip(70000, over_cap="20000"), who=person(category="employee_active", years=years))
    assert items(s)["HIGH"] == D(high)
    assert sup(s).paid == D("9900.00") + D(high)


def test_incentive_only_on_the_first_claim_with_over_cap():
    who = person(category="employee_active", years=10)
    first, second = run([ip(70000, over_cap="20000"), ip(70000, over_cap="20000")], who=who)
    assert items(first)["HIGH"] == D("18600.00")
    assert items(second)["HIGH"] == D("18000.00")


def test_earlier_claim_without_over_cap_keeps_the_incentive():
    who = person(category="employee_active", years=10)
    _, second = run([ip(50000), ip(70000, over_cap="20000")], who=who)
    assert items(second)["HIGH"] == D("18600.00")


@pytest.mark.parametrize("years, band, high", [
    (0, "10450.00", "19000.00"),   # 95 %, 95 %
    (10, "10450.00", "19600.00"),  # incentive 93 % + 5 pp = 98 %
])
def test_major_disease_adds_five_points_to_both(years, band, high):
    c = ip(70000, over_cap="20000", major_disease="malignant_tumor")
    s = settle(c, who=person(category="employee_active", years=years))
    assert items(s) == {"BAND": D(band), "HIGH": D(high)}
    assert sup(s).paid == D(band) + D(high)


def test_annual_limit_over_all_claims():
    # first claim: band 61 000 × 90 % = 54 900, high 300 000 × 90 % = 270 000 → 324 900 capped to 300 000
    first, second = run([ip(400000, over_cap="300000"), ip(50000)])
    assert sup(first).paid == D("300000.00")
    assert sup(first).capped == D("24900.00")
    assert sup(second).paid == D("0.00")
    assert sup(second).capped == D("9900.00")


def test_annual_limit_reached_exactly_then_nothing_left():
    # band 322 333.33 × 90 % = 290 100.00 (rounded), then 9 900 fills the 300 000 exactly
    first, second, third = run([ip("361333.33"), ip(50000), ip(50000)])
    assert sup(first).paid == D("290100.00")
    assert (sup(second).paid, sup(second).capped) == (D("9900.00"), D("0.00"))
    assert (sup(third).paid, sup(third).capped) == (D("0.00"), D("9900.00"))


def test_special_b_chronic_outpatient_settled_like_inpatient():
    c = claim("chronic_outpatient", total=5000, special_b=True, given={"employee_basic": ("3000",)})
    assert sup(settle(c)).paid == D("1800.00")  # (5 000 − 3 000) × 90 %


def test_not_applicable_to_outpatient():
    c = claim("outpatient", total=500, given={"employee_basic": ("300",)})
    assert sup(settle(c)).reason == "not_applicable"
