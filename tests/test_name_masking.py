"""姓名 as a masking rule (policies.MaskingRule field ``name``; policies/masking.py; issue 15):
the rows roles_sync creates show names in full to every role; a role set to 部分遮盖 reads
张* — on the person list and page, the lists that show a person (enrollments, payments,
registrations, claims), the autocomplete, the history, the claim page and its print, the
sheet exports (command, 后台导出, admin list export) and an import's error report — and
never the full name."""
from datetime import date
from io import BytesIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from claims.tests.factories import dianjiang_person, outpatient
from enrollment import services as enrollment_services
from enrollment.models import Enrollment, Payment, Person, Registration
from enrollment.services import registrations as registration_services
from enrollment.tests.registration_setup import changzhi
from enrollment.tests.sheet_rows import PAYMENT_HEADER, payment_row
from policies.masking import FULL, HIDDEN_TEXT, mask_for, mask_name, rule_for, viewing_as
from policies.models import MaskingRule, Region
from policies.roles import AUDITOR, CLERK, POLICY_OFFICER, REVIEWER, ROLE_MASKING, SUPERVISOR, roles_sync
from policies.tests.factories import role_staff
from sheets.tests.helpers import admin_upload, write_csv

pytestmark = pytest.mark.django_db
NAME, MASKED = "张三", "张*"


def set_name_rule(role, mode="partial"):
    MaskingRule.objects.filter(group__name=role, field="name").update(mode=mode)


def test_mask_name_keeps_the_surname():
    assert [mask_name(n) for n in ("张三", "张三丰", "欧阳娜娜", "欧阳娜娜娜", "李", "")] == [
        "张*", "张**", "欧阳**", "欧阳***", "*", ""]
    assert mask_name("张三", head=0) == "张*"  # at least the first character


def test_default_rows_show_names_in_full_to_every_role():
    roles_sync()
    for role in (CLERK, REVIEWER, POLICY_OFFICER, SUPERVISOR, AUDITOR):
        assert ROLE_MASKING[role]["name"][0] == FULL
        row = MaskingRule.objects.get(group__name=role, field="name")
        assert (row.mode, row.keep_head) == ("full", 1)  # switching to 部分遮盖 keeps the surname
        user = role_staff(f"u{len(role)}{role[:1]}", role)
        assert rule_for(user, "name")[0] == FULL and mask_for(user, "name", NAME) == NAME
    assert MaskingRule.objects.get(group__isnull=True, field="name").mode == "full"
    roles_sync()  # idempotent: an edited row is never overwritten
    set_name_rule(SUPERVISOR, "hidden")
    roles_sync()
    assert MaskingRule.objects.get(group__name=SUPERVISOR, field="name").mode == "hidden"


@pytest.fixture
def case(loaded_policies):
    """张三 of 垫江 with two enrollments (one paid), a claim entered by the clerk, and the
    监管 role set to 部分遮盖 for names."""
    clerk = role_staff("jingban", CLERK)
    viewer = role_staff("jianguan", SUPERVISOR)
    person = dianjiang_person(name=NAME, bank_account_name=NAME)
    claim = outpatient(person, "400", acting_user=clerk)
    set_name_rule(SUPERVISOR)
    return {"person": person, "claim": claim, "clerk": clerk, "viewer": viewer}


def page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def shows_masked(text: str) -> bool:
    return MASKED in text and NAME not in text


def test_person_list_page_history_and_search(client, case):
    person, viewer = case["person"], case["viewer"]
    enrollment_services.person_update(person=person, acting_user=case["clerk"], phone="13900001111")
    client.force_login(viewer)
    listing = page(client, reverse("admin:enrollment_person_changelist"))
    change = page(client, reverse("admin:enrollment_person_change", args=[person.pk]))
    history = page(client, reverse("admin:enrollment_person_history", args=[person.pk]))
    for text in (listing, change, history):
        assert shows_masked(text)
    assert 'name="name"' not in change  # read-only for the masked role
    # a part of the name finds nobody, the whole name finds the person
    assert MASKED not in page(client, reverse("admin:enrollment_person_changelist"), q="张")
    assert MASKED in page(client, reverse("admin:enrollment_person_changelist"), q=NAME)
    assert client.get(reverse("admin:enrollment_person_changelist"), {"name__startswith": "张"}).status_code == 400

    client.force_login(case["clerk"])  # the default rows: nothing changes for the clerk
    assert NAME in page(client, reverse("admin:enrollment_person_changelist"), q="张")
    change = page(client, reverse("admin:enrollment_person_change", args=[person.pk]))
    assert 'name="name"' in change and f'value="{NAME}"' in change


