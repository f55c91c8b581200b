"""Browser: the reviewer reverses (冲正) a paid claim from its page — the reason form
with its notice, the result on the page (已冲正, 应收回, the later claim flagged 待重新结算)
(docs/money.md §冲正与重新结算). Screenshots in $BROWSER_ARTIFACTS."""
from datetime import date

import pytest

from claims import services
from claims.models import Claim
from claims.tests.factories import dianjiang_person, outpatient, pay_outstanding
from finance.checks import ledger_differences
from policies.roles import REVIEWER
from policies.tests.factories import PASSWORD, role_staff

from .conftest import assert_only_local_requests, login, save_screenshot

pytestmark = pytest.mark.browser


def settled_approved_paid(claim):
    claim = services.claim_settle(claim=claim, acting_user=None)
    services.claim_documents_receive(claim=claim, acting_user=None,
                                     received={d.pk: True for d in claim.documents.all()})
    claim = services.claim_approve(claim=claim, acting_user=None)
    return pay_outstanding(claim)


def test_reviewer_reverses_a_paid_claim_from_its_page(page, live_server, loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    role_staff("shenhe_dj", REVIEWER)
    person = dianjiang_person(tier=1)
    first = settled_approved_paid(outpatient(person, "400"))
    later = settled_approved_paid(outpatient(person, "200", day=date(2024, 4, 1)))
    login(page, live_server, "shenhe_dj", PASSWORD, to=f"/admin/claims/claim/{first.pk}/change/")
    page.locator(".object-tools .claim-btn-reverse").click()
    page.wait_for_selector(".claim-notice")
    assert "待重新结算" in page.locator(".claim-notice").inner_text()
    page.fill("textarea[name=reason]", "发票重复报销")
    save_screenshot(page, "claim_reverse_reason", full_page=False)
    page.locator("input[type=submit][value=确认冲正]").click()
    page.wait_for_selector(".messagelist .success")
    message = page.locator(".messagelist").inner_text()
    assert "冲正完成" in message and "应收回 240.00 元" in message
    assert "已冲正" in page.locator("#claim_form").inner_text()
    assert page.locator(".object-tools .claim-btn-recover").count() == 0  # 基金财务 recovers it
    save_screenshot(page, "claim_reversed_page")
    assert Claim.objects.get(pk=first.pk).status == Claim.Status.REVERSED
    assert Claim.objects.get(pk=later.pk).needs_resettle
    page.goto(f"{live_server.url}/admin/claims/claim/{later.pk}/change/")
    assert "待重新结算" in page.locator(".claim-resettle-flag").inner_text()
    save_screenshot(page, "claim_flagged_page", full_page=False)
    assert ledger_differences() == []
    assert_only_local_requests(page, live_server)
