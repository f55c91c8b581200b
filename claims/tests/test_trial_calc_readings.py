"""Issue 12, items 4–7: the readings corrected against the seeds, through the command
(``manage.py trial_calc`` on the loaded fixtures) and, for 垫江 剖宫产, through the stored
claim path (``claim_settle`` and batch settlement) — the database settlement must agree
with the engine (spec dianjiang.md 住院 / 生育, changzhi.md 城乡医疗救助 / 门诊特药).

Figures are computed by hand from the spec's numbers in the comments."""
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from claims import services
from claims.batch import claims_settle_batch
from claims.models import Claim, ClaimLayer

from .factories import dianjiang_person, hospital

pytestmark = pytest.mark.django_db


def trial(cases, tmp_path) -> list[dict]:
    """Run ``trial_calc`` on ``cases`` written to a file; stdout parsed."""
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("trial_calc", str(path), stdout=out, stderr=err)
    return json.loads(out.getvalue())


def paid(result: dict) -> dict[str, str]:
    assert result["ok"] is True, result
    return {lr["scheme"]: lr["paid"] for lr in result["layers"]}


def layer(result: dict, scheme: str) -> dict:
    return next(lr for lr in result["layers"] if lr["scheme"] == scheme)


ADULT = {"birth_date": "1980-06-15", "category": "resident"}
DJ_TIER1 = [{"scheme": "resident_basic", "tier": 1}, {"scheme": "critical_illness"}]


def dj_case(case_id, claim, prior=()):
    return {"id": case_id, "kind": "claim", "region": "500231", "person": ADULT,
            "coverages": DJ_TIER1, "prior": list(prior), "claim": claim}


# --------------------------------------------------------------------------- item 4: 垫江 TCM


def tcm_stay(location, level=3, total="30000", tcm="10000"):
    return {"type": "inpatient", "date": "2024-05-10", "total": total, "tcm_compliant": tcm,
            "hospital": {"level": level, "grade": "A", "admin_level": "city", "location": location,
                         "tcm": True}}


def test_item4_tcm_deductible_shift_only_in_chongqing(loaded_policies, tmp_path):
    results = trial([dj_case("in", tcm_stay("in_region")), dj_case("prov", tcm_stay("in_province")),
                     dj_case("out", tcm_stay("out_of_province")),
                     dj_case("out-2", tcm_stay("out_of_province", level=2, total="10000", tcm="4000"))],
                    tmp_path)
    # 我市 (重庆: in_region / in_province), level 3 → level-2 deductible 300:
    # (20000−300)×50 % + 10000×60 % = 9850 + 6000 = 15850
    assert paid(results[0])["resident_basic"] == paid(results[1])["resident_basic"] == "15850.00"
    # outside 重庆: own deductible 800, TCM still +10 pp: (20000−800)×50 % + 10000×60 % = 15600
    out = layer(results[2], "resident_basic")
    assert (out["paid"], out["deductible"]) == ("15600.00", "800.00")
    assert "按本级起付线" in out["explanation"] and "按 60%（+10个百分点）" in out["explanation"]
    # level 2 outside 重庆: own 300; (6000−300)×70 % + 4000×80 % = 3990 + 3200 = 7190
    assert paid(results[3])["resident_basic"] == "7190.00"


# --------------------------------------------------------------------------- item 5: 垫江 剖宫产


def cesarean(total="60000", day="2024-05-10", mode="cesarean"):
    return {"type": "delivery", "delivery_mode": mode, "date": day, "total": total,
            "hospital": {"level": 3, "grade": "A", "admin_level": "city", "location": "in_region"}}


def admission(total="70000", day="2024-06-10", level=1):
    return {"type": "inpatient", "date": day, "total": total,
            "hospital": {"level": level, "grade": "A", "admin_level": "county", "location": "in_region"}}


def test_item5_cesarean_is_an_admission_for_both_layers(loaded_policies, tmp_path):
    alone, after, vaginal = trial([
        dj_case("ces", cesarean()),
        dj_case("then", admission(), prior=[cesarean(day="2024-03-01")]),
        dj_case("vag", cesarean(mode="vaginal")),
    ], tmp_path)
    # basic (60000−800)×50 % = 29600; 大病 (60000 − 29600 − 17833)×60 % = 7540.20
    assert paid(alone) == {"resident_basic": "29600.00", "critical_illness": "7540.20"}
    assert alone["personal"] == "22859.80"
    # after that cesarean: basic (70000−100)×80 % = 55920 limited to 80000 − 29600 = 50400;
    # 大病 S 30400 → 30400 + 19600 = 50000: 19600 × 60 % = 11760
    assert paid(after) == {"resident_basic": "50400.00", "critical_illness": "11760.00"}
    assert layer(after, "resident_basic")["capped"] == "5520.00"
    # vaginal delivery: the fixed 600, 大病 does not apply
    assert paid(vaginal) == {"resident_basic": "600.00", "critical_illness": "0.00"}
    assert layer(vaginal, "critical_illness")["reason"] == "not_applicable"


def stored_cesarean(person, *, no):
    return services.claim_create(
        acting_user=None, person=person, claim_type="delivery", delivery_mode="cesarean",
        service_date=date(2024, 3, 1), settlement_no=no, total=Decimal("60000"),
        hospital=hospital("500231", level=3, grade="A", admin_level="city"))


def stored_admission(person, *, no):
    return services.claim_create(
        acting_user=None, person=person, claim_type="inpatient", service_date=date(2024, 6, 10),
        settlement_no=no, total=Decimal("70000"),
        hospital=hospital("500231", level=1, grade="A", admin_level="county"))


