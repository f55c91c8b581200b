"""``manage.py trial_calc`` (contribution and claim kinds) for who 三明普惠医联保 admits
(新市民, 港澳台同胞 in 福建 basic insurance), the designated hospitals of 三明 责任一
(按C-DRG收付费) and 责任四 (三明's public level-2/3 hospitals), and 聊惠保 责任三 at a
township institution (spec sanming.md, liaocheng.md, trial-calc.md)."""
import io
import json

import pytest
from django.core.management import call_command

ADULT = {"birth_date": "1980-06-15", "category": "resident"}
NEW_CITIZEN = {**ADULT, "basic_insured_in_region": False, "lives_in_region": True}
HK_MACAO_TAIWAN = {**ADULT, "basic_insured_in_region": False, "hk_macao_taiwan": True,
                   "basic_insured_in_province": True}
OUTSIDER = {**ADULT, "basic_insured_in_region": False}
SANMING_REFUSAL = "非三明市参保且非在三明市长期居住的新市民"


def trial(cases, tmp_path):
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    call_command("trial_calc", str(path), stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def contribution(case_id, person):
    return {"id": case_id, "kind": "contribution", "region": "350400", "scheme": "inclusive_commercial",
            "year": 2024, "paid_date": "2023-12-10", "channel": "wechat", "person": person}


def sanming_claim(case_id, person, claim, coverages=({"scheme": "inclusive_commercial"},)):
    return {"id": case_id, "kind": "claim", "region": "350400", "person": person,
            "coverages": list(coverages), "claim": claim}


def items(result):
    [layer] = [lr for lr in result["layers"] if lr["scheme"] == "inclusive_commercial"]
    return layer, {i["code"]: i for i in layer["items"]}


# --------------------------------------------------------------------------- who may enroll


@pytest.mark.parametrize("person", [NEW_CITIZEN, HK_MACAO_TAIWAN], ids=["new_citizen", "hk_macao_taiwan"])
def test_contribution_admits_new_citizens_and_hk_macao_taiwan(loaded_policies, tmp_path, person):
    [r] = trial([contribution("c", person)], tmp_path)
    assert r["ok"] is True, r
    assert (r["due"], r["coverage_start"], r["coverage_end"]) == ("150.00", "2024-01-01", "2024-12-31")


@pytest.mark.parametrize("person", [
    OUTSIDER,
    {**OUTSIDER, "hk_macao_taiwan": True},              # 港澳台 without 福建 basic insurance
    {**OUTSIDER, "basic_insured_in_province": True},    # 福建 basic insurance, not 港澳台
])
def test_contribution_refuses_others_in_sanming_words(loaded_policies, tmp_path, person):
    [r] = trial([contribution("c", person)], tmp_path)
    assert r["ok"] is False
    assert r["error"]["code"] == "not_eligible"
    message = r["error"]["message"]
    assert SANMING_REFUSAL in message and "三明普惠医联保" in message
    assert "不得购买" not in message and "聊城" not in message


def test_contribution_rejects_a_malformed_new_key(loaded_policies, tmp_path):
    [r] = trial([contribution("c", {**OUTSIDER, "lives_in_region": "是"})], tmp_path)
    assert r["error"]["code"] == "invalid_input"
    assert "person.lives_in_region" in r["error"]["message"]


IN_REGION_3 = {"level": 3, "grade": "A", "admin_level": "city", "location": "in_region", "public": True}


@pytest.mark.parametrize("person", [NEW_CITIZEN, HK_MACAO_TAIWAN], ids=["new_citizen", "hk_macao_taiwan"])
def test_claim_of_an_admitted_person_is_paid(loaded_policies, tmp_path, person):
    claim = {"type": "inpatient", "date": "2024-05-10", "hospital": IN_REGION_3, "total": "60000"}
    [r] = trial([sanming_claim("k", person, claim)], tmp_path)
    layer, by_code = items(r)
    assert by_code["R1"]["paid"] == "55000.00"   # (60 000 − 5 000) × 100 %
    assert layer["paid"] == "55000.00"


def test_claim_of_an_outsider_pays_nothing_in_sanming_words(loaded_policies, tmp_path):
    claim = {"type": "inpatient", "date": "2024-05-10", "hospital": IN_REGION_3, "total": "60000"}
    [r] = trial([sanming_claim("k", OUTSIDER, claim)], tmp_path)
    [layer] = r["layers"]
    assert (layer["paid"], layer["reason"]) == ("0.00", "not_covered")
    assert SANMING_REFUSAL in layer["explanation"]


# --------------------------------------------------------------------------- 责任四 / 责任一 hospitals

GIVEN = {"resident_basic": {"paid": "0"}, "critical_illness": {"paid": "0"}}
BASIC_STACK = ({"scheme": "resident_basic"}, {"scheme": "critical_illness"}, {"scheme": "inclusive_commercial"})


def drug_claim(hospital, drug_list="sm_cancer", drug_class="A"):
    claim = {"type": "special_drug", "date": "2024-07-01", "total": "50000", "drug_list": drug_list,
             "drug_class": drug_class, "given": GIVEN}
    if hospital is not None:
        claim["hospital"] = hospital
    return sanming_claim("d", ADULT, claim, BASIC_STACK)


@pytest.mark.parametrize("hospital", [
    {**IN_REGION_3, "location": "in_province"},
    {**IN_REGION_3, "location": "out_of_province"},
    {**IN_REGION_3, "level": 1, "admin_level": "township"},
    {**IN_REGION_3, "public": False},
], ids=["in_province", "out_of_province", "level_1", "private"])
@pytest.mark.parametrize("drug_list, code", [("sm_cancer", "R4A"), ("sm_rare", "R4B")])
def test_r4_outside_sanming_or_at_level_1_or_private_pays_nothing(loaded_policies, tmp_path, hospital,
                                                                  drug_list, code):
    [r] = trial([drug_claim(hospital, drug_list)], tmp_path)
    layer, by_code = items(r)
    assert (by_code[code]["paid"], by_code[code]["reason"]) == ("0.00", "hospital_not_designated")
    assert (layer["paid"], layer["reason"]) == ("0.00", "hospital_not_designated")


def test_r4_at_a_sanming_public_level_2_hospital_pays(loaded_policies, tmp_path):
    [r] = trial([drug_claim({**IN_REGION_3, "level": 2})], tmp_path)
    assert items(r)[1]["R4A"]["paid"] == "21000.00"   # (50 000 − 20 000) × 70 %


def test_r4_without_hospital_is_invalid_input(loaded_policies, tmp_path):
    [r] = trial([drug_claim(None)], tmp_path)
    assert r["ok"] is False
    assert r["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("cdrg, paid, reason", [(True, "20000.00", None), (False, "0.00", "hospital_not_designated")])
def test_r1_needs_a_cdrg_hospital(loaded_policies, tmp_path, cdrg, paid, reason):
    claim = {"type": "inpatient", "date": "2024-05-10", "hospital": {**IN_REGION_3, "cdrg": cdrg},
             "total": "60000", "out_of_catalog": "10000",
             "given": {"resident_basic": {"paid": "30000"}, "critical_illness": {"paid": "5000"}}}
    [r] = trial([sanming_claim("k", ADULT, claim, BASIC_STACK)], tmp_path)
    r1 = items(r)[1]["R1"]
    assert (r1["paid"], r1.get("reason")) == (paid, reason)


# --------------------------------------------------------------------------- 聊惠保 责任三


@pytest.mark.parametrize("admin_level, paid", [("county", "27200.00"), ("township", "0.00")])
def test_liaocheng_r3_needs_a_county_level_institution(loaded_policies, tmp_path, admin_level, paid):
    case = {"id": "l", "kind": "claim", "region": "371500", "person": ADULT,
            "coverages": [{"scheme": "resident_basic"}, {"scheme": "critical_illness"},
                          {"scheme": "inclusive_commercial"}],
            "claim": {"type": "special_drug", "date": "2024-08-01", "total": "50000",
                      "drug_list": "lc_high_cost", "given": GIVEN,
                      "hospital": {"level": 1 if admin_level == "township" else 2, "admin_level": admin_level}}}
    [r] = trial([case], tmp_path)
    r3 = items(r)[1]["R3"]
    assert r3["paid"] == paid
    if paid == "0.00":
        assert r3["reason"] == "hospital_not_designated"
