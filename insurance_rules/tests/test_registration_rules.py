"""Pure admission criteria (insurance_rules/enrollment/registration.py; spec changzhi.md “两病”
admission criteria, closed 三类, exclusion by CZ18/CZ35). No database: the rows are
built by hand with the seed's values."""
from datetime import date
from decimal import Decimal as D

import pytest

from insurance_rules.enrollment.registration import BloodPressure, Evidence, assess, criteria_checks
from insurance_rules.errors import MissingRule
from insurance_rules.facts import HeldRegistration
from insurance_rules.params import ChronicRule, Criterion, Disease, TwoDiseaseRule

CZ18 = Disease(1, "CZ18", "高血压3级（极高危）", "chronic", 2, None, None)
CZ35 = Disease(2, "CZ35", "糖尿病（合并严重并发症）", "chronic", 2, None, None)
CZ46 = Disease(3, "CZ46", "碘缺乏症", "chronic", 3, date(2021, 4, 1), None)
HBP = Disease(4, "HBP", "高血压", "two_diseases", 0, None, "CZ18")
DM1 = Disease(5, "DM1", "Ⅰ型糖尿病", "two_diseases", 0, None, "CZ35")
DM2 = Disease(6, "DM2", "其他类型糖尿病", "two_diseases", 0, None, "CZ35")

CRITERIA = (
    Criterion(11, "HBP", "bp_days", D("3")),
    Criterion(12, "HBP", "bp_systolic", D("140")),
    Criterion(13, "HBP", "bp_diastolic", D("90")),
    Criterion(14, "DM2", "hba1c", D("7.0")),
    Criterion(15, "DM2", "random_glucose", D("11.1")),
    Criterion(16, "DM2", "fasting_glucose", D("7.0")),
    Criterion(17, "DM2", "ogtt_2h", D("11.1")),
)
NAMES = {"CZ18": CZ18.name, "CZ35": CZ35.name}
APPLIED = date(2024, 4, 1)
LABEL = "长治市 城乡居民基本医疗保险 2024 年度方案"


def two_benefit(disease, limit="260"):
    return TwoDiseaseRule(21, disease, D("0"), D("60"), D("50"), D(limit))


def chronic_benefit(disease, monthly="260"):
    return ChronicRule(22, disease, D(monthly), D("70"), D("0"), "")


NO_EVIDENCE = Evidence()


def run(disease, evidence=NO_EVIDENCE, *, held=(), benefit="auto", day=APPLIED, criteria=CRITERIA):
    if benefit == "auto":
        benefit = two_benefit(disease) if disease.kind == "two_diseases" else chronic_benefit(disease)
    return assess(disease=disease, application_date=day, evidence=evidence, held=held,
                  benefit=benefit, criteria=criteria, plan_label=LABEL, names=NAMES)


def bp(*readings, needs_medication=True):
    return Evidence(bp=tuple(BloodPressure(date(2024, 3, d), D(s), D(di)) for d, s, di in readings),
                    needs_medication=needs_medication)


def check(result, code):
    return next(c for c in result.checks if c.code == code)


# --------------------------------------------------------------------------- HBP


@pytest.mark.parametrize(("systolic", "diastolic", "admitted"), [
    (140, 80, True),   # systolic at the bound
    (139, 89, False),  # both just below
    (139, 90, True),   # diastolic at the bound ("and/or")
    (150, 95, True),
    (139, 80, False),
])
def test_hbp_reading_bounds(systolic, diastolic, admitted):
    ev = bp((1, 150, 95), (2, 150, 95), (3, systolic, diastolic))
    result = run(HBP, ev)
    assert result.admitted is admitted
    assert check(result, "bp_level").passed is admitted
    if not admitted:
        assert f"2024-03-03 {systolic}/{diastolic}" in result.reason


def test_hbp_all_passed_lists_each_criterion():
    result = run(HBP, bp((1, 150, 95), (5, 145, 92), (9, 141, 70)))
    assert result.admitted
    assert [c.code for c in result.checks] == ["excluded", "benefit", "bp_days", "bp_level",
                                                "needs_medication"]
    assert all(c.passed for c in result.checks)
    assert "血压：3 个不同日期的读数均 ≥140/90 mmHg" in check(result, "bp_level").line
    assert check(result, "bp_level").line.endswith("✓")


