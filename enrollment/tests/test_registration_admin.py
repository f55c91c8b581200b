"""Registration admin (enrollment/admin/registrations.py): the reviewer's queue, the
approve / reject actions, the criteria shown on the page, adding through the service."""
from datetime import date

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from enrollment.models import Registration, RegistrationTransition
from enrollment.services import registrations as svc
from policies.models import Region, Scheme, StaffProfile

from .registration_setup import changzhi, person

pytestmark = pytest.mark.django_db

S = Registration.Status
GOOD_BP = [(date(2024, 3, 1), 150, 95), (date(2024, 3, 8), 145, 92), (date(2024, 3, 15), 142, 88)]
QUEUE = "admin:enrollment_pendingregistration_changelist"
LIST = "admin:enrollment_registration_changelist"


def staff(name, region, *, reviewer):
    u = User.objects.create_user(name, password="x", is_staff=True)
    codes = ["view_registration", "change_registration", "add_registration",
             "view_pendingregistration", "change_pendingregistration", "add_bloodpressurereading",
             "change_bloodpressurereading", "view_bloodpressurereading"]
    if reviewer:
        codes.append("approve_registration")
    u.user_permissions.add(*Permission.objects.filter(content_type__app_label="enrollment",
                                                      codename__in=codes))
    StaffProfile.objects.create(user=u).regions.add(region)
    return User.objects.get(pk=u.pk)


@pytest.fixture
def cz():
    return changzhi()


@pytest.fixture
def reviewer(cz):
    return staff("reviewer", cz.region, reviewer=True)


@pytest.fixture
def clerk(cz):
    return staff("clerk", cz.region, reviewer=False)


def submit(cz, who, *, day=date(2024, 4, 1), readings=GOOD_BP, seq=1, scheme=None, disease=None):
    return svc.registration_submit(person=person(seq), scheme=scheme or cz.resident,
                                   disease=disease or cz.HBP, application_date=day,
                                   acting_user=who, bp_readings=readings, needs_medication=True)


def test_queue_lists_pending_of_my_regions_oldest_first(client, cz, clerk, reviewer):
    late = submit(cz, clerk, day=date(2024, 4, 2), seq=1)
    early = submit(cz, clerk, day=date(2024, 3, 20), seq=3)
    done = svc.registration_start_review(registration=submit(cz, clerk, seq=5), acting_user=reviewer)
    svc.registration_reject(registration=done, acting_user=reviewer, reason="资料不全")
    other = Region.objects.create(code="500231", name="垫江县")
    foreign_scheme = Scheme.objects.create(region=other, kind="resident_basic", name="居民医保",
                                           settlement_order=1)
    from policies.models import ChronicDisease
    foreign = svc.registration_submit(
        person=person(7), scheme=foreign_scheme, acting_user=clerk,
        disease=ChronicDisease.objects.create(region=other, code="X1", name="外地病种"),
        application_date=date(2024, 1, 1))
    client.force_login(reviewer)
    response = client.get(reverse(QUEUE))
    assert response.status_code == 200
    shown = [r.pk for r in response.context["cl"].result_list]
    assert shown == [early.pk, late.pk]
    assert foreign.pk not in shown and done.pk not in shown


def test_approve_action_runs_criteria(client, cz, clerk, reviewer):
    good = submit(cz, clerk, seq=1)
    bad = submit(cz, clerk, seq=3, readings=GOOD_BP[:2])
    client.force_login(reviewer)
    response = client.post(reverse(QUEUE), {"action": "approve_action",
                                            "_selected_action": [good.pk, bad.pk]}, follow=True)
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == S.APPROVED and good.reviewer == reviewer
    assert bad.status == S.SUBMITTED and bad.reviewer is None  # refused: nothing written
    text = response.content.decode()
    assert "未能批准" in text and "血压测量日数：2 个不同日期" in text


def test_clerk_cannot_approve(client, cz, clerk):
    reg = submit(cz, clerk)
    client.force_login(clerk)
    response = client.get(reverse(QUEUE))
    assert "approve_action" not in response.content.decode()
    client.post(reverse(QUEUE), {"action": "approve_action", "_selected_action": [reg.pk]})
    reg.refresh_from_db()
    assert reg.status == S.SUBMITTED


