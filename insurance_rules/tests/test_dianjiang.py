"""垫江 basic layer and 大病保险 (spec dianjiang.md) with the spec's numbers."""
from decimal import Decimal

import pytest

from insurance_rules.settle import settle_claim

from .builders import D, claim, coverage, dianjiang_plans, hospital, person

PLANS = dianjiang_plans()


def settle(c, *, tier=1, who=None, history=(), plans=PLANS):
    return settle_claim(plans=plans, person=who or person(),
                        coverages=[coverage("resident_basic", tier=tier), coverage("critical_illness")],
                        claim=c, history=history)


def run(claims, **kw):
    """Settle claims in order, each seeing the earlier ones; returns the settled list."""
    done = []
    for c in claims:
        done.append(settle(c, history=tuple(done), **kw))
    return done


def basic(settled):
    return settled.layer("resident_basic")


def critical(settled):
    return settled.layer("critical_illness")


# --------------------------------------------------------------------------- 住院


@pytest.mark.parametrize("level, tier, paid, deductible, ratio", [
    (1, 1, "23920.00", "100", "80"),   # (30000−100)×80 %
    (1, 2, "25415.00", "100", "85"),
    (2, 1, "20790.00", "300", "70"),
    (2, 2, "22275.00", "300", "75"),
    (3, 1, "14600.00", "800", "50"),
    (3, 2, "16060.00", "800", "55"),
])
def test_inpatient_by_level_and_tier(level, tier, paid, deductible, ratio):
    lr = basic(settle(claim(total=30000, hosp=hospital(level)), tier=tier))
    assert lr.paid == D(paid)
    assert lr.deductible == D(deductible)
    assert lr.ratio == D(ratio)
    assert lr.refs and lr.refs[0].table == "BenefitRule"


def test_inpatient_explanation_shows_the_arithmetic():
    lr = basic(settle(claim(total=30000), tier=2))
    assert "住院起付线 800.00" in lr.explanation
    assert "报销比例 55%" in lr.explanation
    assert "(30000.00−800.00)×55% = 16060.00" in lr.explanation


def test_compliant_below_deductible_pays_nothing():
    lr = basic(settle(claim(total=700)))
    assert lr.paid == D("0.00")
    assert lr.deductible == D("700")


@pytest.mark.parametrize("birth, paid", [
    ("2006-05-11", "16060.00"),  # 17 on 2024-05-10 → 50 % + 5 pp
    ("2006-05-10", "14600.00"),  # 18 on that very day → no adjustment
    ("2006-05-09", "14600.00"),
])
def test_minor_adds_five_points_on_inpatient(birth, paid):
    lr = basic(settle(claim(total=30000), who=person(birth)))
    assert lr.paid == D(paid)


def test_minor_points_do_not_apply_to_outpatient():
    c = claim("outpatient", total=100, hosp=hospital(1))
    assert basic(settle(c, who=person("2010-01-01"))).paid == D("60.00")


def test_tcm_hospital_deductible_one_level_lower_and_tcm_at_plus_ten():
    # level 3 TCM: deductible of level 2 (300), non-TCM 20 000 at 50 %, TCM 10 000 at 60 %
    c = claim(total=30000, hosp=hospital(3, tcm=True), tcm_compliant=10000)
    lr = basic(settle(c))
    assert lr.deductible == D("300")
    assert lr.paid == D("15850.00")  # (20000−300)×50 % + 10000×60 %


def test_tcm_deductible_absorbed_first_by_non_tcm_cost():
    # deductible 300 > non-TCM 100: 100 from non-TCM, 200 from TCM
    c = claim(total=1000, hosp=hospital(3, tcm=True), tcm_compliant=900)
    assert basic(settle(c)).paid == D("420.00")  # (100−100)×50 % + (900−200)×60 %


def test_tcm_level_one_keeps_its_deductible_and_gets_the_points():
    c = claim(total=10000, hosp=hospital(1, tcm=True), tcm_compliant=5000)
    lr = basic(settle(c))
    assert lr.deductible == D("100")
    assert lr.paid == D("8420.00")  # (5000−100)×80 % + 5000×90 %


