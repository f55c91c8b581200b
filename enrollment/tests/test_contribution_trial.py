"""Trial-calc ``contribution`` cases through ``enrollment.trial.contribution_case`` against
the fixture rows (trial-calc.md ``contribution`` and worked example ex-3)."""

import pytest

from enrollment.trial.contributions import contribution_case
from insurance_rules.errors import CaseError
from insurance_rules.tests.spec_examples import load_examples
from policies.models import PlanYear

from .contribution_setup import contribution_rows  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("contribution_rows")

ADULT = {"birth_date": "1980-06-15", "category": "resident"}


def case(region="500231", scheme="resident_basic", paid="2023-11-20", tier=1, person=None, **kw):
    data = {"id": "t", "kind": "contribution", "region": region, "scheme": scheme, "year": 2024,
            "tier": tier, "paid_date": paid, "channel": "wechat", "person": person or ADULT}
    data.update(kw)
    return data


def run(data, plan_status="active"):
    return contribution_case(data, plan_status=plan_status)


def error(data, plan_status="active"):
    with pytest.raises(CaseError) as exc:
        run(data, plan_status)
    return exc.value.code, exc.value.message


EX3 = {"id": "ex-3", "kind": "contribution", "region": "500231", "scheme": "resident_basic",
       "year": 2024, "tier": 1, "paid_date": "2023-11-20", "channel": "wechat",
       "person": {"birth_date": "1980-06-15", "category": "resident", "identities": ["dibao"]}}


def test_worked_example_ex3():
    expected = {"id": "ex-3", "ok": True, "due": "380.00", "subsidy": "342.00",
                "self_pay": "38.00", "coverage_start": "2024-01-01", "coverage_end": "2024-12-31"}
    assert run(EX3) == expected
    spec = load_examples()  # the spec's example file (copied into insurance_rules/tests/data)
    ex3 = next(c for c in spec["cases"] if c["id"] == "ex-3")
    assert run(ex3) == {"id": "ex-3", "ok": True, **spec["expect"]["ex-3"]}


def test_contract_example_c1():
    result = run(case(paid="2024-03-10", id="c-1"))
    assert result == {"id": "c-1", "ok": True, "due": "380.00", "subsidy": "0.00",
                      "self_pay": "380.00", "coverage_start": "2024-06-08",
                      "coverage_end": "2024-12-31"}


@pytest.mark.parametrize("paid, tier, expected", [
    ("2023-12-31", 1, ("380.00", "2024-01-01")),
    ("2024-01-01", 1, ("380.00", "2024-01-02")),
    ("2024-02-29", 2, ("755.00", "2024-03-01")),
    ("2024-03-01", 1, ("380.00", "2024-05-30")),
    ("2024-06-30", 2, ("755.00", "2024-09-28")),
    ("2024-07-01", 1, ("1050.00", "2024-09-29")),
    ("2024-07-01", 2, ("1425.00", "2024-09-29")),
    ("2024-09-30", 1, ("1050.00", "2024-12-29")),
])
def test_dianjiang_boundaries_from_fixture_rows(paid, tier, expected):
    result = run(case(paid=paid, tier=tier))
    assert (result["due"], result["coverage_start"]) == expected


def test_dianjiang_closed_after_september():
    assert error(case(paid="2024-10-01")) == ("window_closed", "2024 年度缴费已截止")


def test_dianjiang_newborn_day_90_and_91():
    newborn = {"birth_date": "2024-06-15", "category": "newborn"}
    day90 = run(case(paid="2024-09-13", person=newborn))
    assert (day90["due"], day90["coverage_start"]) == ("380.00", "2024-06-15")
    day91 = run(case(paid="2024-09-14", person=newborn))
    assert (day91["due"], day91["coverage_start"]) == ("1050.00", "2024-12-13")


def test_subsidy_highest_identity_valid_on_paid_date():
    person = {**ADULT, "identities": [
        "dibao_edge", {"code": "tekun", "from": "2024-03-01", "to": "2024-12-31"}]}
    before = run(case(paid="2024-02-01", person=person))
    after = run(case(paid="2024-03-01", person=person))
    assert (before["subsidy"], before["self_pay"]) == ("266.00", "114.00")
    assert (after["subsidy"], after["self_pay"]) == ("380.00", "0.00")
    tier2 = run(case(paid="2024-03-01", tier=2, person={**ADULT, "identities": ["sanshu", "dibao"]}))
    assert (tier2["subsidy"], tier2["self_pay"]) == ("755.00", "0.00")


def test_leshan_window_and_eligibility():
    employee = {"birth_date": "1975-01-01", "category": "employee_active"}
    ok = run(case(region="511100", scheme="employee_supplementary", tier=None, paid="2024-03-31",
                  person=employee))
    assert (ok["due"], ok["coverage_start"], ok["coverage_end"]) == ("265.00", "2024-01-01",
                                                                    "2024-12-31")
    assert error(case(region="511100", scheme="employee_supplementary", tier=None,
                      paid="2024-04-01", person=employee))[0] == "window_closed"
    code, message = error(case(region="511100", scheme="employee_supplementary", tier=None,
                               paid="2024-01-05", person=ADULT))
    assert code == "not_eligible" and "职工基本医疗保险" in message


