"""The reviewer's 批准 on a registration's own page, with its confirmation step, in a
real browser (enrollment/admin/registrations.py decide_view)."""
import os
from datetime import date

import pytest
from django.contrib.auth.models import Permission, User

from enrollment.models import Registration
from enrollment.services import registrations as svc
from enrollment.tests.registration_setup import changzhi, person
from policies.models import StaffProfile

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
GOOD_BP = [(date(2024, 3, 1), 150, 95), (date(2024, 3, 8), 145, 92), (date(2024, 3, 15), 142, 88)]


def reviewer(region):
    user = User.objects.create_user("shenhe", password="Yibao#2024demo", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="enrollment",
        codename__in=["view_registration", "change_registration", "add_registration",
                      "approve_registration", "view_bloodpressurereading"]))
    StaffProfile.objects.create(user=user).regions.add(region)
    return user


def test_reviewer_approves_with_confirmation(page, live_server, settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cz = changzhi()
    user = reviewer(cz.region)
    reg = svc.registration_submit(person=person(1), scheme=cz.resident, disease=cz.HBP,
                                  application_date=date(2024, 4, 1), acting_user=user,
                                  bp_readings=GOOD_BP, needs_medication=True)
    login(page, live_server, "shenhe", "Yibao#2024demo", to=f"/admin/enrollment/registration/{reg.pk}/change/")
    page.locator(".registration-btn-approve").click()
    page.wait_for_selector("#decide-form")
    assert "符合准入条件" in page.content()
    out = os.environ.get("BROWSER_ARTIFACTS", str(tmp_path))
    page.screenshot(path=os.path.join(out, "registration-approve-confirm.png"), full_page=True)
    reg.refresh_from_db()
    assert reg.status == Registration.Status.SUBMITTED  # not yet
    page.locator("#decide-form input[type=submit]").click()
    page.wait_for_selector(".messagelist .success")
    assert "已批准登记" in page.locator(".messagelist").inner_text()
    reg.refresh_from_db()
    assert reg.status == Registration.Status.APPROVED
