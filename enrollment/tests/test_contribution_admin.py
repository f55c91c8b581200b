"""Admin pages of persons, enrollments and payments: Chinese refusals, the 登记缴费 form
(preview, then save through payment_record), masking and region scoping."""
import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from enrollment import services
from enrollment.documents import make_id_number
from enrollment.models import Enrollment, Payment, Person
from policies.models import Region, StaffProfile

from .contribution_setup import contribution_rows, new_person, plan_year  # noqa: F401

pytestmark = pytest.mark.usefixtures("contribution_rows")


@pytest.fixture
def superuser(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "Root#12345x")
    client.force_login(user)
    return user


def staff(client, username, region, perms=("add", "change", "view"), full_identity=False):
    user = get_user_model().objects.create_user(username, password="Staff#12345x", is_staff=True)
    codenames = [f"{v}_{m}" for v in perms for m in ("person", "enrollment", "payment",
                                                      "personidentity", "familyrelation",
                                                      "suspension", "preexistingdeclaration")]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="enrollment",
                                                         codename__in=codenames))
    if full_identity:
        user.user_permissions.add(Permission.objects.get(codename="view_full_identity"))
    StaffProfile.objects.create(user=user).regions.add(Region.objects.get(code=region))
    client.force_login(user)
    return user


def result_list(response) -> str:
    """The rows of the changelist (the search box and sort links echo the query)."""
    page = response.content.decode()
    start = page.find("<tbody>", page.find('id="result_list"'))
    return page[start:page.find("</tbody>", start)] if start >= 0 else ""


def dianjiang_enrollment(tier=1, **person):
    return services.enrollment_create(person=new_person(**person), tier=tier, acting_user=None,
                                      plan_year=plan_year("500231", "resident_basic"))


def test_person_add_derives_birth_date_and_refuses_bad_checksum(client, superuser):
    number = make_id_number("500231", date(1988, 8, 8), 222)
    url = reverse("admin:enrollment_person_add")
    base = {"document_type": "id_card", "name": "赵六", "category": "resident", "sex": "",
            "birth_date": "", "identities-TOTAL_FORMS": "0", "identities-INITIAL_FORMS": "0",
            "relations-TOTAL_FORMS": "0", "relations-INITIAL_FORMS": "0",
            "enrollments-TOTAL_FORMS": "0", "enrollments-INITIAL_FORMS": "0"}
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = client.post(url, {**base, "document_number": bad})
    assert response.status_code == 200
    assert "校验位错误" in response.content.decode()
    response = client.post(url, {**base, "document_number": number})
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(document_number=number)
    assert (person.birth_date, person.sex) == (date(1988, 8, 8), "female")


def test_person_search_by_exact_document_number_and_masking(client):
    person = new_person()
    other = new_person()
    staff(client, "jb_dj", "500231")
    url = reverse("admin:enrollment_person_changelist")
    page = result_list(client.get(url, {"q": person.document_number}))
    assert person.name in page and other.name not in page
    cells = re.findall(r'<td class="field-document_number_masked">(.*?)</td>', page)
    # masked (no view_full_identity): first 6 + last 4
    assert cells == [person.document_number[:6] + "********" + person.document_number[-4:]]
    assert person.name not in result_list(client.get(url, {"q": person.document_number[:10]}))