def test_leshan_personal_account_refused_for_flexible_workers():
    flexible = {"birth_date": "1985-01-01", "category": "flexible"}
    base = {"region": "511100", "scheme": "employee_supplementary", "tier": None,
            "paid": "2024-01-05", "person": flexible}
    assert run(case(**base, channel="tax_app"))["due"] == "265.00"
    code, message = error(case(**base, channel="personal_account"))
    assert code == "not_eligible" and "灵活就业人员" in message


@pytest.mark.parametrize("region, premium", [("350400", "150.00"), ("371500", "89.00")])
def test_commercial_deadlines(region, premium):
    ok = run(case(region=region, scheme="inclusive_commercial", tier=None, paid="2023-12-31"))
    assert (ok["due"], ok["coverage_start"]) == (premium, "2024-01-01")
    assert error(case(region=region, scheme="inclusive_commercial", tier=None,
                      paid="2024-01-01")) == ("window_closed", "2024 年度缴费已截止")


def test_sanming_subsidised_identities_pay_nothing():
    result = run(case(region="350400", scheme="inclusive_commercial", tier=None, paid="2023-12-01",
                      person={**ADULT, "identities": ["wulao"]}))
    assert (result["due"], result["subsidy"], result["self_pay"]) == ("150.00", "150.00", "0.00")


def test_liaocheng_refuses_non_insured_and_sibling_payer():
    base = {"region": "371500", "scheme": "inclusive_commercial", "tier": None, "paid": "2023-12-01"}
    assert error(case(**base, person={**ADULT, "basic_insured_in_region": False})) == (
        "not_eligible", "非聊城市基本医疗保险参保人员不得购买")
    assert run(case(**base, channel="personal_account", relation_to_payer="spouse_parent"))[
        "due"] == "89.00"
    code, message = error(case(**base, channel="personal_account", relation_to_payer="sibling"))
    assert code == "not_eligible" and "兄弟姐妹" in message


@pytest.mark.parametrize("paid", ["2024-01-01", "2024-12-31"])
def test_liaocheng_new_veteran_any_time(paid):
    result = run(case(region="371500", scheme="inclusive_commercial", tier=None, paid=paid,
                      person={**ADULT, "identities": ["new_veteran"]}))
    assert (result["due"], result["coverage_start"], result["coverage_end"]) == (
        "89.00", "2024-01-01", "2024-12-31")


def test_checks_run_in_contract_order():
    employee = {"birth_date": "1975-01-01", "category": "employee_active"}
    assert error(case(paid="2024-10-01", person=employee))[0] == "not_eligible"
    base = {"region": "371500", "scheme": "inclusive_commercial", "tier": None, "paid": "2024-05-01"}
    assert error(case(**base, channel="personal_account", relation_to_payer="other"))[0] == \
        "not_eligible"


@pytest.mark.parametrize("changes, code, fragment", [
    ({"region": "999999"}, "unknown_code", "region"),
    ({"region": None}, "invalid_input", "region"),
    ({"scheme": "dental"}, "unknown_code", "scheme"),
    ({"region": "511100"}, "unknown_code", "scheme"),  # 乐山 has no resident_basic here
    ({"region": "350400"}, "missing_rule", "参保缴费期"),  # 三明 resident_basic: no windows
    ({"scheme": "critical_illness"}, "missing_rule", "参保缴费期"),  # no premium of its own
    ({"year": None}, "invalid_input", "year"),
    ({"paid_date": "2024-02-30"}, "invalid_input", "paid_date"),
    ({"tier": None}, "invalid_input", "tier"),
    ({"tier": 3}, "invalid_input", "tier"),
    ({"channel": "bitcoin"}, "unknown_code", "channel"),
    ({"relation_to_payer": "cousin"}, "unknown_code", "relation_to_payer"),
    ({"person": {"birth_date": "1980-01-01", "category": "alien"}}, "unknown_code", "category"),
    ({"person": {"birth_date": "1980-01-01", "category": "resident", "identities": ["king"]}},
     "unknown_code", "identities"),
    ({"person": {"category": "resident"}}, "invalid_input", "birth_date"),
    ({"year": 2031}, "missing_rule", "2031"),
])
def test_input_errors(changes, code, fragment):
    data = case()
    data.update(changes)
    if changes.get("paid_date"):
        data["paid_date"] = changes["paid_date"]
    got_code, message = error(data)
    assert got_code == code and fragment in message


def test_plan_status_selects_draft_or_in_force_rows():
    py = PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic",
                              year=2024)
    PlanYear.objects.filter(pk=py.pk).update(status="draft")
    code, message = error(case())
    assert code == "missing_rule" and "2024" in message
    assert run(case(), plan_status="draft")["due"] == "380.00"


def test_payer_refusal_lists_relations_in_code_order():
    code, message = error(case(region="350426", scheme="inclusive_commercial", tier=None,
                               paid="2023-12-10", channel="family_account",
                               relation_to_payer="sibling"))
    assert code == "not_eligible"
    assert "“家庭共济账户”只能为本人、配偶、子女、父母、配偶的父母缴费" in message  # 350426 → 三明


def test_liaocheng_newborn_is_not_a_payment():
    newborn = {"birth_date": "2024-02-01", "category": "newborn"}
    assert error(case(region="371500", scheme="inclusive_commercial", tier=None,
                      paid="2024-05-10", person=newborn)) == ("window_closed", "2024 年度缴费已截止")