def test_hbp_two_readings_on_same_date_count_once():
    result = run(HBP, bp((1, 150, 95), (1, 152, 96), (2, 150, 95)))
    assert not result.admitted
    days = check(result, "bp_days")
    assert not days.passed
    assert "2 个不同日期" in days.text and "同一日期多次测量只计 1 日" in days.text
    assert result.reason == days.text


@pytest.mark.parametrize(("days", "admitted"), [(2, False), (3, True), (4, True)])
def test_hbp_distinct_dates(days, admitted):
    ev = bp(*[(d, 150, 95) for d in range(1, days + 1)])
    assert run(HBP, ev).admitted is admitted


def test_hbp_every_reading_counts_even_on_a_counted_date():
    # 3 distinct dates but one of two readings of 2024-03-01 is normal
    result = run(HBP, bp((1, 150, 95), (1, 120, 80), (2, 150, 95), (3, 150, 95)))
    assert check(result, "bp_days").passed
    assert not check(result, "bp_level").passed
    assert "2024-03-01 120/80" in result.reason


def test_hbp_needs_medication_false():
    result = run(HBP, bp((1, 150, 95), (2, 150, 95), (3, 150, 95), needs_medication=False))
    assert not result.admitted
    assert result.reason == "未注明需采取药物治疗（准入须需采取药物治疗）"


def test_hbp_no_readings():
    result = run(HBP, Evidence(needs_medication=True))
    assert not result.admitted
    assert "未提供诊室血压读数" in result.reason


def test_hbp_thresholds_come_from_rows():
    rows = (Criterion(1, "HBP", "bp_days", D("2")), Criterion(2, "HBP", "bp_systolic", D("130")),
            Criterion(3, "HBP", "bp_diastolic", D("85")))
    ev = bp((1, 131, 70), (2, 120, 85))
    assert run(HBP, ev, criteria=rows).admitted
    assert not run(HBP, ev).admitted


def test_hbp_missing_row_is_missing_rule():
    rows = tuple(c for c in CRITERIA if c.code != "bp_diastolic")
    with pytest.raises(MissingRule, match="舒张压下限"):
        run(HBP, bp((1, 150, 95)), criteria=rows)


def test_hbp_without_any_row_is_missing_rule():
    rows = tuple(c for c in CRITERIA if c.disease != "HBP")
    with pytest.raises(MissingRule, match="HBP"):
        run(HBP, bp((1, 150, 95)), criteria=rows)


def test_management_record_admits_directly():
    result = run(HBP, Evidence(management_record=True))
    assert result.admitted
    assert check(result, "management_record").passed


# --------------------------------------------------------------------------- DM2


def dm2(hba1c=None, random=None, fasting=None, ogtt=None, symptoms=False):
    def conv(v):
        return None if v is None else D(v)

    return Evidence(hba1c=conv(hba1c), random_glucose=conv(random), fasting_glucose=conv(fasting),
                    ogtt_2h=conv(ogtt), symptoms=symptoms)


@pytest.mark.parametrize("hba1c", ["6.9", "7.0"])
@pytest.mark.parametrize(("glucose", "value", "met"), [
    ("random", "11.0", False), ("random", "11.1", True),
    ("fasting", "6.9", False), ("fasting", "7.0", True),
    ("ogtt", "11.0", False), ("ogtt", "11.1", True),
])
def test_dm2_bounds(hba1c, glucose, value, met):
    ev = dm2(hba1c=hba1c, symptoms=True, **{glucose: value})
    result = run(DM2, ev)
    assert check(result, "hba1c").passed is (hba1c == "7.0")
    assert check(result, "glucose_any").passed is met
    assert result.admitted is (met and hba1c == "7.0")


def test_dm2_symptoms_false_with_high_random_glucose():
    result = run(DM2, dm2(hba1c="8.0", random="15.0", symptoms=False))
    assert not result.admitted
    random = check(result, "random_glucose")
    assert not random.passed and not random.decisive
    assert "未注明糖尿病症状" in random.text
    assert not check(result, "glucose_any").passed


def test_dm2_glucose_without_hba1c():
    result = run(DM2, dm2(fasting="9.0"))
    assert not result.admitted
    assert result.reason.startswith("糖化血红蛋白：未提供检验结果")


