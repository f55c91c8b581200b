"""Identity-document checks (README §2 参保人, §6: wrong checksum, birth date disagreeing with
the ID) — numbers built with stdnum's check-digit function."""
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric

from enrollment import documents
from enrollment.documents import DocumentError, check_document, make_id_number, mask
from enrollment.models import Person

BIRTH = date(1990, 1, 1)
MALE_ID = make_id_number("500231", BIRTH, 123)      # 垫江县, sequence odd → male
FEMALE_ID = make_id_number("371502", BIRTH, 124)    # 东昌府区, sequence even → female


def wrong_check(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def test_built_numbers_are_valid_for_stdnum():
    assert ric.calc_check_digit(MALE_ID) == MALE_ID[-1]
    info = check_document("id_card", MALE_ID)
    assert (info.birth_date, info.sex) == (BIRTH, "male")
    assert check_document("id_card", FEMALE_ID).sex == "female"


def test_check_character_x_and_lower_case_input():
    number = next(n for seq in range(1, 999)
                  if (n := make_id_number("110101", date(1985, 5, 5), seq)).endswith("X"))
    assert check_document("id_card", number.lower()).number == number


@pytest.mark.parametrize("number, fragment", [
    (wrong_check(MALE_ID), "校验位错误"),
    (MALE_ID[:17], "必须是 18 位"),
    ("50023119900101A23X", "前 17 位必须是数字"),
    ("", "请填写"),
])
def test_invalid_numbers(number, fragment):
    with pytest.raises(DocumentError, match=fragment):
        check_document("id_card", number)


def test_impossible_birth_date_and_unknown_area():
    body = "50023119900230123"  # 30 February
    with pytest.raises(DocumentError, match="不是有效日期"):
        check_document("id_card", body + ric.calc_check_digit(body + "0"))
    with pytest.raises(DocumentError, match="地址码 999999"):
        check_document("id_card", make_id_number("999999", BIRTH, 1))
    with pytest.raises(DocumentError, match="不合理"):
        check_document("id_card", make_id_number("500231", date(2099, 1, 1), 1),
                       today=date(2024, 1, 1))


def test_area_code_is_not_required_to_exist_in_the_birth_year():
    # 500231 (垫江县, 重庆) exists since 1997; a person born in 1980 may hold it.
    assert check_document("id_card", make_id_number("500231", date(1980, 6, 15), 11)).sex == "male"


def test_other_document_types():
    hk = make_id_number("810000", date(1975, 3, 3), 2)
    assert check_document("hk_macau_taiwan", hk).sex == "female"
    with pytest.raises(DocumentError, match="810000"):
        check_document("hk_macau_taiwan", MALE_ID)
    foreign = make_id_number("933101", date(1970, 7, 7), 5)
    assert check_document("foreign_permanent", foreign).birth_date == date(1970, 7, 7)
    assert check_document("foreign_permanent", "USA310080112345").birth_date is None
    with pytest.raises(DocumentError):
        check_document("foreign_permanent", MALE_ID)
    assert check_document("birth_certificate", "o500123456").number == "O500123456"
    with pytest.raises(DocumentError, match="6–20"):
        check_document("birth_certificate", "出生123")


def person(**kw):
    values = {"document_type": "id_card", "document_number": MALE_ID, "name": "张三",
              "category": "resident", "sex": "", "birth_date": None}
    values.update(kw)
    return Person(**values)


def test_person_clean_derives_birth_date_and_sex():
    p = person()
    p.clean()
    assert (p.birth_date, p.sex) == (BIRTH, "male")


def test_person_clean_rejects_mismatches_naming_the_fields():
    with pytest.raises(ValidationError) as exc:
        person(birth_date=date(1990, 1, 2), sex="female").clean()
    errors = exc.value.message_dict
    assert "出生日期 1990-01-02 与居民身份证号码中的出生日期 1990-01-01 不一致" in errors["birth_date"][0]
    assert "性别“女”与居民身份证号码显示的性别“男”不一致" in errors["sex"][0]


def test_person_clean_rejects_bad_checksum_on_document_number():
    with pytest.raises(ValidationError) as exc:
        person(document_number=wrong_check(MALE_ID)).clean()
    assert "校验位错误" in exc.value.message_dict["document_number"][0]


def test_birth_certificate_person_needs_birth_date_and_sex():
    with pytest.raises(ValidationError) as exc:
        person(document_type="birth_certificate", document_number="O500123456").clean()
    assert set(exc.value.message_dict) == {"birth_date", "sex"}


def test_mask_keeps_first_six_and_last_four():
    assert mask(MALE_ID) == MALE_ID[:6] + "********" + MALE_ID[-4:]
    assert documents.mask("") == ""