@pytest.mark.parametrize("level, location, total, tcm, deductible, paid", [
    # level 3 in 重庆 (我市: in_region / in_province): deductible of level 2 (300), ratio 50 %,
    # TCM at 60 %: (20000−300)×50 % + 10000×60 % = 9850 + 6000 = 15850
    (3, "in_region", 30000, 10000, "300", "15850.00"),
    (3, "in_province", 30000, 10000, "300", "15850.00"),
    # level 3 outside 重庆: its own deductible 800, the +10 pp still applies:
    # (20000−800)×50 % + 10000×60 % = 9600 + 6000 = 15600
    (3, "out_of_province", 30000, 10000, "800", "15600.00"),
    # level 2 (70 %, TCM 80 %) in 重庆: deductible of level 1 (100):
    # (6000−100)×70 % + 4000×80 % = 4130 + 3200 = 7330
    (2, "in_province", 10000, 4000, "100", "7330.00"),
    # level 2 outside 重庆: own deductible 300: (6000−300)×70 % + 4000×80 % = 3990 + 3200 = 7190
    (2, "out_of_province", 10000, 4000, "300", "7190.00"),
    # level 1 has no lower level: 100 anywhere; (5000−100)×80 % + 5000×90 % = 3920 + 4500 = 8420
    (1, "out_of_province", 10000, 5000, "100", "8420.00"),
])
def test_tcm_deductible_shift_only_in_chongqing_points_anywhere(level, location, total, tcm, deductible,
                                                                 paid):
    c = claim(total=total, hosp=hospital(level, tcm=True, location=location), tcm_compliant=tcm)
    lr = basic(settle(c))
    assert (lr.deductible, lr.paid) == (D(deductible), D(paid))


def test_tcm_outside_chongqing_explains_its_own_deductible():
    c = claim(total=30000, hosp=hospital(3, tcm=True, location="out_of_province"), tcm_compliant=10000)
    lr = basic(settle(c))
    assert "住院起付线 800.00（就医地跨省不在中医医疗机构起付线降档范围（省内）内，按本级起付线）" in lr.explanation
    assert "中医药合规费用 10000.00 按 60%（+10个百分点）" in lr.explanation
    tcm_ref = next(r for r in lr.refs if r.table == "RatioAdjustment")
    assert ("deductible_shift_location", "within_province") in tcm_ref.values


def test_tcm_compliant_at_non_tcm_hospital_gets_no_points():
    c = claim(total=30000, hosp=hospital(3), tcm_compliant=10000)
    assert basic(settle(c)).paid == D("14600.00")


def test_rounding_half_up_once_per_layer():
    # (800.01 − 800) × 50 % = 0.005 → 0.01 (half-up, not banker's)
    assert basic(settle(claim(total="800.01"))).paid == D("0.01")


@pytest.mark.parametrize("tier, total, paid, capped", [
    (1, 150000, "80000.00", "39920.00"),   # 149 900 × 80 % = 119 920, tier-1 cap 80 000
    (2, 150000, "120000.00", "7415.00"),   # 149 900 × 85 % = 127 415, tier-2 cap 120 000
    (1, 100100, "80000.00", "0.00"),       # exactly at the cap
])
def test_inpatient_annual_cap_by_tier(tier, total, paid, capped):
    lr = basic(settle(claim(total=total, hosp=hospital(1)), tier=tier))
    assert lr.paid == D(paid)
    assert lr.capped == D(capped)


def test_cap_reached_by_an_earlier_claim():
    first, second = run([claim(total=100000, hosp=hospital(1)), claim(total=1000, hosp=hospital(1))])
    assert basic(first).paid == D("79920.00")
    assert basic(second).paid == D("80.00")  # 720 due, 80 left of 80 000
    assert basic(second).capped == D("640.00")


# --------------------------------------------------------------------------- 门诊统筹


def op(total, level=1, **kw):
    return claim("outpatient", total=total, hosp=hospital(level, **kw))


@pytest.mark.parametrize("level, total, paid", [
    (1, 100, "60.00"),
    (2, 200, "0.00"),    # exactly the annual deductible
    (2, 300, "40.00"),   # (300 − 200) × 40 %
])
def test_outpatient_single_visit(level, total, paid):
    assert basic(settle(op(total, level))).paid == D(paid)


def test_outpatient_deductible_cumulative_over_two_visits():
    first, second = run([op(150, 2), op(150, 2)])
    assert basic(first).paid == D("0.00") and basic(first).deductible == D("150")
    assert basic(second).deductible == D("50")
    assert basic(second).paid == D("40.00")  # (150 − 50) × 40 %


def test_outpatient_level_one_visits_do_not_use_the_deductible():
    _, second = run([op(100, 1), op(300, 2)])
    assert basic(second).paid == D("40.00")


@pytest.mark.parametrize("tier, paid", [(1, "30.00"), (2, "60.00")])
def test_outpatient_annual_max_by_tier(tier, paid):
    # first visit 450 × 60 % = 270; tier 1 max 300 leaves 30; tier 2 max 500 leaves 230
    _, second = run([op(450, 1), op(100, 1)], tier=tier)
    assert basic(second).paid == D(paid)


