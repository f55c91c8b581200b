"""Issue 11 item 9: the claim page names the person with one document number — the
header and the 参保人 field (editable or locked) masked alike for the viewing role
(policies/masking.py: 经办员 sees it in full, 监管 masked)."""
import pytest
from django.urls import reverse

from claims import services
from policies.masking import mask_id_number
from policies.roles import CLERK, SUPERVISOR
from policies.tests.factories import role_staff

from .factories import dianjiang_person, outpatient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def person_field(page: str) -> str:
    """The 参保人 field's row (select or read-only value)."""
    return page.split("field-person", 1)[1].split('<div class="form-row', 1)[0]


def test_header_and_person_field_mask_alike(client, loaded_policies):
    clerk = role_staff("jingban", CLERK)
    person = dianjiang_person()
    claim = outpatient(person, "400", acting_user=clerk)
    full, masked = person.document_number, mask_id_number(person.document_number)
    url = reverse("admin:claims_claim_change", args=[claim.pk])

    client.force_login(clerk)
    page = client.get(url).content.decode()
    header = page.split('class="claim-person"', 1)[1].split("</p>", 1)[0]
    assert full in header and full in person_field(page) and masked not in page

    client.force_login(role_staff("jianguan", SUPERVISOR))
    page = client.get(url).content.decode()
    header = page.split('class="claim-person"', 1)[1].split("</p>", 1)[0]
    assert masked in header and masked in person_field(page) and full not in page

    services.claim_settle(claim=claim, acting_user=clerk)  # a locked sheet: read-only person
    client.force_login(clerk)
    page = client.get(url).content.decode()
    assert 'name="person"' not in page and full in person_field(page)
