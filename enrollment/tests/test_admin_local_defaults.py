"""Issue 11 item 9 on the enrollment pages: a new person's 户籍/常住地 default to the
clerk's one region; the registration status log names times in Asia/Shanghai."""
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from enrollment.models import RegistrationTransition
from enrollment.services import registrations as svc
from policies.models import Region, StaffProfile

from .registration_setup import changzhi, person

pytestmark = pytest.mark.django_db


def clerk(name, *regions):
    user = User.objects.create_user(name, password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="enrollment",
        codename__in=["add_person", "view_person", "change_person", "view_registration",
                      "change_registration", "view_registrationtransition"]))
    StaffProfile.objects.create(user=user).regions.add(*regions)
    return User.objects.get(pk=user.pk)


def selected(page: str, name: str) -> str | None:
    """The value of the selected option of select ``name`` (None or "": nothing chosen)."""
    select = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    for option in select.split("<option")[1:]:
        if " selected" in option.split(">", 1)[0]:
            return option.split('value="', 1)[1].split('"', 1)[0]
    return None


def test_new_person_preselects_the_clerks_region(client):
    county = Region.objects.create(code="500231", name="垫江县", province="重庆市")
    other = Region.objects.create(code="511100", name="乐山市", province="四川省")
    client.force_login(clerk("jingban", county))
    page = client.get(reverse("admin:enrollment_person_add")).content.decode()
    assert selected(page, "hukou_region") == str(county.pk)
    assert selected(page, "residence_region") == str(county.pk)

    client.force_login(clerk("two_regions", county, other))  # which one? none preselected
    page = client.get(reverse("admin:enrollment_person_add")).content.decode()
    assert selected(page, "hukou_region") in (None, "")
    assert selected(page, "residence_region") in (None, "")


def test_status_log_times_are_local(client):
    cz = changzhi()
    user = clerk("jingban_cz", cz.region)
    reg = svc.registration_submit(person=person(1), scheme=cz.resident, disease=cz.HBP,
                                  application_date=date(2024, 4, 1), acting_user=None)
    RegistrationTransition.objects.filter(registration=reg).update(
        at=datetime(2024, 4, 1, 20, 30, tzinfo=UTC))  # 2024-04-02 04:30 in Asia/Shanghai
    row = RegistrationTransition.objects.get(registration=reg)
    assert "2024-04-02 04:30" in str(row)
    client.force_login(user)
    page = client.get(reverse("admin:enrollment_registration_change", args=[reg.pk])).content.decode()
    assert "2024-04-02 04:30" in page and "20:30" not in page