def test_enrollment_add_shows_eligibility_refusal_in_chinese(client, superuser):
    employee = new_person(category="employee_active")
    response = client.post(reverse("admin:enrollment_enrollment_add"), {
        "person": employee.pk, "plan_year": plan_year("500231", "resident_basic").pk, "tier": 1,
        "note": ""})
    assert response.status_code == 200
    assert "已参加职工基本医疗保险，不能参加城乡居民医保" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_record_payment_preview_then_confirm(client, superuser):
    enrollment = dianjiang_enrollment()
    services.identity_add(person=enrollment.person, identity="dibao", valid_from=date(2023, 1, 1),
                          acting_user=None)
    url = reverse("admin:enrollment_enrollment_record_payment", args=[enrollment.pk])
    assert client.get(url).status_code == 200
    data = {"paid_date": "2024-07-01", "channel": "wechat", "receipt_no": "ADM-1",
            "subsidy_payer": "government", "self_paid": "", "payer_name": "",
            "payer_document": "", "relation_to_payer": ""}
    page = client.post(url, {**data, "_preview": "1"}).content.decode()
    assert "1050.00" in page and "342.00" in page and "708.00" in page  # the explanation
    # the figures as every page shows amounts and dates (1,050.00 元; 2024年9月29日)
    assert 'id="preview-due">1,050.00 元<' in page and 'id="preview-self-pay">708.00 元<' in page
    assert 'id="preview-paid-self">0.00 元<' in page
    assert 'id="preview-self-now">708.00 元（应缴未缴 708.00 元）<' in page
    assert 'id="preview-coverage">2024年9月29日 至 2024年12月31日<' in page
    assert not Payment.objects.exists()
    response = client.post(url, {**data, "_confirm": "1"})
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (str(payment.subsidy), str(payment.self_paid), payment.completes) == ("342.00", "708.00",
                                                                                True)
    message = client.get(response.url).content.decode()
    assert (f"已登记缴费 {payment.receipt_no}：应缴 1,050.00 元，资助 342.00 元，个人缴费 708.00 元；"
            "已缴清，待遇享受期 2024年9月29日 至 2024年12月31日") in message
    payments = client.get(reverse("admin:enrollment_payment_changelist")).content.decode()
    assert '<td class="field-amount_due_money">1,050.00</td>' in payments and "应缴金额（元）" in payments
    enrollments = client.get(reverse("admin:enrollment_enrollment_changelist")).content.decode()
    assert '<td class="field-paid_amount">1,050.00</td>' in enrollments
    enrollment.refresh_from_db()
    assert enrollment.coverage_start == date(2024, 9, 29)


def test_record_payment_refusals_are_shown(client, superuser):
    first, second = dianjiang_enrollment(), dianjiang_enrollment()
    services.payment_record(enrollment=first, paid_date=date(2023, 12, 1), channel="wechat",
                            receipt_no="DUP", acting_user=None)
    url = reverse("admin:enrollment_enrollment_record_payment", args=[second.pk])
    data = {"paid_date": "2023-12-01", "channel": "wechat", "receipt_no": "DUP",
            "subsidy_payer": "government"}
    page = client.post(url, {**data, "_confirm": "1"}).content.decode()
    assert "已在垫江县城乡居民基本医疗保险登记" in page
    page = client.post(url, {**data, "paid_date": "2024-10-01", "_preview": "1"}).content.decode()
    assert "2024 年度缴费已截止" in page
    assert 'name="_confirm"' not in page
    assert Payment.objects.filter(enrollment=second).count() == 0


def test_action_redirects_to_the_payment_form(client, superuser):
    enrollment = dianjiang_enrollment()
    response = client.post(reverse("admin:enrollment_enrollment_changelist"), {
        "action": "record_payment_action", "_selected_action": [enrollment.pk]})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{enrollment.pk}/record-payment/")


def test_enrollment_list_filters_and_region_scope(client):
    dj = dianjiang_enrollment()
    lc_person = new_person(region="371500", area="371502")
    lc = services.enrollment_create(person=lc_person, acting_user=None,
                                    plan_year=plan_year("371500", "inclusive_commercial"),
                                    basic_insured_in_region=True)
    staff(client, "jb_lc", "371500", full_identity=True)
    url = reverse("admin:enrollment_enrollment_changelist")
    page = client.get(url).content.decode()
    assert lc_person.name in page and dj.person.name not in page
    assert client.get(reverse("admin:enrollment_enrollment_change", args=[dj.pk])).status_code == 302
    assert client.get(reverse("admin:enrollment_enrollment_record_payment",
                              args=[dj.pk])).status_code == 302
    for params in ({"status__exact": "active"}, {"plan_year__year": "2024"},
                   {"plan_year__scheme__kind__exact": "inclusive_commercial"},
                   {"person__category__exact": "resident"}, {"identity": "dibao"}):
        assert client.get(url, params).status_code == 200
    assert lc.person.name not in client.get(url, {"identity": "dibao"}).content.decode()


