"""长治 (140400) formula families, pure (no database): spec changzhi.md with its numbers.

The formulas are called directly through a ``LayerContext`` (the plan years are built by
``changzhi_params``); a few cases also run end to end through ``settle_claim``.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

import insurance_rules.systems.changzhi  # noqa: F401  (registers the formulas)
from insurance_rules.context import LayerContext
from insurance_rules.errors import InvalidInput, MissingRule
from insurance_rules.facts import (
    ClaimFacts,
    Coverage,
    GivenLayer,
    HeldIdentity,
    HeldRegistration,
    Hospital,
    PersonFacts,
)
from insurance_rules.registry import FORMULAS
from insurance_rules.results import ItemResult, LayerResult, SettledClaim
from insurance_rules.settle import settle_claim

from .changzhi_params import (
    RESIDENT_BENEFITS,
    assistance_plan,
    critical_plan,
    employee_basic_plan,
    employee_large_plan,
    region_plans,
    resident_plan,
)

D = Decimal
DAY = date(2024, 6, 3)
RESIDENT = resident_plan()
EMPLOYEE = employee_basic_plan()
LARGE = employee_large_plan()
CRITICAL = critical_plan()
ASSISTANCE = assistance_plan()


# --------------------------------------------------------------------------- helpers


def reg(code: str, approved: str = "2023-05-01", valid_to: str | None = None) -> HeldRegistration:
    return HeldRegistration(code, date.fromisoformat(approved),
                            date.fromisoformat(valid_to) if valid_to else None)


def person(*identities, registrations=(), category="resident", resettled=False) -> PersonFacts:
    held = tuple(i if isinstance(i, HeldIdentity) else HeldIdentity(i) for i in identities)
    return PersonFacts(birth_date=date(1980, 6, 15), category=category, identities=held,
                       registrations=tuple(registrations), resettled=resettled)


def hosp(level=2, grade="A", admin="county", location="in_region") -> Hospital:
    return Hospital(level=level, grade=grade, admin_level=admin, location=location)


def claim(type_: str, total, *, day: date = DAY, compliant=None, out_of_catalog="0",
          class_b_copay="0", **kw) -> ClaimFacts:
    total, ooc, copay = D(str(total)), D(out_of_catalog), D(class_b_copay)
    comp = total - ooc - copay if compliant is None else D(str(compliant))
    for key in ("drug_class_a", "drug_class_b", "out_of_catalog_controlled"):
        if key in kw:
            kw[key] = D(str(kw[key]))
    if kw.get("class_b_items") is not None:
        kw["class_b_items"] = D(str(kw["class_b_items"]))
    return ClaimFacts(type=type_, date=day, total=total, out_of_catalog=ooc, class_b_copay=copay,
                      compliant=comp, **kw)


def coverage(kind: str, tier: int = 0) -> Coverage:
    return Coverage(kind, date(2024, 1, 1), date(2024, 12, 31), tier)


def run(plan, c: ClaimFacts, who: PersonFacts | None = None, upstream=(), history=()) -> LayerResult:
    ctx = LayerContext(plan=plan, person=who or person(), coverage=coverage(plan.kind), claim=c,
                       upstream=tuple(upstream), history=tuple(history))
    result = FORMULAS[plan.formula](ctx)
    assert result.scheme == plan.kind
    assert result.paid >= 0
    assert result.paid == result.paid.quantize(D("0.01"))
    assert result.explanation
    if result.items:
        assert sum((i.paid for i in result.items), D(0)) == result.paid
    return result


def run_seq(plan, claims, who: PersonFacts | None = None) -> list[LayerResult]:
    """Settle claims one after the other with this plan only (history = earlier ones)."""
    history, out = [], []
    for c in claims:
        result = run(plan, c, who, history=history)
        history.append(SettledClaim(c, (result,)))
        out.append(result)
    return out


def layer(kind: str, paid, **kw) -> LayerResult:
    return LayerResult(scheme=kind, paid=D(str(paid)), **kw)


def paid(result: LayerResult) -> str:
    return str(result.paid)


# --------------------------------------------------------------------------- registration


def test_every_family_registered():
    for code in ("changzhi_resident", "changzhi_employee_basic", "changzhi_employee_large",
                 "changzhi_critical", "changzhi_assistance"):
        assert code in FORMULAS


# --------------------------------------------------------------------------- 普通门诊统筹


@pytest.mark.parametrize("level, compliant, expected, deductible, ratio", [
    (3, "500", "189.00", "80.00", "45"),    # (500−80)×45 %
    (3, "80", "0.00", "80.00", "45"),        # all absorbed by the annual deductible
    (2, "200", "110.00", "0.00", "55"),
    (1, "200", "120.00", "0.00", "60"),
])
def test_outpatient_by_level(level, compliant, expected, deductible, ratio):
    r = run(RESIDENT, claim("outpatient", compliant, hospital=hosp(level=level)))
    assert (paid(r), str(r.deductible), r.ratio) == (expected, deductible, D(ratio))
    assert any(ref.table == "BenefitRule" for ref in r.refs)


def test_outpatient_deductible_is_annual_and_cumulative():
    r1, r2, r3 = run_seq(RESIDENT, [claim("outpatient", "50", hospital=hosp(level=3)),
                                    claim("outpatient", "100", hospital=hosp(level=3)),
                                    claim("outpatient", "100", hospital=hosp(level=3))])
    assert (paid(r1), str(r1.deductible)) == ("0.00", "50.00")
    assert (paid(r2), str(r2.deductible)) == ("31.50", "30.00")   # (100−30)×45 %
    assert (paid(r3), str(r3.deductible)) == ("45.00", "0.00")
    assert "本年已累计 80.00" in r3.explanation


def test_outpatient_one_annual_limit_for_all_levels():
    r1, r2, r3 = run_seq(RESIDENT, [claim("outpatient", "400", hospital=hosp(level=1)),
                                    claim("outpatient", "200", hospital=hosp(level=2)),
                                    claim("outpatient", "500", hospital=hosp(level=3))])
    assert paid(r1) == "240.00"
    assert (paid(r2), str(r2.capped)) == ("60.00", "50.00")        # 110 > 300 − 240
    assert (paid(r3), r3.reason) == ("0.00", "limit_reached")
    assert "300.00" in r2.explanation


@pytest.mark.parametrize("total, ooc, items, expected, basis", [
    ("300", "0", "200", "174.00", "290.00"),    # 5 % of 200 = 10 first-paid; 290×60 %
    ("300", "50", "200", "144.00", "240.00"),   # 300 − 50 − 10
    ("300", "0", None, "180.00", "300.00"),     # no class_b_items: compliant as given
])
def test_outpatient_class_b_first_pay(total, ooc, items, expected, basis):
    r = run(RESIDENT, claim("outpatient", total, out_of_catalog=ooc, class_b_items=items,
                            hospital=hosp(level=1)))
    assert (paid(r), str(r.basis)) == (expected, basis)
    if items:
        assert "乙类药品" in r.explanation
        assert any(ref.table == "PlanFigure" for ref in r.refs)


def test_outpatient_class_b_rate_missing_is_missing_rule():
    with pytest.raises(MissingRule, match="class_b_copay_rate"):
        run(replace(RESIDENT, figures=()), claim("outpatient", "300", class_b_items="100",
                                                 hospital=hosp(level=1)))


@pytest.mark.parametrize("location, resettled, filed, level, compliant, expected", [
    ("out_of_province", False, True, 2, "200", "90.00"),    # 55 − 10
    ("out_of_province", True, True, 2, "200", "110.00"),    # resettled: home rules
    ("out_of_province", False, False, 2, "200", "90.00"),   # filed plays no part
    ("in_province", False, False, 2, "200", "110.00"),      # in-province: home rules
    ("out_of_province", False, True, 3, "500", "147.00"),   # (500−80)×35 %
    ("out_of_province", False, True, 1, "200", "100.00"),   # 50 %
])
def test_outpatient_cross_province(location, resettled, filed, level, compliant, expected):
    r = run(RESIDENT, claim("outpatient", compliant, filed=filed,
                            hospital=hosp(level=level, location=location)),
            person(resettled=resettled))
    assert paid(r) == expected
    assert ("跨省临时外出就医" in r.explanation) == (expected in ("90.00", "147.00", "100.00"))


def test_outpatient_without_hospital_is_invalid():
    with pytest.raises(InvalidInput, match="claim.hospital"):
        run(RESIDENT, claim("outpatient", "100"))


def test_outpatient_level_without_row_pays_zero():
    benefits = tuple(b for b in RESIDENT_BENEFITS if not (b.claim_type == "outpatient" and b.level == 3))
    r = run(replace(RESIDENT, benefits=benefits), claim("outpatient", "500", hospital=hosp(level=3)))
    assert (paid(r), r.reason) == ("0.00", "level_not_covered")


def test_outpatient_rows_missing_is_missing_rule():
    benefits = tuple(b for b in RESIDENT_BENEFITS if b.claim_type != "outpatient")
    with pytest.raises(MissingRule, match="长治市城乡居民基本医疗保险 2024"):
        run(replace(RESIDENT, benefits=benefits), claim("outpatient", "500", hospital=hosp()))


# --------------------------------------------------------------------------- 两病


HBP_PERSON = person(registrations=[reg("HBP")])


def test_two_diseases_limit_reached_across_claims():
    r1, r2, r3 = run_seq(RESIDENT, [
        claim("two_diseases", "400", disease="HBP", drug_class_a="300", drug_class_b="100"),
        claim("two_diseases", "100", disease="HBP", drug_class_a="100"),
        claim("two_diseases", "50", disease="HBP", drug_class_a="50"),
    ], HBP_PERSON)
    assert paid(r1) == "230.00"                                  # 300×60 % + 100×50 %
    assert (paid(r2), str(r2.capped)) == ("30.00", "30.00")      # 260 − 230
    assert (paid(r3), r3.reason) == ("0.00", "limit_reached")


@pytest.mark.parametrize("disease, a, b, expected", [
    ("DM1", "1000", "0", "480.00"),   # 600 capped at 480
    ("DM2", "500", "200", "360.00"),  # 300 + 100 capped at 360
    ("DM2", "100", "100", "110.00"),
    ("HBP", "0", "0", "0.00"),
])
def test_two_diseases_limits(disease, a, b, expected):
    who = person(registrations=[reg(disease)])
    r = run(RESIDENT, claim("two_diseases", D(a) + D(b), disease=disease, drug_class_a=a,
                            drug_class_b=b), who)
    assert paid(r) == expected


def test_two_diseases_limit_is_per_disease():
    who = person(registrations=[reg("HBP"), reg("DM2")])
    r1, r2 = run_seq(RESIDENT, [
        claim("two_diseases", "1000", disease="DM2", drug_class_a="1000"),
        claim("two_diseases", "100", disease="HBP", drug_class_a="100"),
    ], who)
    assert (paid(r1), paid(r2)) == ("360.00", "60.00")


@pytest.mark.parametrize("registrations", [
    [],
    [reg("DM2")],                                           # another disease
    [reg("HBP", "2023-01-01", "2024-05-31")],               # expired before the visit
    [reg("HBP", "2024-06-04")],                             # approved after the visit
])
def test_two_diseases_needs_registration(registrations):
    r = run(RESIDENT, claim("two_diseases", "100", disease="HBP", drug_class_a="100"),
            person(registrations=registrations))
    assert (paid(r), r.reason) == ("0.00", "not_registered")


def test_two_diseases_excluded_when_in_chronic_programme():
    r = run(RESIDENT, claim("two_diseases", "100", disease="HBP", drug_class_a="100"),
            person(registrations=[reg("HBP"), reg("CZ18")]))
    assert (paid(r), r.reason) == ("0.00", "excluded_by_chronic")


def test_two_diseases_disease_errors():
    with pytest.raises(InvalidInput, match="claim.disease"):
        run(RESIDENT, claim("two_diseases", "100", drug_class_a="100"), HBP_PERSON)
    r = run(RESIDENT, claim("two_diseases", "100", disease="XX", drug_class_a="100"), HBP_PERSON)
    assert (paid(r), r.reason) == ("0.00", "disease_not_covered")


# --------------------------------------------------------------------------- 门诊慢性病


CZ18 = person(registrations=[reg("CZ18", "2023-05-01", "2025-04-30")])


def test_ex4_chronic_monthly_limit():
    r = run(RESIDENT, claim("chronic_outpatient", "500", disease="CZ18", hospital=hosp()), CZ18)
    assert (paid(r), r.ratio, str(r.capped)) == ("260.00", D("70"), "90.00")
    assert "月支付限额 260.00" in r.explanation
    assert any(ref.table == "ChronicBenefit" for ref in r.refs)


def test_chronic_monthly_limit_used_by_earlier_claim_same_month_vs_next_month():
    r1, r2, r3 = run_seq(RESIDENT, [
        claim("chronic_outpatient", "200", disease="CZ18", day=date(2024, 6, 3)),
        claim("chronic_outpatient", "500", disease="CZ18", day=date(2024, 6, 20)),
        claim("chronic_outpatient", "500", disease="CZ18", day=date(2024, 7, 1)),
    ], CZ18)
    assert paid(r1) == "140.00"
    assert paid(r2) == "120.00"          # 260 − 140 left in June
    assert paid(r3) == "260.00"          # July: a new month, nothing carried over


def test_chronic_monthly_limit_is_per_disease():
    who = person(registrations=[reg("CZ18"), reg("CZ35")])
    r1, r2 = run_seq(RESIDENT, [claim("chronic_outpatient", "500", disease="CZ18"),
                                claim("chronic_outpatient", "500", disease="CZ35")], who)
    assert (paid(r1), paid(r2)) == ("260.00", "290.00")


@pytest.mark.parametrize("code, compliant, expected", [
    ("CZ39M", "10000", "4200.00"),
    ("CZ36", "100", "70.00"),
    ("CZ11", "1000", "440.00"),
])
def test_chronic_second_class_rows(code, compliant, expected):
    r = run(RESIDENT, claim("chronic_outpatient", compliant, disease=code),
            person(registrations=[reg(code)]))
    assert paid(r) == expected


@pytest.mark.parametrize("approved, expected, reason", [
    ("2020-01-01", "45.00", ""),               # approved before the closure: still paid
    ("2021-03-31", "45.00", ""),
    ("2021-04-01", "0.00", "not_registered"),  # 三类 closed to new registrations
])
def test_chronic_third_class_closed(approved, expected, reason):
    r = run(RESIDENT, claim("chronic_outpatient", "100", disease="CZ46"),
            person(registrations=[reg("CZ46", approved)]))
    assert (paid(r), r.reason) == (expected, reason)


def test_chronic_not_registered():
    r = run(RESIDENT, claim("chronic_outpatient", "500", disease="CZ18"), person())
    assert (paid(r), r.reason) == ("0.00", "not_registered")
    with pytest.raises(InvalidInput, match="claim.disease"):
        run(RESIDENT, claim("chronic_outpatient", "500"), CZ18)


def test_chronic_never_more_than_unpaid():
    r = run(RESIDENT, claim("chronic_outpatient", "500", disease="CZ18"), CZ18,
            upstream=[layer("employee_basic", "400")])
    assert paid(r) == "100.00"


def test_first_class_chronic_shares_basic_fund_with_inpatient():
    who = person(registrations=[reg("CZ01")])
    r1, r2, r3 = run_seq(RESIDENT, [
        claim("inpatient", "82000", hospital=hosp(level=2, grade="B")),   # (82000−100)×85 %
        claim("chronic_outpatient", "1000", disease="CZ01"),
        claim("chronic_outpatient", "1000", disease="CZ01"),
    ], who)
    assert paid(r1) == "69615.00"
    assert (paid(r2), str(r2.capped)) == ("385.00", "315.00")   # 70000 − 69615
    assert (paid(r3), r3.reason) == ("0.00", "limit_reached")


def test_inpatient_after_first_class_chronic_uses_the_same_fund():
    who = person(registrations=[reg("CZ01")])
    r1, r2 = run_seq(RESIDENT, [
        claim("chronic_outpatient", "20000", disease="CZ01"),
        claim("inpatient", "100000", hospital=hosp(level=3, grade="A", admin="city")),
    ], who)
    assert paid(r1) == "14000.00"                               # 70 %, no monthly limit
    assert (paid(r2), str(r2.capped)) == ("56000.00", "3400.00")  # 59400 > 70000 − 14000


# --------------------------------------------------------------------------- 职工 慢特病


EMPLOYEE_PERSON = dict(category="employee_active")


def test_employee_first_class_85_percent_no_deductible():
    r = run(EMPLOYEE, claim("chronic_outpatient", "10000", disease="CZ01"),
            person(registrations=[reg("CZ01")], **EMPLOYEE_PERSON))
    assert (paid(r), str(r.deductible), r.ratio) == ("8500.00", "0.00", D("85"))


def test_employee_first_class_shares_80000_with_given_inpatient():
    earlier = claim("inpatient", "100000", day=date(2024, 3, 1), hospital=hosp(level=3),
                    given={"employee_basic": GivenLayer(D("75000"))})
    history = [SettledClaim(earlier, (layer("employee_basic", "75000", given=True),))]
    r = run(EMPLOYEE, claim("chronic_outpatient", "10000", disease="CZ01"),
            person(registrations=[reg("CZ01")], **EMPLOYEE_PERSON), history=history)
    assert (paid(r), str(r.capped)) == ("5000.00", "3500.00")
    assert "80000.00" in r.explanation


@pytest.mark.parametrize("code, compliant, expected, reason", [
    ("CZ18", "500", "340.00", ""),        # 75 % = 375, monthly 340
    ("CZ11", "1000", "750.00", ""),       # monthly 1000
    ("CZ46", "100", "0.00", "disease_not_covered"),   # 三类: residents only
])
def test_employee_second_class(code, compliant, expected, reason):
    r = run(EMPLOYEE, claim("chronic_outpatient", compliant, disease=code),
            person(registrations=[reg(code)], **EMPLOYEE_PERSON))
    assert (paid(r), r.reason) == (expected, reason)


def test_employee_inpatient_without_rows_is_missing_rule():
    with pytest.raises(MissingRule, match="长治市职工基本医疗保险 2024 年度方案缺少参数：住院"):
        run(EMPLOYEE, claim("inpatient", "10000", hospital=hosp()), person(**EMPLOYEE_PERSON))


# --------------------------------------------------------------------------- 住院


@pytest.mark.parametrize("level, grade, admin, location, filed, expected, deductible, ratio", [
    (2, "B", "county", "in_region", True, "8415.00", "100.00", "85"),     # 三类·县级
    (1, "-", "county", "in_region", True, "8415.00", "100.00", "85"),
    (2, "-", "county", "in_region", True, "8415.00", "100.00", "85"),
    (2, "B", "city", "in_region", True, "7200.00", "400.00", "75"),       # 三类·省市级
    (2, "-", "province", "in_region", True, "7200.00", "400.00", "75"),
    (2, "A", "county", "in_region", True, "6650.00", "500.00", "70"),     # 二类
    (3, "B", "city", "in_region", True, "6650.00", "500.00", "70"),
    (3, "-", "city", "in_region", True, "6650.00", "500.00", "70"),
    (3, "A", "province", "in_region", True, "5400.00", "1000.00", "60"),  # 一类
    (3, "A", "city", "in_province", True, "5400.00", "1000.00", "60"),
    (3, "A", "city", "in_province", False, "4500.00", "1000.00", "50"),   # not filed −10
    (2, "B", "county", "in_province", False, "7425.00", "100.00", "75"),
    (3, "A", "city", "in_region", False, "5400.00", "1000.00", "60"),     # local: no cut
    (3, "A", "city", "out_of_province", True, "4675.00", "1500.00", "55"),  # 省外 priority
    (1, "-", "county", "out_of_province", True, "4675.00", "1500.00", "55"),
    (3, "A", "city", "out_of_province", False, "3825.00", "1500.00", "45"),
])
def test_inpatient_fee_class_admin_level_location(level, grade, admin, location, filed, expected,
                                                 deductible, ratio):
    r = run(RESIDENT, claim("inpatient", "10000", filed=filed,
                            hospital=hosp(level=level, grade=grade, admin=admin, location=location)))
    assert (paid(r), str(r.deductible), r.ratio) == (expected, deductible, D(ratio))
    if location != "out_of_province":
        assert any(ref.table == "HospitalFeeClass" for ref in r.refs)
    assert ("异地就医未备案" in r.explanation) == (not filed and location != "in_region")


def test_inpatient_deductible_per_admission():
    r1, r2 = run_seq(RESIDENT, [claim("inpatient", "10000", hospital=hosp(level=2, grade="B")),
                                claim("inpatient", "10000", hospital=hosp(level=2, grade="B"))])
    assert (paid(r1), paid(r2)) == ("8415.00", "8415.00")
    assert (str(r1.deductible), str(r2.deductible)) == ("100.00", "100.00")


def test_inpatient_below_deductible():
    r = run(RESIDENT, claim("inpatient", "80", hospital=hosp(level=2, grade="B")))
    assert (paid(r), str(r.deductible)) == ("0.00", "80.00")


def test_inpatient_basic_fund_annual_limit():
    r1, r2 = run_seq(RESIDENT, [claim("inpatient", "100000", hospital=hosp(level=2, grade="B")),
                                claim("inpatient", "10000", hospital=hosp(level=2, grade="B"))])
    assert (paid(r1), str(r1.capped)) == ("70000.00", "14915.00")   # 99900×85 % = 84915
    assert (paid(r2), r2.reason) == ("0.00", "limit_reached")


def test_inpatient_without_fee_class_row():
    plan = replace(RESIDENT, fee_classes=())
    r = run(plan, claim("inpatient", "10000", hospital=hosp(level=3, grade="A")))
    assert (paid(r), r.reason) == ("0.00", "level_not_covered")
    r = run(plan, claim("inpatient", "10000", hospital=hosp(level=3, location="out_of_province")))
    assert paid(r) == "4675.00"


@pytest.mark.parametrize("mode, total, expected", [
    ("vaginal", "5000", "1500.00"),
    ("cesarean", "5000", "3000.00"),
    ("cesarean", "2000", "2000.00"),   # never more than total
    ("vaginal", "1200", "1200.00"),
])
def test_delivery_fixed_amounts(mode, total, expected):
    r = run(RESIDENT, claim("delivery", total, delivery_mode=mode, hospital=hosp()))
    assert paid(r) == expected


def test_delivery_needs_mode():
    with pytest.raises(InvalidInput, match="delivery_mode"):
        run(RESIDENT, claim("delivery", "5000", hospital=hosp()))


# --------------------------------------------------------------------------- 职工大额


def test_employee_large_without_given_is_missing_rule():
    with pytest.raises(MissingRule) as exc:
        run(LARGE, claim("inpatient", "100000", hospital=hosp()), person(**EMPLOYEE_PERSON))
    message = exc.value.message
    for part in ("长治", "职工大额医疗费用补助", "2024", "比例"):
        assert part in message


@pytest.mark.parametrize("used, given, expected, capped", [
    ("0", "5000", "5000.00", "0.00"),
    ("499000", "5000", "1000.00", "4000.00"),
    ("500000", "5000", "0.00", "5000.00"),
])
def test_employee_large_given_capped_by_annual_limit(used, given, expected, capped):
    earlier = claim("inpatient", "600000", day=date(2024, 2, 1), hospital=hosp())
    history = [SettledClaim(earlier, (layer("employee_large", used, given=True),))]
    r = run(LARGE, claim("inpatient", "100000", hospital=hosp(),
                         given={"employee_large": GivenLayer(D(given))}),
            person(**EMPLOYEE_PERSON), history=history)
    assert (paid(r), str(r.capped), r.given) == (expected, capped, True)


# --------------------------------------------------------------------------- 大病保险


def prior(type_, compliant, basic, critical="0", day=date(2024, 2, 1), **kw) -> SettledClaim:
    c = claim(type_, compliant, day=day, **kw)
    return SettledClaim(c, (layer("resident_basic", basic), layer("critical_illness", critical)))


def crit(compliant, basic, *, who=None, history=(), type_="inpatient", basic_kind="resident_basic",
         **kw) -> LayerResult:
    c = claim(type_, compliant, hospital=kw.pop("hospital", hosp()), **kw)
    return run(CRITICAL, c, who, upstream=[layer(basic_kind, basic)], history=history)


@pytest.mark.parametrize("compliant, basic, expected, reason", [
    ("20000", "10000", "0.00", "below_threshold"),     # S exactly 10 000
    ("20000.01", "10000", "0.01", ""),                 # 0.01×75 % = 0.0075 → 0.01
    ("25000", "10000", "3750.00", ""),                 # (15000−10000)×75 %
    ("170000", "0", "120000.00", ""),                  # R = 170000 − 120000 = 50000 exactly
    ("170001", "0", "120000.88", ""),                  # 120000.75 + 0.125
    ("500000", "0", "400000.00", ""),                  # f = 408750, limit 400 000
])
def test_critical_ordinary_segments(compliant, basic, expected, reason):
    r = crit(compliant, basic)
    assert (paid(r), r.reason) == (expected, reason)


def test_critical_limit_capped_amount():
    r = crit("500000", "0")
    assert str(r.capped) == "8750.00"
    assert any(ref.table == "AnnualLimit" for ref in r.refs)


def test_critical_crossing_10000():
    r = crit("10000", "5000", history=[prior("inpatient", "10000", "2000")])
    assert paid(r) == "2250.00"                        # S 8000 → 13000: 3000×75 %
    assert "8000.00" in r.explanation and "13000.00" in r.explanation


def test_critical_second_segment_crossing_r_50000():
    r = crit("20000", "0", history=[prior("inpatient", "160000", "0", "112500")])
    assert paid(r) == "16250.00"                       # f(180000) 128750 − f(160000) 112500


def test_critical_limit_left_for_the_year():
    r = crit("10000", "0", history=[prior("inpatient", "460000", "0", "399000")])
    assert (paid(r), str(r.capped)) == ("1000.00", "7750.00")


@pytest.mark.parametrize("identity, compliant, expected", [
    (None, "15000", "3750.00"),
    ("tekun", "15000", "8000.00"),                     # (15000−5000)×80 %
    ("dibao", "15000", "8000.00"),
    ("poverty_return", "15000", "8000.00"),
    ("dibao_edge", "15000", "3750.00"),                # no rows of its own
    (HeldIdentity("tekun", None, date(2024, 5, 31)), "15000", "3750.00"),   # expired
    (HeldIdentity("tekun", date(2024, 6, 1)), "15000", "8000.00"),
    ("tekun", "500000", "423000.00"),                  # 396000 + 27000, no limit
    ("tekun", "5000", "0.00"),
])
def test_critical_poor_identity_rows(identity, compliant, expected):
    who = person(identity) if identity else person()
    assert paid(crit(compliant, "0", who=who)) == expected


@pytest.mark.parametrize("location, filed, compliant, expected", [
    ("in_province", False, "20000", "6500.00"),        # (20000−10000)×65 %
    ("out_of_province", False, "20000", "6500.00"),
    ("in_region", False, "20000", "7500.00"),          # local: no referral needed
    ("in_province", True, "20000", "7500.00"),
    ("in_province", False, "200000", "134100.00"),     # 123500 + (76500−50000)×40 %
    ("in_province", True, "200000", "146250.00"),      # 142500 + 3750
])
def test_critical_not_filed_out_of_region(location, filed, compliant, expected):
    r = crit(compliant, "0", filed=filed, hospital=hosp(location=location))
    assert paid(r) == expected


def test_critical_counts_chronic_not_outpatient():
    chronic = prior("chronic_outpatient", "20000", "14000", disease="CZ01")
    outpatient = prior("outpatient", "20000", "300", hospital=hosp())
    assert paid(crit("11000", "5000", history=[chronic])) == "1500.00"   # S 6000 → 12000
    assert paid(crit("11000", "5000", history=[outpatient])) == "0.00"   # S 0 → 6000


@pytest.mark.parametrize("plan, expected", [
    (CRITICAL, "6500.00"),                             # a referral_not_approved row for chronic
    (replace(CRITICAL, adjustments=tuple(a for a in CRITICAL.adjustments
                                         if a.claim_type == "inpatient")), "7500.00"),
])
def test_critical_adjustment_only_for_the_claim_types_of_its_rows(plan, expected):
    c = claim("chronic_outpatient", "30000", disease="CZ01", filed=False,
              hospital=hosp(location="in_province"))
    assert paid(run(plan, c, upstream=[layer("resident_basic", "10000")])) == expected


def test_critical_employee_basic_layer_is_the_basic():
    assert paid(crit("20000", "5000", basic_kind="employee_basic")) == "3750.00"


def test_critical_without_ordinary_segments_is_missing_rule():
    plan = replace(CRITICAL, segments=tuple(s for s in CRITICAL.segments if s.identity))
    with pytest.raises(MissingRule, match="大病保险普通人员分段"):
        run(plan, claim("inpatient", "20000", hospital=hosp()), upstream=[layer("resident_basic", 0)])


def test_critical_nothing_self_paid():
    assert paid(crit("1000", "1000")) == "0.00"


# --------------------------------------------------------------------------- 医疗救助


def assist(identities, compliant, upstream, *, type_="inpatient", history=(), location="in_region",
           filed=True, **kw) -> LayerResult:
    who = person(*identities)
    c = claim(type_, kw.pop("total", compliant), compliant=compliant, filed=filed,
              hospital=hosp(location=location), **kw)
    ups = [layer("resident_basic", upstream)] if not isinstance(upstream, list) else upstream
    return run(ASSISTANCE, c, who, upstream=ups, history=history)


def items(r: LayerResult) -> dict[str, str]:
    return {i.code: str(i.paid) for i in r.items}


@pytest.mark.parametrize("identity, expected", [
    ("tekun", "4000.00"),        # 100 %
    ("dibao", "2800.00"),        # 70 %
])
def test_assistance_inpatient_plain_ratio(identity, expected):
    r = assist([identity], "10000", "6000")
    assert paid(r) == expected
    assert items(r)["INPATIENT"] == expected


@pytest.mark.parametrize("location, upstream, expected, top_up", [
    ("in_region", "6000", "3000.00", "200.00"),     # 6000 + 2800 = 8800 < 9000
    ("in_province", "6000", "3000.00", "200.00"),
    ("out_of_province", "6000", "2800.00", None),   # no top-up outside the province
    ("in_region", "8500", "1050.00", "0.00"),       # 8500 + 1050 ≥ 9000
    ("in_region", "7000", "2100.00", "0.00"),       # 9100 ≥ 9000
])
def test_assistance_poverty_return_top_up_to_90(location, upstream, expected, top_up):
    r = assist(["poverty_return"], "10000", upstream, location=location)
    assert paid(r) == expected
    assert items(r).get("TOPUP") == top_up


@pytest.mark.parametrize("location, controlled, expected, ooc", [
    ("in_province", "1000", "3850.00", "850.00"),   # 2800 + 200 + 1000×85 %
    ("out_of_province", "1000", "2800.00", None),
    ("in_region", "3000", "4700.00", "1700.00"),    # 2800 + 200 + min(3000, 2000)×85 %
])
def test_assistance_poverty_return_ooc_controlled_85(location, controlled, expected, ooc):
    r = assist(["poverty_return"], "10000", "6000", location=location, total="12000",
               out_of_catalog="2000", out_of_catalog_controlled=controlled)
    assert paid(r) == expected
    assert items(r).get("OOC") == ooc


@pytest.mark.parametrize("identity", ["poverty_unstable", "edge_poverty", "sudden_hardship"])
@pytest.mark.parametrize("compliant, expected, reason", [
    ("13092", "0.00", "below_threshold"),    # basis 3092: exactly the threshold
    ("13093", "0.70", ""),
    ("20000", "4835.60", ""),                # (10000−3092)×70 %
])
def test_assistance_threshold_3092_at_70(identity, compliant, expected, reason):
    r = assist([identity], compliant, "10000")
    assert (paid(r), r.reason) == (expected, reason)


def test_assistance_threshold_is_on_the_ytd_basis():
    earlier = SettledClaim(claim("inpatient", "5000", day=date(2024, 2, 1), hospital=hosp()),
                           (layer("resident_basic", "3000"), layer("medical_assistance", "0")))
    r = assist(["poverty_unstable"], "9000", "5000", history=[earlier])
    assert paid(r) == "2035.60"                      # B 2000 → 6000: (6000−3092)×70 %


@pytest.mark.parametrize("identity, basis, expected", [
    ("dibao_edge", "10000", "4144.80"),      # (10000−3092)×60 %
    ("dibao_edge", "3000", "0.00"),
    ("illness_poverty", "10000", "1361.40"),  # (10000−7731)×60 %
    ("illness_poverty", "7731", "0.00"),
    ("illness_poverty", "7732", "0.60"),
])
def test_assistance_dibao_edge_and_illness_poverty(identity, basis, expected):
    assert paid(assist([identity], D(basis) + 1000, "1000")) == expected


def test_assistance_illness_poverty_crossing_7731():
    earlier = SettledClaim(claim("inpatient", "8000", day=date(2024, 2, 1), hospital=hosp()),
                           (layer("resident_basic", "1000"), layer("medical_assistance", "0")))
    assert paid(assist(["illness_poverty"], "2000", "1000", history=[earlier])) == "161.40"


def history_with_assistance(inpatient_items: str, basis_compliant="100000", basic="30000"):
    c = claim("inpatient", basis_compliant, day=date(2024, 2, 1), hospital=hosp(location="out_of_province"))
    a = LayerResult("medical_assistance", D(inpatient_items),
                    items=(ItemResult("INPATIENT", D(inpatient_items)),))
    return [SettledClaim(c, (layer("resident_basic", basic), a))]


@pytest.mark.parametrize("identity, used, compliant, upstream, expected", [
    ("dibao", "59000", "10000", "6000", "1000.00"),            # 2800 > 60000 − 59000
    ("dibao_edge", "39000", "20000", "10000", "1000.00"),      # 6000 > 40000 − 39000
    ("poverty_unstable", "59500", "20000", "10000", "500.00"),
    ("illness_poverty", "40000", "20000", "10000", "0.00"),
    ("tekun", "100000", "10000", "6000", "4000.00"),           # no limit
])
def test_assistance_annual_limits(identity, used, compliant, upstream, expected):
    r = assist([identity], compliant, upstream, history=history_with_assistance(used))
    assert paid(r) == expected


@pytest.mark.parametrize("identities, expected, chosen", [
    (["dibao", "illness_poverty"], "7000.00", "低保对象"),
    (["tekun", "dibao"], "10000.00", "特困人员"),
    (["dibao_edge", "poverty_unstable"], "4835.60", "脱贫不稳定户"),
])
def test_assistance_most_favourable_category(identities, expected, chosen):
    r = assist(identities, "20000", "10000")
    assert paid(r) == expected
    assert f"就高原则取{chosen}" in r.explanation


@pytest.mark.parametrize("identity, type_, expected, reason", [
    ("tekun", "chronic_outpatient", "444.00", ""),              # 740×60 %
    ("dibao", "chronic_outpatient", "222.00", ""),              # 740×30 %
    ("poverty_return", "chronic_outpatient", "0.00", "category_not_covered"),
])
def test_assistance_chronic(identity, type_, expected, reason):
    r = assist([identity], "1000", "260", type_=type_, disease="CZ18")
    assert (paid(r), r.reason) == (expected, reason)


@pytest.mark.parametrize("identity, expected", [("tekun", "1000.00"), ("dibao", "500.00")])
def test_assistance_special_drug(identity, expected):
    r = assist([identity], "10000", [layer("resident_basic", "5000")], type_="special_drug")
    assert paid(r) == expected
    assert items(r)["SPECIAL_DRUG"] == expected


@pytest.mark.parametrize("identity", ["orphan", "de_facto_orphan"])
@pytest.mark.parametrize("type_, compliant, upstream, expected", [
    ("inpatient", "10000", "6000", "4000.00"),            # (10000 − 6000) × 100 %, as 特困
    ("chronic_outpatient", "1000", "260", "444.00"),      # (1000 − 260) × 60 %
    ("special_drug", "10000", "5000", "1000.00"),         # (10000 − 5000) × 20 %
])
def test_assistance_orphans_follow_the_tekun_rows(identity, type_, compliant, upstream, expected):
    r = assist([identity], compliant, [layer("resident_basic", upstream)], type_=type_, disease="CZ18")
    assert (paid(r), r.reason) == (expected, "")
    row = dict(r.refs[0].values)  # the orphan's own AssistanceRule row, not the 特困 one
    assert (r.refs[0].table, row["identity"], row["kind"]) == ("AssistanceRule", identity, type_)


@pytest.mark.parametrize("identities, type_, reason", [
    ([], "inpatient", "no_assistance_identity"),
    ([HeldIdentity("dibao", None, date(2024, 5, 31))], "inpatient", "no_assistance_identity"),
    (["severe_disability"], "inpatient", "no_assistance_identity"),
    (["dibao"], "outpatient", "not_applicable"),
])
def test_assistance_pays_nothing(identities, type_, reason):
    r = assist(identities, "10000", "6000", type_=type_)
    assert (paid(r), r.reason) == ("0.00", reason)


def test_assistance_tilt_above_15460():
    r = assist(["dibao"], "200000", [layer("resident_basic", "80000"), layer("critical_illness", "20000")])
    # basis 100000 → dibao 70000 capped at 60000 → burden 40000 → (40000−15460)×70 %
    assert paid(r) == "77178.00"
    assert items(r) == {"INPATIENT": "60000.00", "TILT": "17178.00"}


def test_assistance_tilt_annual_limit_30000():
    c = claim("inpatient", "50000", day=date(2024, 2, 1), hospital=hosp())
    earlier_assist = LayerResult("medical_assistance", D("20000"),
                                 items=(ItemResult("INPATIENT", D("0")), ItemResult("TILT", D("20000"))))
    history = [SettledClaim(c, (layer("resident_basic", "30000"), earlier_assist))]
    r = assist(["dibao"], "200000", "100000", history=history)
    assert items(r) == {"INPATIENT": "60000.00", "TILT": "10000.00"}   # 30000 − 20000 left
    assert paid(r) == "70000.00"


@pytest.mark.parametrize("location, filed, tilt", [
    ("in_region", True, "17178.00"),
    ("in_province", True, "17178.00"),
    ("in_province", False, "0.00"),           # not 规范转诊
    ("out_of_province", True, "0.00"),        # not 省域内
])
def test_assistance_tilt_needs_filed_in_province(location, filed, tilt):
    r = assist(["dibao"], "200000", "100000", location=location, filed=filed)
    assert items(r)["TILT"] == tilt


def test_assistance_tilt_is_cumulative_over_the_year():
    who = person("dibao")
    first = claim("inpatient", "40000", day=date(2024, 2, 1), hospital=hosp())
    up1 = [layer("resident_basic", "30000")]
    a1 = run(ASSISTANCE, first, who, upstream=up1)
    assert items(a1) == {"INPATIENT": "7000.00", "TILT": "0.00"}     # burden 3000
    history = [SettledClaim(first, tuple(up1) + (a1,))]
    second = claim("inpatient", "100000", hospital=hosp())
    a2 = run(ASSISTANCE, second, who, upstream=[layer("resident_basic", "50000")], history=history)
    # basis 50000 → 35000; burden 15000; YTD 3000 → 18000: (18000−15460)×70 %
    assert items(a2) == {"INPATIENT": "35000.00", "TILT": "1778.00"}
    assert paid(a2) == "36778.00"


def test_assistance_tilt_for_threshold_category_and_tekun():
    r = assist(["poverty_unstable"], "100000", "40000")
    # 39835.60 (above 3092 at 70 %), burden 20164.40 → (20164.40−15460)×70 % = 3293.08
    assert items(r) == {"INPATIENT": "39835.60", "TILT": "3293.08"}
    r = assist(["tekun"], "100000", "40000")
    assert items(r) == {"INPATIENT": "60000.00", "TILT": "0.00"}


def test_assistance_tilt_without_category_row_for_the_kind():
    r = assist(["poverty_unstable"], "30000", "10000", type_="chronic_outpatient", disease="CZ01")
    assert (paid(r), items(r)) == ("3178.00", {"TILT": "3178.00"})   # (20000−15460)×70 %


def test_assistance_ooc_is_not_policy_scope_burden():
    r = assist(["poverty_return"], "200000", "100000", location="in_province", total="201000",
               out_of_catalog="1000", out_of_catalog_controlled="1000")
    # 70000 + top-up 10000 (to 180000) → burden 20000 → tilt 3178; OOC 850 apart
    assert items(r) == {"INPATIENT": "70000.00", "TOPUP": "10000.00", "OOC": "850.00",
                        "TILT": "3178.00"}
    assert paid(r) == "84028.00"


def test_assistance_items_round_to_the_layer_total():
    r = assist(["poverty_return"], "10000", "6000.01")
    # 3999.99×70 % = 2799.993; top-up 199.997; total 2999.99
    assert paid(r) == "2999.99"
    assert items(r) == {"INPATIENT": "2799.99", "TOPUP": "200.00", "TILT": "0.00"}


def test_assistance_explanation_names_rows():
    r = assist(["poverty_unstable"], "20000", "10000")
    assert "3092.00" in r.explanation and "30920.00" in r.explanation
    tables = {ref.table for ref in r.refs}
    assert {"AssistanceRule", "PlanFigure"} <= tables


# --------------------------------------------------------------------------- end to end


PLANS = region_plans()
RESIDENT_STACK = [coverage("resident_basic"), coverage("critical_illness"),
                  coverage("medical_assistance")]
EMPLOYEE_STACK = [coverage("employee_basic"), coverage("employee_large")]


def layers(settled: SettledClaim) -> dict[str, str]:
    """Paid per layer, two decimals."""
    return {lr.scheme: f"{lr.paid:.2f}" for lr in settled.layers}


def test_e2e_ex4():
    s = settle_claim(plans=PLANS, person=CZ18, coverages=RESIDENT_STACK,
                     claim=claim("chronic_outpatient", "500", disease="CZ18", hospital=hosp()))
    assert layers(s) == {"resident_basic": "260.00", "critical_illness": "0.00",
                         "medical_assistance": "0.00"}
    assert s.fund_total == D("260.00")


def test_e2e_dibao_inpatient_full_stack():
    s = settle_claim(plans=PLANS, person=person("dibao"), coverages=RESIDENT_STACK,
                     claim=claim("inpatient", "100000", hospital=hosp(level=3, grade="A", admin="city")))
    # basic (100000−1000)×60 %; critical (40600−5000)×80 %; assistance 12120×70 %
    assert layers(s) == {"resident_basic": "59400.00", "critical_illness": "28480.00",
                         "medical_assistance": "8484.00"}
    assert D("100000") - s.fund_total == D("3636.00")


def test_e2e_critical_year_to_date_through_settle():
    who = person()
    first = settle_claim(plans=PLANS, person=who, coverages=RESIDENT_STACK,
                         claim=claim("inpatient", "40000", day=date(2024, 3, 1),
                                     hospital=hosp(level=2, grade="B")))
    assert layers(first)["resident_basic"] == "33915.00"          # 39900×85 %
    assert layers(first)["critical_illness"] == "0.00"            # S 6085
    second = settle_claim(plans=PLANS, person=who, coverages=RESIDENT_STACK, history=[first],
                          claim=claim("inpatient", "30000", hospital=hosp(level=2, grade="B")))
    assert layers(second)["resident_basic"] == "25415.00"
    assert layers(second)["critical_illness"] == "502.50"         # S 6085 → 10670


def test_e2e_employee_first_class_after_given_inpatient():
    who = person(registrations=[reg("CZ01")], **EMPLOYEE_PERSON)
    given = {"employee_basic": GivenLayer(D("78000")), "employee_large": GivenLayer(D("10000"))}
    first = settle_claim(plans=PLANS, person=who, coverages=EMPLOYEE_STACK,
                         claim=claim("inpatient", "100000", day=date(2024, 3, 1), hospital=hosp(),
                                     given=given))
    assert layers(first) == {"employee_basic": "78000.00", "employee_large": "10000.00"}
    second = settle_claim(plans=PLANS, person=who, coverages=EMPLOYEE_STACK, history=[first],
                          claim=claim("chronic_outpatient", "10000", disease="CZ01",
                                      given={"employee_large": GivenLayer(D("0"))}))
    assert layers(second)["employee_basic"] == "2000.00"          # 8500 > 80000 − 78000


def test_e2e_employee_second_class_large_not_applicable():
    who = person(registrations=[reg("CZ18")], **EMPLOYEE_PERSON)
    s = settle_claim(plans=PLANS, person=who, coverages=EMPLOYEE_STACK,
                     claim=claim("chronic_outpatient", "500", disease="CZ18"))
    assert layers(s) == {"employee_basic": "340.00", "employee_large": "0.00"}
    assert s.layer("employee_large").reason == "not_applicable"


@pytest.mark.parametrize("earlier_large, given_large, expected, capped", [
    ("495000", "4000", "4000.00", "0.00"),     # within what is left of 500 000
    ("495000", "5000", "5000.00", "0.00"),     # exactly at the limit
    ("495000", "8000", "5000.00", "3000.00"),  # crosses it: the hospital's figure is limited
    ("500000", "1000", "0.00", "1000.00"),     # limit reached by the earlier claim
])
def test_e2e_given_employee_large_limited_by_annual_limit(earlier_large, given_large, expected, capped):
    who = person(**EMPLOYEE_PERSON)
    first = settle_claim(plans=PLANS, person=who, coverages=EMPLOYEE_STACK,
                         claim=claim("inpatient", "700000", day=date(2024, 3, 1), hospital=hosp(),
                                     given={"employee_basic": GivenLayer(D("80000")),
                                            "employee_large": GivenLayer(D(earlier_large))}))
    second = settle_claim(plans=PLANS, person=who, coverages=EMPLOYEE_STACK, history=[first],
                          claim=claim("inpatient", "100000", hospital=hosp(),
                                      given={"employee_basic": GivenLayer(D("0")),
                                             "employee_large": GivenLayer(D(given_large))}))
    large = second.layer("employee_large")
    assert (f"{large.paid:.2f}", f"{large.capped:.2f}", large.given) == (expected, capped, True)


# --------------------------------------------------------------------------- 门诊特药 (given basic)

SPECIAL_DRUG = dict(total="10000", special_drug=D("10000"))


@pytest.mark.parametrize("identity, basic_paid, expected", [
    ("tekun", "6000", "800.00"),      # (10000 − given basic 6000) × 20 %
    ("dibao", "6000", "400.00"),      # (10000 − 6000) × 10 %
    ("orphan", "7500", "500.00"),     # (10000 − 7500) × 20 % (特困 row)
    ("tekun", "0", "2000.00"),        # the hospital's basic layer paid nothing: 10000 × 20 %
])
def test_e2e_special_drug_assistance_on_what_the_given_basic_layer_left(identity, basic_paid, expected):
    s = settle_claim(plans=PLANS, person=person(identity), coverages=RESIDENT_STACK,
                     claim=claim("special_drug", given={"resident_basic": GivenLayer(D(basic_paid))},
                                 **SPECIAL_DRUG))
    assert layers(s) == {"resident_basic": f"{D(basic_paid):.2f}", "critical_illness": "0.00",
                         "medical_assistance": expected}
    assert s.layer("resident_basic").given is True
    assert s.layer("critical_illness").reason == "not_applicable"  # 大病 does not pay special drugs


@pytest.mark.parametrize("who, stack, scheme_name, kind", [
    (person("tekun"), RESIDENT_STACK, "城乡居民基本医疗保险", "resident_basic"),
    (person("tekun", **EMPLOYEE_PERSON), EMPLOYEE_STACK + [coverage("medical_assistance")],
     "职工基本医疗保险", "employee_basic"),
])
def test_e2e_special_drug_without_the_given_basic_layer_is_missing_rule(who, stack, scheme_name, kind):
    with pytest.raises(MissingRule) as err:
        settle_claim(plans=PLANS, person=who, coverages=stack, claim=claim("special_drug", **SPECIAL_DRUG))
    assert scheme_name in err.value.message and "2024" in err.value.message
    assert f"given.{kind}.paid" in err.value.message


def test_e2e_employee_special_drug_given_basic_large_not_applicable():
    # employee_large applies to inpatient and 一类 chronic only; assistance (10000 − 7000) × 20 %
    s = settle_claim(plans=PLANS, person=person("tekun", **EMPLOYEE_PERSON),
                     coverages=EMPLOYEE_STACK + [coverage("medical_assistance")],
                     claim=claim("special_drug", given={"employee_basic": GivenLayer(D("7000"))},
                                 **SPECIAL_DRUG))
    assert layers(s) == {"employee_basic": "7000.00", "employee_large": "0.00",
                         "medical_assistance": "600.00"}


def test_given_result_of_a_layer_that_does_not_apply_is_reported_as_not_used():
    s = settle_claim(plans=PLANS, person=person("tekun"), coverages=RESIDENT_STACK,
                     claim=claim("special_drug", given={"resident_basic": GivenLayer(D("6000")),
                                                        "critical_illness": GivenLayer(D("100"))},
                                 **SPECIAL_DRUG))
    critical = s.layer("critical_illness")
    assert (critical.paid, critical.reason) == (D("0.00"), "not_applicable")
    assert "带入的本层结算结果（支付 100.00）不予采用" in critical.explanation
    assert layers(s)["medical_assistance"] == "800.00"