def test_dm2_one_alternative_is_enough_and_all_are_listed():
    result = run(DM2, dm2(hba1c="7.5", ogtt="12.0"))
    assert result.admitted
    codes = [c.code for c in result.checks]
    assert codes == ["excluded", "benefit", "hba1c", "random_glucose", "fasting_glucose",
                     "ogtt_2h", "glucose_any"]
    assert [c.passed for c in result.checks[3:6]] == [False, False, True]


def test_dm2_alternative_without_row_is_not_offered():
    rows = tuple(c for c in CRITERIA if c.code != "ogtt_2h")
    result = run(DM2, dm2(hba1c="7.5", ogtt="12.0"), criteria=rows)
    assert not result.admitted
    assert "ogtt_2h" not in [c.code for c in result.checks]


# --------------------------------------------------------------------------- DM1


@pytest.mark.parametrize("confirmed", [True, False])
def test_dm1_type1_confirmed(confirmed):
    result = run(DM1, Evidence(type1_confirmed=confirmed))
    assert result.admitted is confirmed
    assert check(result, "type1_confirmed").passed is confirmed


# --------------------------------------------------------------------------- gates


@pytest.mark.parametrize(("day", "admitted"), [(date(2021, 3, 31), True), (date(2021, 4, 1), False)])
def test_closed_class(day, admitted):
    result = run(CZ46, day=day)
    assert result.admitted is admitted
    if not admitted:
        assert "三类门诊慢性病不再新纳入" in result.reason
        assert [c.code for c in result.checks] == ["closed", "benefit"]


@pytest.mark.parametrize(("disease", "excluder"), [(HBP, "CZ18"), (DM1, "CZ35"), (DM2, "CZ35")])
@pytest.mark.parametrize(("valid_to", "refused"), [
    (date(2025, 4, 30), True),   # valid on the application date
    (None, True),                # open-ended
    (date(2024, 3, 31), False),  # expired the day before
    (date(2024, 4, 1), True),    # last day of validity = application date
])
def test_exclusion_by_chronic_registration(disease, excluder, valid_to, refused):
    held = (HeldRegistration(excluder, date(2023, 5, 1), valid_to),)
    ev = Evidence(bp=bp((1, 150, 95), (2, 150, 95), (3, 150, 95)).bp, needs_medication=True,
                  hba1c=D("8"), fasting_glucose=D("8"), type1_confirmed=True)
    result = run(disease, ev, held=held)
    assert result.admitted is not refused
    assert check(result, "excluded").passed is not refused
    if refused:
        assert f"已纳入门诊慢性病 {excluder} {NAMES[excluder]}" in result.reason


def test_exclusion_ignores_registration_approved_after_application():
    held = (HeldRegistration("CZ18", date(2024, 5, 1), None),)
    assert run(HBP, bp((1, 150, 95), (2, 150, 95), (3, 150, 95)), held=held).admitted


def test_exclusion_ignores_other_diseases():
    held = (HeldRegistration("CZ35", date(2023, 5, 1), None),)
    assert run(HBP, bp((1, 150, 95), (2, 150, 95), (3, 150, 95)), held=held).admitted


def test_no_benefit_row_is_refused_without_evaluating_criteria():
    result = run(CZ46, benefit=None, day=date(2020, 1, 1),
                 criteria=())
    assert not result.admitted
    assert "未设 CZ46 碘缺乏症 的待遇标准" in result.reason
    # HBP for an employee scheme: no benefit row, and no criterion rows needed either
    result = run(HBP, bp((1, 150, 95)), benefit=None, criteria=())
    assert [c.code for c in result.checks] == ["excluded", "benefit"]
    assert not result.admitted


def test_chronic_disease_admitted_subject_to_review():
    result = run(CZ18)
    assert result.admitted
    assert [c.code for c in result.checks] == ["benefit", "diagnosis"]
    assert "月支付限额 260 元" in check(result, "benefit").text


def test_rows_drive_criteria_of_any_disease():
    rows = (Criterion(1, "CZ35", "hba1c", D("7.0")), Criterion(2, "CZ35", "fasting_glucose", D("7.0")))
    codes = [c.code for c in criteria_checks(CZ35, rows, Evidence())]
    assert codes == ["hba1c", "fasting_glucose", "glucose_any"]
