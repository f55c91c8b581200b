"""三明普惠医联保 R1–R4B and 兜底 FLOOR (spec sanming.md) with the spec's numbers."""
import pytest

from insurance_rules.errors import InvalidInput
from insurance_rules.settle import settle_claim

from .builders import D, claim, coverage, hospital, person, sanming_plans

PLANS = sanming_plans()
COVS = [coverage("resident_basic"), coverage("critical_illness"), coverage("inclusive_commercial")]


def settle(c, *, who=None, history=(), rate=None, plans=PLANS):
    return settle_claim(plans=plans, person=who or person(), coverages=COVS, claim=c, history=history,
                        participation_rate=None if rate is None else D(rate))


def run(claims, **kw):
    done = []
    for c in claims:
        done.append(settle(c, history=tuple(done), **kw))
    return done


def layer(s):
    return s.layer("inclusive_commercial")


def items(s):
    return {i.code: i for i in layer(s).items}


def ip(total, basic, critical="0", *, ooc=0, hosp=None, day="2024-07-01"):
    return claim(day=day, total=total, ooc=ooc, hosp=hosp,
                 given={"resident_basic": (basic,), "critical_illness": (critical,)})


def test_example_ex6_healthy_in_region():
    s = settle(ip(60000, "30000", "5000", ooc=10000))
    assert items(s)["R1"].paid == D("20000.00")  # (60 000 − 35 000 − 5 000) × 100 %
    assert layer(s).paid == D("20000.00")
    assert [i.code for i in layer(s).items] == ["R1", "R2", "R3", "R4A", "R4B", "FLOOR"]


@pytest.mark.parametrize("who, paid", [
    (person(), "20000.00"),                                             # healthy 100 %
    (person(pre_existing=["tumor"]), "10000.00"),                        # pre-existing 50 %
    (person(pre_existing=["tumor"], identities=["dibao"]), "20000.00"),  # assistance target: 100 %
    (person(pre_existing=["lung"], identities=[("tekun", "2024-01-01", "2024-06-30")]), "10000.00"),
    (person(pre_existing=["other"], identities=["sanshu"]), "10000.00"),  # not an assistance target
])
def test_r1_health_status_and_assistance_targets(who, paid):
    assert items(settle(ip(60000, "30000", "5000", ooc=10000), who=who))["R1"].paid == D(paid)


@pytest.mark.parametrize("who, paid", [
    (person(), "28000.00"),                                              # (100 000 − 40 000 − 20 000) × 70 %
    (person(pre_existing=["liver_kidney"]), "12000.00"),                  # 30 %
    (person(pre_existing=["liver_kidney"], identities=["edge_poverty"]), "32000.00"),  # 80 %
])
def test_r2_out_of_region(who, paid):
    c = ip(100000, "40000", hosp=hospital(3, location="in_province"))
    s = settle(c, who=who)
    assert items(s)["R2"].paid == D(paid)
    assert items(s)["R1"].reason == "not_applicable"


@pytest.mark.parametrize("hosp", [hospital(1), hospital(3, public=False)])
def test_level_one_or_private_hospital_not_designated(hosp):
    s = settle(ip(60000, "30000", hosp=hosp))
    assert layer(s).paid == D("0.00")
    assert layer(s).reason == "hospital_not_designated"
    assert items(s)["R1"].reason == "hospital_not_designated"


def test_r1_annual_deductible_over_two_claims():
    first, second = run([ip(3000, "0"), ip(4000, "0")])
    assert (items(first)["R1"].paid, items(first)["R1"].deductible) == (D("0.00"), D("3000"))
    assert items(second)["R1"].deductible == D("2000")
    assert items(second)["R1"].paid == D("2000.00")


def chronic(compliant, basic):
    return claim("chronic_outpatient", day="2024-07-01", total=compliant,
                 given={"resident_basic": (basic,), "critical_illness": ("0",)})


def test_r3_chronic_outpatient_healthy_only():
    assert items(settle(chronic(10000, "2000")))["R3"].paid == D("2100.00")  # (8 000 − 5 000) × 70 %
    r3 = items(settle(chronic(10000, "2000"), who=person(pre_existing=["cardio_metabolic"])))["R3"]
    assert (r3.paid, r3.reason) == (D("0"), "pre_existing_not_covered")


SANMING_LEVEL_3 = hospital(3)


def drug(total, drug_list, drug_class=None, hosp=SANMING_LEVEL_3):
    return claim("special_drug", day="2024-07-01", total=total, drug_list=drug_list, drug_class=drug_class,
                 hosp=hosp, given={"resident_basic": ("0",), "critical_illness": ("0",)})


@pytest.mark.parametrize("cls, paid", [("A", "21000.00"), ("B", "15000.00"), ("C", "9000.00")])
def test_r4a_cancer_drugs_by_class(cls, paid):
    assert items(settle(drug(50000, "sm_cancer", cls)))["R4A"].paid == D(paid)  # (50 000 − 20 000) × ratio


def test_r4a_pre_existing_same_ratio_lower_sum_insured():
    r4a = items(settle(drug(50000, "sm_cancer", "A"), who=person(pre_existing=["tumor"])))["R4A"]
    assert r4a.paid == D("4500.00")
    assert r4a.capped == D("16500.00")


def test_r4a_needs_the_drug_class():
    with pytest.raises(InvalidInput, match="drug_class"):
        settle(drug(50000, "sm_cancer"))


def test_r4b_rare_disease_drugs_healthy_only():
    assert items(settle(drug(30000, "sm_rare")))["R4B"].paid == D("5000.00")
    r4b = items(settle(drug(30000, "sm_rare"), who=person(pre_existing=["other"])))["R4B"]
    assert r4b.reason == "pre_existing_not_covered"