def test_outpatient_annual_max_across_levels():
    _, second = run([op(450, 1), op(500, 2)])  # 270, then 120 due at level 2, 30 left
    assert basic(second).paid == D("30.00")
    assert basic(second).capped == D("90.00")


def test_outpatient_level_three_not_covered():
    lr = basic(settle(op(300, 3)))
    assert lr.paid == D("0.00")
    assert lr.reason == "level_not_covered"


@pytest.mark.parametrize("birth, children, paid, reason", [
    ("2006-05-11", True, "40.00", ""),                 # 17: settled as level 2
    ("2006-05-10", True, "0.00", "level_not_covered"),  # 18 on the visit date
    ("2010-01-01", False, "0.00", "level_not_covered"),  # minor but not a children's hospital
])
def test_outpatient_minor_at_level_three_childrens_hospital(birth, children, paid, reason):
    lr = basic(settle(op(300, 3, children=children), who=person(birth)))
    assert lr.paid == D(paid)
    assert lr.reason == reason


# --------------------------------------------------------------------------- 生育


def test_prenatal_limit_over_the_year():
    first, second, third = run([claim("prenatal", total=200), claim("prenatal", total=200),
                                claim("prenatal", total=50)])
    assert [basic(s).paid for s in (first, second, third)] == [D("200.00"), D("100.00"), D("0.00")]


@pytest.mark.parametrize("total, paid", [(500, "500.00"), (600, "600.00"), (2000, "600.00")])
def test_vaginal_delivery_fixed_amount_not_above_total(total, paid):
    assert basic(settle(claim("delivery", total=total, delivery_mode="vaginal"))).paid == D(paid)


@pytest.mark.parametrize("total, birth, paid", [
    (1000, "1990-01-01", "600.00"),   # (1000 − 800) × 50 % = 100 → topped up to 600
    (500, "1990-01-01", "500.00"),    # top-up never above total
    (5000, "1990-01-01", "2100.00"),  # (5000 − 800) × 50 % ≥ 600
    (5000, "2006-06-01", "2310.00"),  # minor: 55 %
])
def test_cesarean_settled_as_inpatient_topped_up(total, birth, paid):
    c = claim("delivery", total=total, delivery_mode="cesarean")
    assert basic(settle(c, who=person(birth))).paid == D(paid)


@pytest.mark.parametrize("total, birth, basic_paid, critical_paid", [
    # tier 1, level 3: basic (60000−800)×50 % = 29600; 大病 basis 60000 − 29600 = 30400:
    # (30400 − 17833)×60 % = 7540.20
    (60000, "1990-01-01", "29600.00", "7540.20"),
    # minor (55 %): basic (60000−800)×55 % = 32560; basis 27440: (27440−17833)×60 % = 5764.20
    (60000, "2007-01-01", "32560.00", "5764.20"),
    # basis below the threshold: basic (20000−800)×50 % = 9600; basis 10400 < 17833 → 0
    (20000, "1990-01-01", "9600.00", "0.00"),
])
def test_cesarean_enters_the_critical_illness_basis(total, birth, basic_paid, critical_paid):
    s = settle(claim("delivery", total=total, delivery_mode="cesarean"), who=person(birth))
    assert (basic(s).paid, critical(s).paid) == (D(basic_paid), D(critical_paid))
    assert critical(s).reason == ""
    assert critical(s).basis == D(total) - D(basic_paid)


def test_only_cesarean_deliveries_count_for_critical_illness():
    # vaginal 600 fixed: 大病 not applicable, its self-pay does not enter S; the cesarean's
    # 30400 does: (30400 − 17833)×60 % = 7540.20
    vaginal, cesarean = run([claim("delivery", day="2024-03-01", total=50000, delivery_mode="vaginal"),
                             claim("delivery", total=60000, delivery_mode="cesarean")])
    assert (basic(vaginal).paid, critical(vaginal).paid) == (D("600.00"), D("0.00"))
    assert critical(vaginal).reason == "not_applicable"
    assert "仅限剖宫产" in critical(vaginal).explanation
    assert critical(cesarean).paid == D("7540.20")