def test_payment_list_is_read_only(client, superuser):
    enrollment = dianjiang_enrollment()
    services.payment_record(enrollment=enrollment, paid_date=date(2023, 12, 1), channel="wechat",
                            receipt_no="RO-1", acting_user=None)
    assert client.get(reverse("admin:enrollment_payment_changelist"), {"q": "RO-1"}).status_code == 200
    assert client.get(reverse("admin:enrollment_payment_add")).status_code == 403


def test_change_pages_render_with_inlines(client):
    enrollment = dianjiang_enrollment()
    services.identity_add(person=enrollment.person, identity="tekun", valid_from=date(2024, 1, 1),
                          acting_user=None)
    services.payment_record(enrollment=enrollment, paid_date=date(2023, 12, 1), channel="wechat",
                            receipt_no="PG-1", acting_user=None)
    services.enrollment_suspend(enrollment=enrollment, date_from=date(2024, 5, 1), reason="欠缴",
                                acting_user=None)
    staff(client, "jb_dj2", "500231")
    person_page = client.get(reverse("admin:enrollment_person_change", args=[enrollment.person_id]))
    assert person_page.status_code == 200
    text = person_page.content.decode()
    assert "特困人员" in text and enrollment.person.document_number not in text
    page = client.get(reverse("admin:enrollment_enrollment_change", args=[enrollment.pk]))
    assert page.status_code == 200
    assert "PG-1" in page.content.decode() and "欠缴" in page.content.decode()


def test_relation_added_in_person_inline_goes_through_the_service(client, superuser):
    parent, child = new_person(), new_person(birth=date(2010, 1, 1))
    url = reverse("admin:enrollment_person_change", args=[parent.pk])
    form = {f: getattr(parent, f) or "" for f in services.PERSON_FIELDS}
    form.update({"hukou_region": parent.hukou_region_id, "residence_region": parent.residence_region_id,
                 "birth_date": parent.birth_date.isoformat(),
                 "identities-TOTAL_FORMS": "0", "identities-INITIAL_FORMS": "0",
                 "relations-TOTAL_FORMS": "1", "relations-INITIAL_FORMS": "0",
                 "relations-0-relation": "child", "relations-0-relative": child.pk,
                 "relations-0-note": "", "enrollments-TOTAL_FORMS": "0",
                 "enrollments-INITIAL_FORMS": "0", "registrations-TOTAL_FORMS": "0",
                 "registrations-INITIAL_FORMS": "0"})
    form = {k: v for k, v in form.items() if v is not None and v is not False}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    relation = parent.relations.get()
    assert (relation.relative, relation.relation, relation.history.first().history_user) == (
        child, "child", superuser)


def test_suspend_and_resume_actions_cascade_to_commercial(client, superuser):
    person = new_person(region="371500", area="371502")
    basic = services.enrollment_create(person=person, acting_user=None,
                                       plan_year=plan_year("371500", "resident_basic"))
    commercial = services.enrollment_create(person=person, acting_user=None,
                                            plan_year=plan_year("371500", "inclusive_commercial"))
    url = reverse("admin:enrollment_enrollment_changelist")
    page = client.post(url, {"action": "suspend_action", "_selected_action": [basic.pk]})
    assert "暂停起始日" in page.content.decode()
    response = client.post(url, {"action": "suspend_action", "_selected_action": [basic.pk],
                                 "apply": "1", "date_from": "2024-03-01", "reason": "欠缴"})
    assert response.status_code == 302
    commercial.refresh_from_db()
    assert commercial.status == "suspended"
    response = client.post(url, {"action": "resume_action", "_selected_action": [commercial.pk],
                                 "apply": "1", "resume_date": "2024-04-01"}, follow=True)
    assert "须先恢复基本医保" in response.content.decode()
    client.post(url, {"action": "resume_action", "_selected_action": [basic.pk], "apply": "1",
                      "resume_date": "2024-04-01"})
    commercial.refresh_from_db()
    assert (commercial.status, commercial.suspensions.get().date_to) == ("active", date(2024, 3, 31))