def test_lists_showing_a_person_and_the_autocomplete(client, case):
    person, claim = case["person"], case["claim"]
    enrollment = Enrollment.objects.filter(person=person).first()
    payment = Payment.objects.filter(enrollment__person=person).first()
    client.force_login(case["viewer"])
    for name in ("enrollment_enrollment", "enrollment_payment", "claims_claim"):
        assert shows_masked(page(client, reverse(f"admin:{name}_changelist"))), name
    for url in (reverse("admin:enrollment_enrollment_change", args=[enrollment.pk]),
                reverse("admin:enrollment_enrollment_history", args=[enrollment.pk])):
        assert shows_masked(page(client, url)), url
    assert NAME not in page(client, reverse("admin:claims_claim_history", args=[claim.pk]))
    if payment is not None:
        assert shows_masked(page(client, reverse("admin:enrollment_payment_change", args=[payment.pk])))
    found = client.get(reverse("admin:autocomplete"), {"term": NAME, "app_label": "claims", "model_name": "claim",
                                                       "field_name": "person"}).json()["results"]
    assert [r["text"].split("（")[0] for r in found] == [MASKED]
    partial = client.get(reverse("admin:autocomplete"), {"term": "张", "app_label": "claims",
                                                         "model_name": "claim", "field_name": "person"})
    assert partial.json()["results"] == []


def test_claim_page_and_print(client, case):
    claim = case["claim"]
    client.force_login(case["viewer"])
    change = page(client, reverse("admin:claims_claim_change", args=[claim.pk]))
    printed = page(client, reverse("admin:claims_claim_print", args=[claim.pk]))
    assert shows_masked(change) and shows_masked(printed)
    assert "1980-06-15" not in printed and "1980******" in printed  # the birth date as the rows say too
    client.force_login(case["clerk"])
    assert NAME in page(client, reverse("admin:claims_claim_print", args=[claim.pk]))


def test_exports_command_background_and_admin_list(client, case, tmp_path):
    out = tmp_path / "persons.csv"
    call_command("export_sheet", "persons", str(out), "--user", "jianguan")
    assert shows_masked(out.read_text(encoding="utf-8-sig"))
    call_command("export_sheet", "claims", str(tmp_path / "claims.csv"), "--user", "jianguan")
    assert shows_masked((tmp_path / "claims.csv").read_text(encoding="utf-8-sig"))
    call_command("export_sheet", "persons", str(tmp_path / "system.csv"))  # no user: in full
    assert NAME in (tmp_path / "system.csv").read_text(encoding="utf-8-sig")

    client.force_login(case["viewer"])
    response = client.post(reverse("admin:enrollment_payment_export"),
                           {"format": "0", "resource": "0", "paymentresource_name": "on"})
    assert response.status_code == 200
    cells = [c for row in load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True) for c in row]
    assert MASKED in cells and NAME not in cells
    started = client.post(reverse("admin:enrollment_person_export_job"), {"region": "", "year": "", "fmt": "csv"})
    job = client.get(started["Location"]).context["job"]
    result = client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "result"]))
    assert shows_masked(b"".join(result.streaming_content).decode("utf-8-sig"))


def test_an_import_error_report_masks_the_registered_name(client, case, tmp_path):
    set_name_rule(CLERK)  # a bureau masks names for its clerks too
    client.force_login(case["clerk"])
    person = case["person"]
    row = payment_row(0, name="李四", receipt="RX1")
    row[0] = person.document_number
    upload = write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [row])
    job = admin_upload(client, reverse("admin:enrollment_payment_import_sheet"), upload).context["job"]
    messages = " ".join(e["message"] for e in job.details["errors"])
    assert "姓名与证件号码登记的姓名“张*”不一致" in messages and NAME not in messages
    report = client.get(reverse("admin:jobs_myjob_file", args=[job.pk, "errors"]))
    text = b"".join(report.streaming_content) if report.streaming else report.content
    rows = load_workbook(BytesIO(text)).active.iter_rows(values_only=True) if text[:2] == b"PK" else None
    flat = " ".join(str(c) for r in rows for c in r) if rows is not None else text.decode("utf-8-sig")
    assert MASKED in flat and NAME not in flat


def test_hidden_names_and_str_outside_a_request(case):
    person, viewer = case["person"], case["viewer"]
    set_name_rule(SUPERVISOR, "hidden")
    viewer = type(viewer).objects.get(pk=viewer.pk)
    assert str(person).startswith(NAME)  # a command, a worker: the name itself
    with viewing_as(viewer):
        assert str(person).startswith(HIDDEN_TEXT) and NAME not in str(Enrollment.objects.filter(person=person)[0])
    with viewing_as(case["clerk"]):
        assert str(person).startswith(NAME)


def test_registration_list_and_decision_page(client):
    cz = changzhi()
    person = Person.objects.create(document_number="140402196005010013", name=NAME, sex="male",
                                   birth_date=date(1960, 5, 1), category="resident",
                                   residence_region=cz.region, hukou_region=cz.region)
    reg = registration_services.registration_submit(
        person=person, scheme=cz.resident, disease=cz.HBP, application_date=date(2024, 4, 1), acting_user=None,
        bp_readings=[(date(2024, 3, 1), 150, 95), (date(2024, 3, 8), 145, 92), (date(2024, 3, 15), 142, 88)],
        needs_medication=True)
    reviewer = role_staff("shenhe", REVIEWER, regions=("140400",))
    set_name_rule(REVIEWER)
    client.force_login(reviewer)
    assert shows_masked(page(client, reverse("admin:enrollment_registration_changelist")))
    assert shows_masked(page(client, reverse("admin:enrollment_registration_change", args=[reg.pk])))
    decide = reverse("admin:enrollment_registration_decide", args=[reg.pk, "approve"])
    assert shows_masked(page(client, decide))
    assert Registration.objects.filter(pk=reg.pk).exists() and Region.objects.filter(code="140400").exists()
