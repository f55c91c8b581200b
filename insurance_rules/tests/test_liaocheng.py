"""聊惠保 R1–R4 (spec liaocheng.md) with the spec's numbers."""
import pytest

from insurance_rules.settle import settle_claim

from .builders import D, claim, coverage, hospital, liaocheng_plans, person

PLANS = liaocheng_plans()
COVS = [coverage("resident_basic"), coverage("critical_illness"), coverage("inclusive_commercial")]


def settle(c, *, who=None, history=()):
    return settle_claim(plans=PLANS, person=who or person(), coverages=COVS, claim=c, history=history)


def run(claims):
    done = []
    for c in claims:
        done.append(settle(c, history=tuple(done)))
    return done


def items(s):
    return {i.code: i for i in s.layer("inclusive_commercial").items}


def ip(total, basic, critical="0", *, ooc=0, b_copay=0):
    return claim(day="2024-08-01", total=total, ooc=ooc, b_copay=b_copay,
                 given={"resident_basic": (basic,), "critical_illness": (critical,)})


def test_example_ex7():
    s = settle(ip(100000, "50000", "10000", ooc=10000, b_copay=5000))
    assert items(s)["R1"].paid == D("7200.00")   # (85 000 − 60 000 − 16 000) × 80 %
    assert items(s)["R2"].paid == D("0.00")      # 15 000 < 16 000
    assert items(s)["R2"].deductible == D("15000")
    assert s.layer("inclusive_commercial").paid == D("7200.00")


def test_r2_out_of_scope_above_its_deductible():
    s = settle(ip(100000, "40000", ooc=20000))
    assert items(s)["R2"].paid == D("400.00")    # (20 000 − 16 000) × 10 %
    assert items(s)["R1"].paid == D("19200.00")  # (80 000 − 40 000 − 16 000) × 80 %


def test_r1_deductible_crossing_over_two_claims():
    first, second = run([ip(30000, "20000"), ip(30000, "20000")])
    assert items(first)["R1"].paid == D("0.00")
    assert items(second)["R1"].deductible == D("6000")
    assert items(second)["R1"].paid == D("3200.00")   # (10 000 − 6 000) × 80 %


def test_r2_deductible_is_separate_from_r1():
    first, second = run([ip(30000, "0", ooc=10000), ip(30000, "0", ooc=10000)])
    # R1 basis 20 000 on the first claim uses all of R1's deductible; R2's own 16 000 is crossed on the second
    assert items(first)["R1"].paid == D("3200.00")
    assert items(second)["R1"].paid == D("16000.00")
    assert items(second)["R2"].paid == D("400.00")    # (10 000 − 6 000) × 10 %


def drug(total, drug_list, hosp=None):
    return claim("special_drug", day="2024-08-01", total=total, drug_list=drug_list, hosp=hosp,
                 given={"resident_basic": ("0",), "critical_illness": ("0",)})


def test_r3_high_cost_drugs_at_a_county_level_institution():
    s = settle(drug(50000, "lc_high_cost", hospital(2, admin_level="county")))
    assert items(s)["R3"].paid == D("27200.00")   # (50 000 − 16 000) × 80 %


@pytest.mark.parametrize("hosp", [hospital(1, admin_level="township"), None])
def test_r3_township_institution_or_none_pays_nothing(hosp):
    """乡镇卫生院/社区卫生服务中心 (or no prescribing institution) is below county level."""
    s = settle(drug(50000, "lc_high_cost", hosp))
    r3 = items(s)["R3"]
    assert (r3.paid, r3.reason) == (D("0.00"), "hospital_not_designated")
    assert "县级及以上" in r3.explanation
    assert s.layer("inclusive_commercial").reason == "hospital_not_designated"


def test_r4_special_efficacy_limit():
    r4 = items(settle(drug(400000, "lc_special_efficacy")))["R4"]
    assert r4.paid == D("300000.00")  # (400 000 − 10 000) × 80 % = 312 000 → 300 000
    assert r4.capped == D("12000.00")


def test_no_pre_existing_distinction():
    s = settle(ip(100000, "50000", "10000", ooc=10000, b_copay=5000), who=person(pre_existing=["tumor"]))
    assert items(s)["R1"].paid == D("7200.00")


def test_outpatient_not_applicable():
    c = claim("outpatient", day="2024-08-01", total=500, given={"resident_basic": ("300",)})
    assert settle(c).layer("inclusive_commercial").reason == "not_applicable"
