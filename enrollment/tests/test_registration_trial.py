"""Trial calculation of ``registration`` cases (spec trial-calc.md) through
``enrollment.trial.registrations.registration_case`` with the seed rows loaded by
``load_policies`` (fixture ``loaded_policies``)."""
import pytest

from enrollment.trial.registrations import registration_case
from insurance_rules.errors import InvalidInput, NotEligible, UnknownCode

PERSON = {"birth_date": "1960-05-01", "category": "resident"}
BP3 = [{"date": "2024-03-01", "systolic": 150, "diastolic": 95},
       {"date": "2024-03-08", "systolic": 145, "diastolic": 92},
       {"date": "2024-03-15", "systolic": 142, "diastolic": 88}]


def case(disease="HBP", evidence=None, **extra):
    data = {"id": "r-1", "kind": "registration", "region": "140400", "disease": disease,
            "date": "2024-04-01", "scheme": "resident_basic", "person": dict(PERSON)}
    if evidence is not None:
        data["evidence"] = evidence
    data.update(extra)
    return data


@pytest.fixture
def rows(loaded_policies):
    return loaded_policies


def run(data, plan_status="active"):
    return registration_case(data, plan_status=plan_status)


def test_hbp_admitted(rows):
    assert run(case(evidence={"bp": BP3, "needs_medication": True})) == {
        "id": "r-1", "ok": True, "admitted": True}


def test_spec_example_single_reading_refused(rows):
    result = run(case(evidence={
        "bp": [{"date": "2024-03-01", "systolic": 150, "diastolic": 95}], "hba1c": None,
        "fasting_glucose": None, "random_glucose": None, "symptoms": False, "ogtt_2h": None,
        "type1_confirmed": False, "needs_medication": True}))
    assert result["ok"] is True and result["admitted"] is False
    assert set(result) == {"id", "ok", "admitted", "reason"}
    assert "血压测量日数：1 个不同日期" in result["reason"]


@pytest.mark.parametrize(("systolic", "diastolic", "admitted"), [
    (139, 89, False), (140, 89, True), (139, 90, True)])
def test_hbp_boundary(rows, systolic, diastolic, admitted):
    bp = BP3[:2] + [{"date": "2024-03-15", "systolic": systolic, "diastolic": diastolic}]
    assert run(case(evidence={"bp": bp, "needs_medication": True}))["admitted"] is admitted


def test_hbp_same_date_counts_once(rows):
    bp = [dict(BP3[0]), dict(BP3[0]), dict(BP3[1])]
    result = run(case(evidence={"bp": bp, "needs_medication": True}))
    assert result["admitted"] is False
    assert "2 个不同日期" in result["reason"]


def test_missing_flag_is_false(rows):
    result = run(case(evidence={"bp": BP3}))
    assert result["admitted"] is False
    assert "需采取药物治疗" in result["reason"]


@pytest.mark.parametrize(("evidence", "admitted"), [
    ({"hba1c": 7.0, "fasting_glucose": 7.0}, True),
    ({"hba1c": "6.9", "fasting_glucose": "9.0"}, False),
    ({"hba1c": "7.0", "random_glucose": "11.1", "symptoms": True}, True),
    ({"hba1c": "7.0", "random_glucose": "11.0", "symptoms": True}, False),
    ({"hba1c": "7.0", "random_glucose": "15", "symptoms": False}, False),
    ({"hba1c": "7.0", "ogtt_2h": "11.1"}, True),
    ({"hba1c": "7.0", "ogtt_2h": "11.0"}, False),
    ({"fasting_glucose": "9.0"}, False),
])
def test_dm2(rows, evidence, admitted):
    assert run(case("DM2", evidence))["admitted"] is admitted


def test_dm1(rows):
    assert run(case("DM1", {"type1_confirmed": True}))["admitted"] is True
    result = run(case("DM1"))  # evidence omitted: flag false
    assert result["admitted"] is False and "Ⅰ型糖尿病：未确诊" in result["reason"]


def test_closed_class(rows):
    result = run(case("CZ46"))
    assert result["admitted"] is False
    assert "三类门诊慢性病不再新纳入" in result["reason"]


