"""批准 (with a confirmation step) and 驳回 on the claim's own page, and the claim list's
related filters scoped to the user's regions (claims/admin.py)."""
import pytest
from django.urls import reverse

from claims import services
from claims.models import Claim
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import role_staff

from .factories import dianjiang_person, hospital, outpatient


@pytest.fixture(autouse=True)
def fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def url(name, *args):
    return reverse(f"admin:claims_claim_{name}", args=args)


def settled_claim(clerk):
    claim = outpatient(dianjiang_person(), "400", acting_user=clerk)
    return services.claim_settle(claim=claim, acting_user=clerk)


def test_approve_button_opens_a_confirmation_page(client, loaded_policies):
    clerk, reviewer = role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER)
    claim = settled_claim(clerk)
    client.force_login(reviewer)
    page = client.get(url("change", claim.pk)).content.decode()
    assert "批准（审核通过）" in page and "驳回（退回）" in page
    assert f'href="{url("act", claim.pk, "approve")}"' in page  # a link to the confirmation, not a POST
    confirm = client.get(url("act", claim.pk, "approve"))
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "确认批准" in text and str(claim.fund_total) in text
    assert client.post(url("act", claim.pk, "approve")).status_code == 200  # no confirm: asks again
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SETTLED
    response = client.post(url("act", claim.pk, "approve"), {"confirm": "1"}, follow=True)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED and claim.approved_by == reviewer
    assert "审核通过完成" in response.content.decode()


def test_reject_needs_a_reason(client, loaded_policies):
    clerk, reviewer = role_staff("jingban", CLERK), role_staff("shenhe", REVIEWER)
    claim = settled_claim(clerk)
    client.force_login(reviewer)
    response = client.post(url("act", claim.pk, "return"), {"reason": ""})
    assert response.status_code == 200 and "这个字段是必填项" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SETTLED
    client.post(url("act", claim.pk, "return"), {"reason": "发票金额不符"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.RETURNED and claim.status_reason == "发票金额不符"


def test_clerk_gets_no_decision_buttons(client, loaded_policies):
    clerk = role_staff("jingban", CLERK)
    claim = settled_claim(clerk)
    client.force_login(clerk)
    page = client.get(url("change", claim.pk)).content.decode()
    assert "批准（审核通过）" not in page and "驳回（退回）" not in page


def test_hospital_filter_lists_only_my_regions_hospitals(client, loaded_policies):
    clerk = role_staff("jingban", CLERK)
    outpatient(dianjiang_person(), "300", acting_user=clerk, level=1)
    outpatient(dianjiang_person(), "300", acting_user=clerk, level=2)
    hospital("140400", name="长治外地医院", code="HCZ-FOREIGN")
    client.force_login(role_staff("shenhe", REVIEWER))
    text = client.get(url("changelist")).content.decode()
    assert "hospital__id__exact=" in text and "长治外地医院" not in text
