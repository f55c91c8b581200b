"""The person facts 三明普惠医联保 admits besides its basic insured (spec sanming.md "Who can
enroll"): 在常住地长期居住（新市民）, 港澳台同胞, 在常住地所在省参加基本医保 — on the model, the
admin, the persons sheet (import and export) and the real enrollment/payment services."""
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from enrollment import selectors, services
from enrollment.documents import make_id_number
from enrollment.models import Person
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv

from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = pytest.mark.usefixtures("contribution_rows")

SANMING_REFUSAL = "非三明市参保且非在三明市长期居住的新市民"


def sanming_person(**fields):
    return new_person(region="350426", area="350426", **fields)


def enroll_and_pay(person):
    enrollment = services.enrollment_create(person=person, acting_user=None,
                                            plan_year=plan_year("350400", "inclusive_commercial"))
    payment = services.payment_record(enrollment=enrollment, paid_date=date(2023, 12, 10),
                                      channel="wechat", receipt_no=f"SM-{person.pk}", acting_user=None)
    return enrollment, payment


@pytest.mark.parametrize("fields", [{"long_term_resident": True},
                                    {"hk_macao_taiwan": True, "basic_insured_in_province": True}],
                         ids=["new_citizen", "hk_macao_taiwan"])
def test_sanming_enrolls_and_records_the_payment_of_admitted_persons(fields):
    person = sanming_person(**fields)
    enrollment, payment = enroll_and_pay(person)
    assert payment.amount_due == payment.self_paid == 150
    enrollment.refresh_from_db()
    assert (enrollment.coverage_start, enrollment.coverage_end) == (date(2024, 1, 1), date(2024, 12, 31))


@pytest.mark.parametrize("fields", [{}, {"hk_macao_taiwan": True}, {"basic_insured_in_province": True}])
def test_sanming_refuses_others_in_its_own_words(fields):
    person = sanming_person(**fields)
    with pytest.raises(ValidationError) as exc:
        enroll_and_pay(person)
    text = " ".join(exc.value.messages)
    assert SANMING_REFUSAL in text and "不得购买" not in text


def test_the_facts_are_relative_to_the_residence():
    sanming = plan_year("350400", "inclusive_commercial").scheme.region
    here = sanming_person(long_term_resident=True, hk_macao_taiwan=True, basic_insured_in_province=True)
    assert selectors.admission_facts(here, sanming) == {
        "lives_in_region": True, "hk_macao_taiwan": True, "basic_insured_in_province": True}
    elsewhere = new_person(long_term_resident=True, basic_insured_in_province=True)  # 常住地 垫江 (重庆)
    assert selectors.admission_facts(elsewhere, sanming) == {
        "lives_in_region": False, "hk_macao_taiwan": False, "basic_insured_in_province": False}


@pytest.mark.parametrize("flag", ["long_term_resident", "basic_insured_in_province"])
def test_a_residence_is_required_with_the_relative_flags(flag):
    person = Person(document_number=make_id_number("350426", date(1980, 6, 15), 5), name="林一",
                    category="resident", **{flag: True})
    with pytest.raises(ValidationError) as exc:
        person.full_clean()
    assert "请填写常住地" in " ".join(exc.value.message_dict["residence_region"])


def test_admin_shows_and_saves_the_facts(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "Root#12345x")
    client.force_login(user)
    person = sanming_person()
    url = reverse("admin:enrollment_person_change", args=[person.pk])
    page = client.get(url).content.decode()
    for label in ("在常住地长期居住（新市民）", "港澳台同胞", "在常住地所在省参加基本医保"):
        assert label in page
    data = {"document_type": "id_card", "document_number": person.document_number, "name": person.name,
            "category": "resident", "sex": person.sex, "birth_date": person.birth_date.isoformat(),
            "hukou_region": person.hukou_region_id, "residence_region": person.residence_region_id,
            "long_term_resident": "on", "hk_macao_taiwan": "on",
            "identities-TOTAL_FORMS": "0", "identities-INITIAL_FORMS": "0",
            "relations-TOTAL_FORMS": "0", "relations-INITIAL_FORMS": "0",
            "enrollments-TOTAL_FORMS": "0", "enrollments-INITIAL_FORMS": "0",
            "registrations-TOTAL_FORMS": "0", "registrations-INITIAL_FORMS": "0"}
    response = client.post(url, data)
    assert response.status_code == 302, (response.context["adminform"].form.errors,
                                         [f.formset.errors or f.formset.non_form_errors() for f in response.context["inline_admin_formsets"]])
    person.refresh_from_db()
    assert (person.long_term_resident, person.hk_macao_taiwan, person.basic_insured_in_province) == (
        True, True, False)


HEADER = ["证件号码", "姓名", "人员类别", "户籍所在地", "常住地", "在常住地长期居住（新市民）", "港澳台同胞",
          "在常住地所在省参加基本医保"]


def test_persons_sheet_imports_and_exports_the_facts(tmp_path):
    rows = [[make_id_number("350426", date(1980, 6, 15), 7), "林二", "城乡居民", "尤溪县", "尤溪县", "是", "否", ""],
            [make_id_number("350426", date(1980, 6, 15), 9), "陈三", "城乡居民", "", "", "是", "", ""]]
    result = run_import(get_kind("persons"), write_csv(tmp_path / "p.csv", HEADER, rows), user=None)
    assert not result.ok
    [error] = result.errors
    assert (error.row, error.column) == (3, "常住地") and "请填写常住地" in error.message
    result = run_import(get_kind("persons"), write_csv(tmp_path / "p.csv", HEADER, rows[:1]), user=None)
    assert result.ok and result.counts["created"] == 1, result.errors
    person = Person.objects.get(name="林二")
    assert (person.long_term_resident, person.hk_macao_taiwan, person.basic_insured_in_province) == (
        True, False, False)
    exported = get_kind("persons").resource_class().export(Person.objects.filter(pk=person.pk))
    row = dict(zip(exported.headers, exported[0], strict=True))
    assert (row["在常住地长期居住（新市民）"], row["港澳台同胞"], row["在常住地所在省参加基本医保"]) == ("是", "否", "否")
