"""批准 / 驳回 on the registration's own page (enrollment/admin/registrations.py
``decide_view``), and the reviewer's list filters scoped to the user's regions."""
from datetime import date

import pytest
from django.urls import reverse

from enrollment.models import Registration
from policies.models import ChronicDisease, Region

from .registration_setup import changzhi
from .test_registration_admin import GOOD_BP, staff, submit

pytestmark = pytest.mark.django_db
S = Registration.Status


@pytest.fixture
def cz():
    return changzhi()


def change_url(reg):
    return reverse("admin:enrollment_registration_change", args=[reg.pk])


def decide_url(reg, decision):
    return reverse("admin:enrollment_registration_decide", args=[reg.pk, decision])


def test_change_page_has_the_buttons_for_a_reviewer_only(client, cz):
    clerk = staff("clerk", cz.region, reviewer=False)
    reviewer = staff("reviewer", cz.region, reviewer=True)
    reg = submit(cz, clerk)
    client.force_login(reviewer)
    page = client.get(change_url(reg)).content.decode()
    assert "registration-btn-approve" in page and "registration-btn-reject" in page
    assert decide_url(reg, "approve") in page
    client.force_login(clerk)
    page = client.get(change_url(reg)).content.decode()
    assert "registration-btn-approve" not in page
    assert client.post(decide_url(reg, "approve"), {"confirm": "1"}).status_code == 403
    reg.refresh_from_db()
    assert reg.status == S.SUBMITTED


def test_approve_asks_for_confirmation_then_approves(client, cz):
    clerk = staff("clerk", cz.region, reviewer=False)
    reviewer = staff("reviewer", cz.region, reviewer=True)
    reg = submit(cz, clerk)
    client.force_login(reviewer)
    page = client.get(decide_url(reg, "approve"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "确认批准" in text and "符合准入条件" in text  # the criteria are shown with the question
    reg.refresh_from_db()
    assert reg.status == S.SUBMITTED  # nothing decided by opening the page
    response = client.post(decide_url(reg, "approve"), {"confirm": "1"}, follow=True)
    reg.refresh_from_db()
    assert reg.status == S.APPROVED and reg.reviewer == reviewer
    assert response.redirect_chain[-1][0] == change_url(reg)
    assert "已批准登记" in response.content.decode()
    assert "registration-btn-approve" not in response.content.decode()  # decided: no buttons


def test_approve_refused_by_the_criteria_names_them(client, cz):
    clerk = staff("clerk", cz.region, reviewer=False)
    reviewer = staff("reviewer", cz.region, reviewer=True)
    reg = submit(cz, clerk, readings=GOOD_BP[:2])
    client.force_login(reviewer)
    page = client.get(decide_url(reg, "approve")).content.decode()
    assert "门诊慢特病/两病登记：<strong>" + reg.person.name[0] in page  # the person is named
    response = client.post(decide_url(reg, "approve"), {"confirm": "1"}, follow=True)
    reg.refresh_from_db()
    # a refused approval writes nothing: not even the move to 审核中 it would have begun with
    assert reg.status == S.SUBMITTED and reg.reviewer is None
    assert list(reg.transitions.values_list("to_status", flat=True)) == [S.SUBMITTED]
    assert "登记未能批准" in response.content.decode()


def test_reject_needs_a_reason(client, cz):
    clerk = staff("clerk", cz.region, reviewer=False)
    reviewer = staff("reviewer", cz.region, reviewer=True)
    reg = submit(cz, clerk)
    client.force_login(reviewer)
    response = client.post(decide_url(reg, "reject"), {"confirm": "1", "reason": "  "})
    assert response.status_code == 200 and "这个字段是必填项" in response.content.decode()
    reg.refresh_from_db()
    assert reg.status == S.SUBMITTED
    client.post(decide_url(reg, "reject"), {"confirm": "1", "reason": "诊断证明不全"})
    reg.refresh_from_db()
    assert reg.status == S.REJECTED and reg.reason == "诊断证明不全"


def test_another_regions_registration_is_not_found(client, cz):
    clerk = staff("clerk", cz.region, reviewer=False)
    reg = submit(cz, clerk)
    other = Region.objects.create(code="500231", name="垫江县")
    client.force_login(staff("dj", other, reviewer=True))
    assert client.get(decide_url(reg, "approve")).status_code == 404


@pytest.mark.parametrize("changelist", ["admin:enrollment_registration_changelist",
                                        "admin:enrollment_pendingregistration_changelist"])
def test_disease_filter_lists_only_my_regions_diseases(client, cz, changelist):
    clerk = staff("clerk", cz.region, reviewer=False)
    submit(cz, clerk, disease=cz.HBP)
    submit(cz, clerk, disease=cz.CZ35, seq=3)
    other = Region.objects.create(code="500231", name="垫江县")
    ChronicDisease.objects.create(region=other, code="DJ01", name="垫江病种")
    client.force_login(staff("dj", other, reviewer=True))
    text = client.get(reverse(changelist)).content.decode()
    assert "高血压" not in text and "糖尿病" not in text  # 长治's catalogue
    client.force_login(staff("cz_reviewer", cz.region, reviewer=True))
    text = client.get(reverse(changelist)).content.decode()
    assert "disease__id__exact=" in text and "高血压" in text and "糖尿病（合并严重并发症）" in text
    assert "其他类型糖尿病" not in text  # not in any of my registrations


def test_decision_date_is_today(client, cz):
    from django.utils import timezone
    clerk = staff("clerk", cz.region, reviewer=False)
    reviewer = staff("reviewer", cz.region, reviewer=True)
    reg = submit(cz, clerk, day=date(2024, 4, 1))
    client.force_login(reviewer)
    client.post(decide_url(reg, "approve"), {"confirm": "1"})
    reg.refresh_from_db()
    assert reg.decision_date == timezone.localdate()