def test_reject_action_asks_for_reason(client, cz, clerk, reviewer):
    reg = submit(cz, clerk)
    client.force_login(reviewer)
    data = {"action": "reject_action", "_selected_action": [reg.pk]}
    response = client.post(reverse(QUEUE), data)
    assert response.status_code == 200
    assert "registration_reason.html" in [t.name for t in response.templates][0]
    reg.refresh_from_db()
    assert reg.status == S.SUBMITTED
    response = client.post(reverse(QUEUE), {**data, "apply": "1", "reason": ""})
    assert "这个字段是必填项" in response.content.decode() or "This field is required" in \
        response.content.decode()
    client.post(reverse(QUEUE), {**data, "apply": "1", "reason": "非同日测量不足 3 次"})
    reg.refresh_from_db()
    assert reg.status == S.REJECTED and reg.reason == "非同日测量不足 3 次"
    assert RegistrationTransition.objects.filter(registration=reg, to_status=S.REJECTED,
                                                 by=reviewer).exists()


def test_change_page_shows_criteria(client, cz, clerk, reviewer):
    reg = submit(cz, clerk, readings=GOOD_BP[:2] + [(date(2024, 3, 15), 139, 89)])
    client.force_login(reviewer)
    response = client.get(reverse("admin:enrollment_registration_change", args=[reg.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "不符合准入条件" in text
    assert "2024-03-15 139/89" in text and "✗" in text
    assert "需采取药物治疗 ✓" in text


def test_add_through_service_with_readings(client, cz, clerk):
    p = person(9, region=cz.region)
    client.force_login(clerk)
    data = {
        "person": p.pk, "scheme": cz.resident.pk, "disease": cz.HBP.pk,
        "application_date": "2024-04-01", "institution": "西街卫生院", "needs_medication": "on",
        "documents": "",
        "bp_readings-TOTAL_FORMS": "3", "bp_readings-INITIAL_FORMS": "0",
        "bp_readings-MIN_NUM_FORMS": "0", "bp_readings-MAX_NUM_FORMS": "1000",
    }
    for i, (day, s, d) in enumerate(GOOD_BP):
        data.update({f"bp_readings-{i}-date": day.isoformat(), f"bp_readings-{i}-systolic": s,
                     f"bp_readings-{i}-diastolic": d})
    response = client.post(reverse("admin:enrollment_registration_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    reg = Registration.objects.get(person=p)
    assert reg.status == S.SUBMITTED and reg.created_by == clerk
    assert reg.bp_readings.count() == 3
    assert reg.transitions.get().to_status == S.SUBMITTED


def test_person_outside_my_regions_cannot_be_chosen(client, cz, clerk):
    p = person(11)  # no 户籍/常住地/enrollment in 长治
    client.force_login(clerk)
    response = client.post(reverse("admin:enrollment_registration_add"), {
        "person": p.pk, "scheme": cz.resident.pk, "disease": cz.CZ18.pk,
        "application_date": "2024-04-01", "bp_readings-TOTAL_FORMS": "0",
        "bp_readings-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert not Registration.objects.exists()


def test_other_region_registration_not_reachable(client, cz, clerk):
    other = Region.objects.create(code="371500", name="聊城市")
    outsider = staff("outsider", other, reviewer=True)
    reg = submit(cz, clerk)
    client.force_login(outsider)
    response = client.get(reverse("admin:enrollment_registration_change", args=[reg.pk]))
    assert response.status_code == 302  # "不存在" → admin index
    client.post(reverse(QUEUE), {"action": "approve_action", "_selected_action": [reg.pk]})
    reg.refresh_from_db()
    assert reg.status == S.SUBMITTED


def test_person_page_lists_registrations(client, cz, clerk):
    reg = submit(cz, clerk)
    admin_user = User.objects.create_superuser("root", password="x")
    client.force_login(admin_user)
    text = client.get(reverse("admin:enrollment_person_change", args=[reg.person.pk])).content.decode()
    assert "门诊慢特病/两病登记" in text
    assert reverse("admin:enrollment_registration_change", args=[reg.pk]) in text


def test_terminate_action_with_reason_and_end_date(client, cz, clerk, reviewer):
    reg = svc.registration_start_review(registration=submit(cz, clerk), acting_user=reviewer)
    reg = svc.registration_approve(registration=reg, acting_user=reviewer,
                                   valid_from=date(2024, 4, 10))
    client.force_login(reviewer)
    data = {"action": "terminate_action", "_selected_action": [reg.pk]}
    page = client.post(reverse(LIST), data).content.decode()
    assert "终止日期" in page
    client.post(reverse(LIST), {**data, "apply": "1", "reason": "迁出", "end_date": "2024-09-30"})
    reg.refresh_from_db()
    assert reg.status == S.TERMINATED and reg.valid_to == date(2024, 9, 30)
    text = client.get(reverse("admin:enrollment_registration_change", args=[reg.pk])).content.decode()
    assert "审核决定时的核对结果" in text and "符合准入条件" in text