def test_drug_outside_the_lists_pays_nothing():
    s = settle(drug(30000, "other_list"))
    assert layer(s).paid == D("0.00")


# --------------------------------------------------------------------------- 兜底


def big(**kw):
    # pre-existing person: R1 = (500 000 − 100 000 − 5 000) × 50 % = 197 500;
    # personal = 500 000 − 100 000 − 197 500 = 202 500
    return ip(500000, "100000", **kw)


PRE = person(pre_existing=["tumor"])


@pytest.mark.parametrize("rate, paid, reason", [
    (None, "0.00", "rate_not_set"),
    ("10", "0.00", "rate_below_threshold"),
    ("20", "82500.00", ""),     # 202 500 − 120 000
    ("29.99", "82500.00", ""),
    ("30", "102500.00", ""),    # 202 500 − 100 000
])
def test_floor_by_participation_rate(rate, paid, reason):
    floor = items(settle(big(), who=PRE, rate=rate))["FLOOR"]
    assert (floor.paid, floor.reason) == (D(paid), reason)


def test_floor_uses_the_official_rate_when_no_override():
    s = settle(big(), who=PRE, plans=sanming_plans(rate=30))
    assert items(s)["FLOOR"].paid == D("102500.00")
    assert layer(s).paid == D("197500.00") + D("102500.00")
    assert s.claim.total - s.fund_total == D("100000.00")


def test_floor_counts_the_personal_payments_of_earlier_claims():
    # first: personal 202 500 → floor 82 500 → personal after 120 000; second: its whole personal
    first, second = run([big(), ip(20000, "10000", hosp=hospital(3), day="2024-08-01")], who=PRE, rate="20")
    assert items(first)["FLOOR"].paid == D("82500.00")
    s_personal = D(20000) - D(10000) - items(second)["R1"].paid
    assert items(second)["FLOOR"].paid == s_personal


def test_floor_only_for_in_region_inpatient():
    c = ip(500000, "100000", hosp=hospital(3, location="in_province"))
    floor = items(settle(c, who=PRE, rate="30"))["FLOOR"]
    assert (floor.paid, floor.reason) == (D("0"), "not_applicable")


# --------------------------------------------------------------------------- 责任四: 指定医疗机构


@pytest.mark.parametrize("hosp", [
    hospital(3, location="in_province"),      # bought outside 三明
    hospital(3, location="out_of_province"),
    hospital(1),                               # level 1 in 三明
    hospital(3, public=False),                 # private in 三明
])
@pytest.mark.parametrize("drug_list, cls", [("sm_cancer", "A"), ("sm_rare", None)])
def test_r4_special_drugs_only_at_a_sanming_public_level_2_or_3_hospital(hosp, drug_list, cls):
    s = settle(drug(50000, drug_list, cls, hosp=hosp))
    code = "R4A" if drug_list == "sm_cancer" else "R4B"
    assert (items(s)[code].paid, items(s)[code].reason) == (D("0.00"), "hospital_not_designated")
    assert (layer(s).paid, layer(s).reason) == (D("0.00"), "hospital_not_designated")


def test_r4_at_a_sanming_level_2_public_hospital_pays():
    assert items(settle(drug(50000, "sm_cancer", "A", hosp=hospital(2))))["R4A"].paid == D("21000.00")


def test_r4_special_drug_without_hospital_is_invalid_input():
    with pytest.raises(InvalidInput, match="claim.hospital"):
        settle(drug(50000, "sm_rare", hosp=None))


# --------------------------------------------------------------------------- 责任一: 按C-DRG收付费


def test_r1_needs_a_cdrg_hospital():
    s = settle(ip(60000, "30000", "5000", ooc=10000, hosp=hospital(3, cdrg=False)))
    assert (items(s)["R1"].paid, items(s)["R1"].reason) == (D("0.00"), "hospital_not_designated")
    assert "C-DRG" in items(s)["R1"].explanation
    assert layer(s).reason == "hospital_not_designated"
    # the flag is 责任一's only: out of region 责任二 does not ask for it
    away = settle(ip(100000, "40000", hosp=hospital(3, location="in_province", cdrg=False)))
    assert items(away)["R2"].paid == D("28000.00")


# --------------------------------------------------------------------------- who may enroll


NEW_CITIZEN = person(basic=False, lives_in_region=True)
HK_MACAO_TAIWAN = person(basic=False, hk_macao_taiwan=True, basic_in_province=True)


@pytest.mark.parametrize("who", [NEW_CITIZEN, HK_MACAO_TAIWAN])
def test_new_citizens_and_hk_macao_taiwan_in_the_province_are_covered(who):
    own = [coverage("inclusive_commercial")]  # their basic insurance is not 三明's
    c = claim(day="2024-07-01", total=60000, ooc=10000, hosp=hospital(3))
    s = settle_claim(plans=PLANS, person=who, coverages=own, claim=c)
    assert items(s)["R1"].paid == D("55000.00")  # (60 000 − 0 − 5 000) × 100 %


@pytest.mark.parametrize("who", [
    person(basic=False),
    person(basic=False, hk_macao_taiwan=True),             # 港澳台 without 福建 basic insurance
    person(basic=False, basic_in_province=True),           # in 福建 basic insurance but not 港澳台
])
def test_others_without_sanming_basic_insurance_get_nothing_in_sanming_words(who):
    c = claim(day="2024-07-01", total=60000, hosp=hospital(3))
    s = settle_claim(plans=PLANS, person=who, coverages=[coverage("inclusive_commercial")], claim=c)
    assert (layer(s).paid, layer(s).reason) == (D("0.00"), "not_covered")
    assert "非三明市参保且非在三明市长期居住的新市民" in layer(s).explanation
    assert "三明普惠医联保" in layer(s).explanation
