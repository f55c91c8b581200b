"""Opening a saved record and saving it unchanged changes nothing (docs/architecture.md §What
a user reads): no row, no history row, no admin log or audit entry, and the page says
“未作修改” — textareas posted with the browser's ``\\r\\n`` line breaks included
(``policies.widgets.textarea_line_breaks_install``). A 修改原因 goes on the history rows of
the inline rows changed in the same save too (``policies.admin.HistoryAdmin``)."""
from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import Action, AuditEntry
from claims import services as claim_services
from claims.tests.factories import dianjiang_person, hospital, new_person
from enrollment import services as enrollment_services
from enrollment.models import Enrollment
from policies.models import PlanYear, TwoDiseaseBenefit
from policies.roles import CLERK, POLICY_OFFICER
from policies.tests.factories import role_staff
from tests.page_scan import visible_text

NOTE = "第一行\n第二行：换行后的说明\n\n第四行"


def form_data(page: str) -> dict:
    """What a browser posts for the page's change form: inputs, selected options, checked
    boxes and textareas, their line breaks sent as ``\\r\\n`` (HTML's form encoding)."""
    form = re.search(r'<form[^>]*id="\w+_form".*?</form>', page, re.S).group(0)
    data = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'\sname="([^"]+)"', tag)
        kind = re.search(r'\stype="([^"]+)"', tag)
        if name is None or (kind and kind.group(1) in ("submit", "button", "file")):
            continue
        if kind and kind.group(1) == "checkbox":
            if re.search(r"\schecked", tag):
                data[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select[^>]*\sname="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        data[name] = html.unescape(chosen.group(1)) if chosen else ""
    for name, body in re.findall(r'<textarea[^>]*\sname="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        text = html.unescape(body.removeprefix("\r\n").removeprefix("\n"))  # the newline Django adds
        data[name] = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return {k: v for k, v in data.items() if "__prefix__" not in k}


def save_unchanged(client, url, obj, **extra):
    """Open ``url``, post its form as shown: the messages shown and whether the POST wrote a
    history row of ``obj``, an admin log entry or an audit entry."""
    page = client.get(url).content.decode()
    data = form_data(page)
    data.pop("csrfmiddlewaretoken", None)
    before = counts(obj)
    response = client.post(url, {**data, "_continue": "保存并继续编辑", **extra})
    assert response.status_code == 302, visible_text(response.content.decode())[:3000]
    return [str(m) for m in get_messages(response.wsgi_request)], counts(obj) != before


def counts(obj):
    """History rows of ``obj``, admin log entries, and audit entries of writes (a page that
    shows full identity numbers audits the view, on a POST too)."""
    return (obj.history.count(), LogEntry.objects.count(),
            AuditEntry.objects.exclude(action=Action.VIEW_FULL_ID).count())


def test_plan_year_with_a_multi_line_note_saved_unchanged(client, loaded_policies):
    plan_year = PlanYear.objects.filter(scheme__region__code="500231").order_by("pk").first()
    PlanYear.objects.filter(pk=plan_year.pk).update(note=NOTE)
    client.force_login(role_staff("zhengce", POLICY_OFFICER))
    url = reverse("admin:policies_planyear_change", args=[plan_year.pk])
    shown, wrote = save_unchanged(client, url, plan_year)
    plan_year.refresh_from_db()
    assert plan_year.note == NOTE  # not stored with \r\n
    assert not wrote  # no history row, admin log or audit entry
    assert shown == [f"年度方案“{plan_year}”未作修改。"]


def test_a_changed_multi_line_text_is_stored_with_newlines(client, loaded_policies):
    person = dianjiang_person(name="陈静")
    client.force_login(role_staff("jingban_dj", CLERK))
    url = reverse("admin:enrollment_person_change", args=[person.pk])
    save_unchanged(client, url, person, note="甲\r\n乙\r丙")
    person.refresh_from_db()
    assert person.note == "甲\n乙\n丙"
    assert person.history.first().history_user.username == "jingban_dj"


def test_person_enrollment_and_claim_saved_unchanged(client, loaded_policies):
    clerk = role_staff("jingban_dj", CLERK)
    person = dianjiang_person(name="陈静", note=NOTE)
    h = hospital("500231", level=3, name="垫江县第一人民医院", code="DJ-RMYY")
    claim = claim_services.claim_create(
        acting_user=clerk, person=person, claim_type="inpatient", service_date=date(2024, 10, 10),
        discharge_date=date(2024, 10, 20), hospital=h, settlement_no="DJ-UN-0001",
        total=Decimal("12345.67"), note=NOTE)
    enrollment = Enrollment.objects.filter(person=person).order_by("pk").first()
    enrollment_services.enrollment_update(enrollment=enrollment, note=NOTE, acting_user=None)
    client.force_login(clerk)
    for obj, name in ((person, "person"), (enrollment, "enrollment"), (claim, "claim")):
        app = obj._meta.app_label
        row = type(obj).objects.values().get(pk=obj.pk)
        shown, wrote = save_unchanged(client, reverse(f"admin:{app}_{name}_change", args=[obj.pk]), obj)
        assert not wrote, name
        assert type(obj).objects.values().get(pk=obj.pk) == row, name
        assert len(shown) == 1 and shown[0].endswith("未作修改。") and "成功" not in shown[0], shown


def test_services_write_nothing_for_the_stored_values(loaded_policies):
    person = dianjiang_person(name="陈静", note=NOTE)
    enrollment = Enrollment.objects.filter(person=person).order_by("pk").first()
    before = (person.history.count(), enrollment.history.count())
    enrollment_services.person_update(person=person, name="陈静", note=NOTE, acting_user=None)
    enrollment_services.enrollment_update(enrollment=enrollment, tier=enrollment.tier, note="",
                                          acting_user=None)
    assert (person.history.count(), enrollment.history.count()) == before
    enrollment_services.person_update(person=person, phone="13800001234", acting_user=None)
    assert person.history.count() == before[0] + 1


def test_reason_recorded_on_the_changed_inline_row(client, loaded_policies):
    row = TwoDiseaseBenefit.objects.filter(plan_year__status=PlanYear.Status.ACTIVE).order_by("pk").first()
    if row is None:
        row = TwoDiseaseBenefit.objects.order_by("pk").first()
    plan_year = row.plan_year
    client.force_login(role_staff("zhengce", POLICY_OFFICER, tuple(
        [plan_year.scheme.region.code])))
    url = reverse("admin:policies_planyear_change", args=[plan_year.pk])
    data = form_data(client.get(url).content.decode())
    data.pop("csrfmiddlewaretoken", None)
    [field] = [name for name, value in data.items()
               if name.endswith("-id") and value == str(row.pk) and "twodisease" in name]
    limit = field.removesuffix("-id") + "-annual_limit"
    new_limit = row.annual_limit + 10
    response = client.post(url, {**data, limit: str(new_limit), "change_reason": "文件调整限额"})
    assert response.status_code == 302, visible_text(response.content.decode())[:3000]
    row.refresh_from_db()
    assert row.annual_limit == new_limit
    latest = row.history.first()
    assert latest.history_change_reason == "文件调整限额"
    assert [c.field for c in latest.diff_against(latest.prev_record).changes] == ["annual_limit"]
    history = visible_text(client.get(reverse("admin:policies_twodiseasebenefit_history",
                                              args=[row.pk])).content.decode())
    assert "文件调整限额" in history


def test_reason_without_a_change_records_nothing(client, loaded_policies):
    h = hospital("500231", level=2, name="垫江县人民医院", code="DJ-RMYY2")
    client.force_login(role_staff("jingban_dj", CLERK))
    _shown, wrote = save_unchanged(client, reverse("admin:claims_hospital_change", args=[h.pk]), h,
                                   change_reason="核对无误")
    assert not wrote


def test_history_names_the_payment_window(client, loaded_policies):
    """An enrollment's and a payment's 缴费期 are stored by code: their history pages name
    the window as the change page does."""
    from enrollment import selectors
    from enrollment.services import payments

    enrollment = enrollment_services.enrollment_create(
        person=new_person("500231", name="陈静"), tier=1, acting_user=None,
        plan_year=PlanYear.objects.get(scheme__region__code="500231", year=2024, scheme__kind="resident_basic"))
    payment = payments.payment_record(enrollment=enrollment, paid_date=date(2023, 12, 1), channel="wechat",
                                      receipt_no="WIN-1", acting_user=None)
    enrollment.refresh_from_db()
    code = enrollment.window_code
    name = selectors.window_name(enrollment.plan_year_id, code)
    assert code and name != code
    client.force_login(role_staff("jingban_dj", CLERK))
    text = visible_text(client.get(reverse("admin:enrollment_enrollment_history",
                                           args=[enrollment.pk])).content.decode())
    assert f"适用缴费期：空 → {name}" in text and code not in text
    payment.window_code = ""
    payment.save()  # a history row whose change is the window
    text = visible_text(client.get(reverse("admin:enrollment_payment_history",
                                           args=[payment.pk])).content.decode())
    assert f"缴费期：{name} → 空" in text and code not in text