@pytest.mark.parametrize(("disease", "excluder", "evidence"), [
    ("HBP", "CZ18", {"bp": BP3, "needs_medication": True}),
    ("DM2", "CZ35", {"hba1c": "8", "fasting_glucose": "8"}),
    ("DM1", "CZ35", {"type1_confirmed": True}),
])
@pytest.mark.parametrize(("valid_to", "refused"), [("2025-04-30", True), ("2024-03-31", False)])
def test_exclusion(rows, disease, excluder, evidence, valid_to, refused):
    data = case(disease, evidence)
    data["person"]["registrations"] = [{"disease": excluder, "approved": "2023-05-01",
                                        "valid_to": valid_to}]
    result = run(data)
    assert result["admitted"] is (not refused)
    if refused:
        assert f"已纳入门诊慢性病 {excluder}" in result["reason"]


def test_chronic_disease_admitted_subject_to_review(rows):
    assert run(case("CZ18"))["admitted"] is True
    employee = case("CZ18", scheme="employee_basic")
    employee["person"]["category"] = "employee_active"
    assert run(employee)["admitted"] is True


def test_employee_has_no_two_disease_benefit(rows):
    data = case("HBP", {"bp": BP3, "needs_medication": True}, scheme="employee_basic")
    data["person"]["category"] = "employee_retired"
    result = run(data)
    assert result["admitted"] is False
    assert "职工基本医疗保险 2024 年度方案未设 HBP" in result["reason"]


def test_scheme_defaults_from_category(rows):
    data = case("HBP", {"bp": BP3, "needs_medication": True})
    del data["scheme"]
    assert run(data)["admitted"] is True


def test_employee_cannot_apply_under_resident_scheme(rows):
    data = case("CZ18")
    data["person"]["category"] = "employee_active"
    with pytest.raises(NotEligible):
        run(data)


@pytest.mark.parametrize(("change", "error"), [
    ({"disease": "CZ99"}, UnknownCode),
    ({"region": "999999"}, UnknownCode),
    ({"disease": "HBP", "region": "500231"}, UnknownCode),  # not in 垫江's catalogue
    ({"scheme": "no_such_scheme"}, UnknownCode),
    ({"disease": None}, InvalidInput),
    ({"date": "2024-13-01"}, InvalidInput),
    ({"date": None}, InvalidInput),
    ({"person": None}, InvalidInput),
    ({"evidence": {"bp": [{"date": "2024-03-01", "diastolic": 90}]}}, InvalidInput),
    ({"evidence": {"bp": [{"date": "2024-03-01", "systolic": 80, "diastolic": 90}]}}, InvalidInput),
    ({"evidence": {"bp": [{"date": "2024-05-01", "systolic": 150, "diastolic": 90}]}}, InvalidInput),
    ({"evidence": {"bp": "150/95"}}, InvalidInput),
    ({"evidence": {"hba1c": "abc"}}, InvalidInput),
    ({"evidence": {"hba1c": -1}}, InvalidInput),
    ({"evidence": {"symptoms": "yes"}}, InvalidInput),
    ({"evidence": []}, InvalidInput),
])
def test_errors(rows, change, error):
    with pytest.raises(error):
        run({**case(), **change})


def test_unknown_identity_and_registration_codes(rows):
    data = case("CZ18")
    data["person"]["identities"] = ["no_such_identity"]
    with pytest.raises(UnknownCode):
        run(data)
    data = case("HBP")
    data["person"]["registrations"] = [{"disease": "CZ99", "approved": "2023-01-01"}]
    with pytest.raises(UnknownCode):
        run(data)


def test_draft_status_reads_plan_in_force_when_no_draft(rows):
    assert run(case("CZ18"), plan_status="draft")["admitted"] is True


def test_no_plan_year_is_missing_rule_unless_refused_anyway(rows):
    from insurance_rules.errors import MissingRule
    with pytest.raises(MissingRule, match="2019 年度方案"):
        run(case("CZ18", date="2019-06-01"))
    result = run(case("CZ46", date="2021-04-01"))  # closed whatever the plan year
    assert result["admitted"] is False and "不再新纳入" in result["reason"]
