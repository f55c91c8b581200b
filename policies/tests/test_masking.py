"""Masking of ID and phone numbers (policies.masking, docs/access.md §脱敏)."""
import pytest
from django.urls import reverse

from policies.masking import (
    can_view_full_identity,
    mask_id_number,
    mask_phone,
    mask_value,
    masked_id,
    masked_phone,
)
from policies.models import Region
from policies.roles import CLERK, REVIEWER, SUPERVISOR, roles_sync

from . import factories as f

ID = "500231199001011234"
PHONE = "13800001234"


@pytest.mark.parametrize(("value", "expected"), [
    (ID, "500231********1234"),                  # 18-character 身份证号: first 6 + last 4
    ("50023119900101123X", "500231********123X"),
    ("110105491231002", "110105*****1002"),       # old 15-digit number
    ("P440012345", "P4****2345"),                 # 出生医学证明: ≥ 4 hidden, head shortened
    (PHONE, "138****1234"),                       # the ID rule on a phone keeps 3 + 4
    ("1234", "****"),
    ("12345", "****5"),
    ("123456", "****56"),
    ("", ""),
    (None, ""),
])
def test_mask_id_number(value, expected):
    masked = mask_id_number(value)
    assert masked == expected
    assert len(masked) == len(value or "")


@pytest.mark.parametrize(("value", "expected"), [
    (PHONE, "138****1234"),                        # mobile: first 3 + last 4
    ("023-74612345", "023*****2345"),              # landline with area code
    ("7461234", "****234"),                        # too short for 3 + 4: ≥ 4 hidden
])
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


def test_mask_hides_at_least_a_third():
    for n in range(1, 40):
        value = "9" * n
        masked = mask_value(value)
        assert masked.count("*") >= max(4, -(-n // 3)) or masked == "*" * n


@pytest.mark.django_db
def test_masking_follows_the_permission():
    roles_sync()
    from django.contrib.auth.models import Group

    plain = f.staff_user("plain")
    clerk = f.staff_user("clerk", groups=[Group.objects.get(name=CLERK)])
    reviewer = f.staff_user("reviewer", groups=[Group.objects.get(name=REVIEWER)])
    supervisor = f.staff_user("supervisor", groups=[Group.objects.get(name=SUPERVISOR)])
    direct = f.staff_user("direct", perms=["policies.view_full_identity"])
    root = f.staff_user("root", superuser=True, profile=False)

    for user in (plain, supervisor):
        assert not can_view_full_identity(user)
        assert masked_id(user, ID) == "500231********1234"
        assert masked_phone(user, PHONE) == "138****1234"
    for user in (clerk, reviewer, direct, root):
        assert can_view_full_identity(user)
        assert masked_id(user, ID) == ID
        assert masked_phone(user, PHONE) == PHONE

    class Request:  # a request works as well as a user
        user = plain

    assert masked_id(Request(), ID) == "500231********1234"
    assert masked_id(plain, "") == ""


@pytest.mark.django_db
@pytest.mark.urls("policies.tests.masking_urls")
def test_masking_admin_mixin(client):
    region = Region.objects.create(code="500231", name="垫江县", province=ID, contacts=PHONE)
    plain = f.staff_user("plain", perms=["policies.view_region", "policies.change_region",
                                         "policies.add_region"])
    allowed = f.staff_user("allowed", perms=["policies.view_region", "policies.change_region",
                                             "policies.view_full_identity"])
    changelist = reverse("masking_test:policies_region_changelist")
    change = reverse("masking_test:policies_region_change", args=[region.pk])
    add = reverse("masking_test:policies_region_add")

    client.force_login(plain)
    page = client.get(changelist).content.decode()
    assert "500231********1234" in page and "138****1234" in page
    assert ID not in page and PHONE not in page
    # search by the full number still finds the row, without showing it
    found = client.get(changelist, {"q": ID})
    assert list(found.context["cl"].result_list) == [region]
    page = client.get(change).content.decode()
    assert "500231********1234" in page and "138****1234" in page
    assert ID not in page and PHONE not in page
    assert 'name="contacts"' not in page
    # the add page keeps the inputs (entering a new record needs them)
    assert 'name="contacts"' in client.get(add).content.decode()
    # saving the change page does not wipe the masked fields
    response = client.post(change, {"code": "500231", "name": "垫江县（改）", "is_pooling": "on"})
    assert response.status_code == 302
    region.refresh_from_db()
    assert (region.name, region.province, region.contacts) == ("垫江县（改）", ID, PHONE)

    # history: old/new values masked too (change the numbers, then read the history)
    region.contacts = "13900005678"
    region.province = "500231198001011111"
    region.save()
    history_url = reverse("masking_test:policies_region_history", args=[region.pk])
    page = client.get(history_url).content.decode()
    assert "138****1234" in page and "139****5678" in page
    assert "500231********1234" in page and "500231********1111" in page
    assert PHONE not in page and "13900005678" not in page and ID not in page
    version = region.history.earliest()
    page = client.get(reverse("masking_test:policies_region_simple_history",
                              args=[region.pk, version.history_id])).content.decode()
    assert "138****1234" in page and PHONE not in page

    client.force_login(allowed)
    page = client.get(changelist).content.decode()
    assert "500231198001011111" in page and "13900005678" in page
    assert 'name="contacts"' in client.get(change).content.decode()
    page = client.get(history_url).content.decode()
    assert PHONE in page and "13900005678" in page