def stored(claim) -> dict[str, str]:
    return {r.scheme_kind: f"{r.paid:.2f}" for r in ClaimLayer.objects.filter(claim=claim, is_current=True)}


EXPECTED = ({"resident_basic": "29600.00", "critical_illness": "7540.20"},
            {"resident_basic": "50400.00", "critical_illness": "11760.00"})


def test_item5_stored_cesarean_settles_as_the_engine(loaded_policies):
    person = dianjiang_person(tier=1)
    first = services.claim_settle(claim=stored_cesarean(person, no="CES-1"), acting_user=None)
    second = services.claim_settle(claim=stored_admission(person, no="ZY-1"), acting_user=None)
    assert (stored(first), stored(second)) == EXPECTED
    assert second.fund_total == Decimal("62160.00")


def test_item5_batch_settlement_agrees(loaded_policies):
    person = dianjiang_person(tier=1)
    claims = [stored_cesarean(person, no="CES-2"), stored_admission(person, no="ZY-2")]
    report = claims_settle_batch(claims=Claim.objects.filter(pk__in=[c.pk for c in claims]),
                                 acting_user=None)
    assert (report.settled, report.failed) == (2, [])
    assert tuple(stored(c) for c in claims) == EXPECTED


def test_item5_stored_cesarean_needs_a_hospital(loaded_policies):
    person = dianjiang_person(tier=1)
    with pytest.raises(ValidationError) as err:
        services.claim_create(acting_user=None, person=person, claim_type="delivery",
                              delivery_mode="cesarean", service_date=date(2024, 3, 1),
                              settlement_no="CES-3", total=Decimal("60000"))
    assert "医疗机构" in " ".join(err.value.message_dict["hospital"])


# --------------------------------------------------------------------------- items 6, 7: 长治


CZ_RESIDENT = [{"scheme": "resident_basic"}, {"scheme": "critical_illness"},
               {"scheme": "medical_assistance"}]


def cz_case(case_id, identity, claim, *, category="resident", coverages=CZ_RESIDENT, birth="2012-06-15"):
    return {"id": case_id, "kind": "claim", "region": "140400",
            "person": {"birth_date": birth, "category": category, "identities": [identity]},
            "coverages": coverages, "claim": claim}


def test_item6_orphans_get_the_tekun_assistance(loaded_policies, tmp_path):
    stay = {"type": "inpatient", "date": "2024-05-10", "total": "10000",
            "hospital": {"level": 3, "grade": "A", "admin_level": "city", "location": "in_region"}}
    drug = {"type": "special_drug", "date": "2024-05-10", "total": "10000", "special_drug": "10000",
            "given": {"resident_basic": {"paid": "5000"}}}
    results = trial([cz_case("orphan", "orphan", stay), cz_case("de-facto", "de_facto_orphan", stay),
                     cz_case("tekun", "tekun", stay), cz_case("orphan-drug", "orphan", drug)], tmp_path)
    # basic: fee class 1 (三级甲等): (10000−1000)×60 % = 5400; 大病 4600 < 10000 → 0;
    # assistance as 特困: (10000 − 5400) × 100 % = 4600
    expected = {"resident_basic": "5400.00", "critical_illness": "0.00", "medical_assistance": "4600.00"}
    assert paid(results[0]) == paid(results[1]) == paid(results[2]) == expected
    assert results[0]["personal"] == "0.00"
    assert "孤儿住院救助" in layer(results[0], "medical_assistance")["explanation"]
    # special drug: (10000 − given basic 5000) × 20 %
    assert paid(results[3])["medical_assistance"] == "1000.00"


def special_drug(given=None):
    claim = {"type": "special_drug", "date": "2024-05-10", "total": "10000", "special_drug": "10000"}
    if given:
        claim["given"] = given
    return claim


def test_item7_special_drug_basic_layer_is_given_input(loaded_policies, tmp_path):
    employee = [{"scheme": "employee_basic"}, {"scheme": "employee_large"},
                {"scheme": "medical_assistance"}]
    missing, with_given, dibao, emp_missing, emp_given = trial([
        cz_case("no-given", "tekun", special_drug(), birth="1970-01-01"),
        cz_case("given", "tekun", special_drug({"resident_basic": {"paid": "6000"}}), birth="1970-01-01"),
        cz_case("dibao", "dibao", special_drug({"resident_basic": {"paid": "6000"}}), birth="1970-01-01"),
        cz_case("emp-no-given", "tekun", special_drug(), category="employee_active", coverages=employee,
                birth="1970-01-01"),
        cz_case("emp-given", "tekun", special_drug({"employee_basic": {"paid": "7000"}}),
                category="employee_active", coverages=employee, birth="1970-01-01"),
    ], tmp_path)
    for result, scheme, kind in ((missing, "城乡居民基本医疗保险", "resident_basic"),
                                 (emp_missing, "职工基本医疗保险", "employee_basic")):
        assert result["ok"] is False and result["error"]["code"] == "missing_rule"
        message = result["error"]["message"]
        assert scheme in message and "2024" in message and f"given.{kind}.paid" in message
    # given basic 6000; 大病 does not apply; assistance 特困 (10000 − 6000) × 20 % = 800
    assert paid(with_given) == {"resident_basic": "6000.00", "critical_illness": "0.00",
                                "medical_assistance": "800.00"}
    assert layer(with_given, "resident_basic")["given"] is True
    assert with_given["personal"] == "3200.00"
    # 低保: (10000 − 6000) × 10 % = 400
    assert paid(dibao)["medical_assistance"] == "400.00"
    # employee: 大额 applies to inpatient / 一类 chronic only; (10000 − 7000) × 20 % = 600
    assert paid(emp_given) == {"employee_basic": "7000.00", "employee_large": "0.00",
                               "medical_assistance": "600.00"}