def test_cesarean_counts_in_the_year_to_date_of_both_layers():
    # 1) cesarean, level 3, tier 1: basic 29600 (into the 80 000 basic fund), 大病 S 30400 → 7540.20
    # 2) admission, level 1, 70000: (70000−100)×80 % = 55920, cap 80000 − 29600 = 50400 left
    #    (5520 capped); 大病 basis 70000 − 50400 = 19600, S 30400 → 50000:
    #    (50000−17833)×60 % − (30400−17833)×60 % = 19600×60 % = 11760.00
    cesarean, admission = run([claim("delivery", day="2024-03-01", total=60000, delivery_mode="cesarean"),
                               claim(total=70000, hosp=hospital(1))])
    assert (basic(cesarean).paid, critical(cesarean).paid) == (D("29600.00"), D("7540.20"))
    assert (basic(admission).paid, basic(admission).capped) == (D("50400.00"), D("5520.00"))
    assert critical(admission).paid == D("11760.00")


def test_admission_then_cesarean_uses_what_is_left_of_both_layers():
    # 1) admission, level 1, 90000: (90000−100)×80 % = 71920; 大病 basis 18080:
    #    (18080−17833)×60 % = 148.20
    # 2) cesarean, level 3, 30000: (30000−800)×50 % = 14600, 8080 left of 80 000 → 8080 (6520
    #    capped, above the 600 floor); 大病 basis 30000 − 8080 = 21920 → 21920×60 % = 13152.00
    admission, cesarean = run([claim(day="2024-03-01", total=90000, hosp=hospital(1)),
                               claim("delivery", total=30000, delivery_mode="cesarean")])
    assert critical(admission).paid == D("148.20")
    assert (basic(cesarean).paid, basic(cesarean).capped) == (D("8080.00"), D("6520.00"))
    assert critical(cesarean).paid == D("13152.00")


def test_delivery_without_mode_is_invalid():
    from insurance_rules.errors import InvalidInput

    with pytest.raises(InvalidInput, match="delivery_mode"):
        settle(claim("delivery", total=1000))


# --------------------------------------------------------------------------- 大病保险


@pytest.mark.parametrize("total, paid", [
    (34866, "0.00"),  # basic 17 033, self-pay exactly 17 833
    (34868, "0.60"),  # self-pay 17 834: 1 × 60 %
])
def test_critical_threshold_exactly(total, paid):
    s = settle(claim(total=total))
    assert critical(s).paid == D(paid)


def test_critical_examples_ex1_ex2():
    s1 = settle(claim(total=30000))
    assert (basic(s1).paid, critical(s1).paid) == (D("14600.00"), D("0.00"))
    s2 = settle(claim(total=56000, ooc=6000), tier=2)
    assert (basic(s2).paid, critical(s2).paid) == (D("27060.00"), D("3064.20"))
    assert "(22940.00−17833.00)×60% = 3064.20" in critical(s2).explanation


def test_critical_threshold_crossed_by_the_second_claim():
    first, second = run([claim(total=30000), claim(total=10000)])
    assert critical(first).paid == D("0.00")
    # S = 15 400 + 5 400 = 20 800 → (20 800 − 17 833) × 60 %
    assert critical(second).paid == D("1780.20")


@pytest.mark.parametrize("identity, paid", [
    ("dibao", "4214.28"),                                # (15 400 − 8 916.50) × 65 % = 4 214.275
    (("dibao", "2024-06-01", "2024-12-31"), "0.00"),     # not valid on the service date
    ("tekun", "4214.28"),
    ("poverty_return", "4214.28"),
    ("dibao_edge", "0.00"),                              # not one of the three
])
def test_critical_identity_threshold_and_ratio(identity, paid):
    s = settle(claim(total=30000), who=person(identities=[identity]))
    assert critical(s).paid == D(paid)


def test_critical_annual_cap_and_no_cap_for_identities():
    c = claim(total=400000, given={"resident_basic": ("0",)})
    ordinary = critical(settle(c))
    assert ordinary.paid == D("200000.00")  # 229 300.20 due
    assert ordinary.capped == D("29300.20")
    poor = critical(settle(c, who=person(identities=["dibao"])))
    assert poor.paid == D("254204.28")


def test_critical_cap_reached_by_an_earlier_claim():
    big = claim(total=350000, given={"resident_basic": ("0",)})   # (350000 − 17833) × 60 % = 199 300.20
    second = claim(total=5000, given={"resident_basic": ("0",)})  # 3 000 due, 699.80 left
    _, s = run([big, second])
    assert critical(s).paid == D("699.80")


def test_outpatient_claims_do_not_count_for_critical_illness():
    first, second = run([op(100, 1), claim(total=30000)])
    assert critical(first).reason == "not_applicable"
    assert critical(second).paid == D("0.00")


def test_basis_is_compliant_minus_basic_paid():
    s = settle(claim(total=56000, ooc=6000), tier=2)
    assert critical(s).basis == Decimal("22940.00")
