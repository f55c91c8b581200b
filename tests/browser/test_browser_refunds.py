"""Browser: a 垫江 clerk records a refund (退费) from the payment list, a reviewer approves
it on the refund's page with its confirmation step (enrollment/admin/refunds.py; docs/
money.md §退费); the ledger then agrees with the refunds. Every request stays local."""
import re
from decimal import Decimal

import pytest

from claims.tests.factories import dianjiang_person
from enrollment.models import Payment, Refund
from enrollment.services import person_update
from finance.checks import ledger_differences
from ledger import selectors
from ledger.models import Account, SourceKind
from policies.roles import CLERK, REVIEWER
from policies.tests.factories import PASSWORD, role_staff

from .conftest import assert_only_local_requests, login, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def staff(loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return role_staff("jingban_dj", CLERK), role_staff("shenhe_dj", REVIEWER)


def test_clerk_records_a_refund_and_a_reviewer_approves_it(page, live_server, staff):
    clerk, reviewer = staff
    person = dianjiang_person(tier=1, name="刘芳")
    person_update(person=person, acting_user=None, bank_name="农业银行垫江支行",
                  bank_account_name="刘芳", bank_account_number="6228480012345678901")
    payment = Payment.objects.get(enrollment__person=person,
                                  enrollment__plan_year__scheme__kind="resident_basic")

    login(page, live_server, "jingban_dj", PASSWORD)
    page.goto(f"{live_server.url}/admin/enrollment/payment/?q={payment.receipt_no}")
    page.locator("a.refund-request").first.click()
    page.wait_for_selector("#id_amount")
    assert page.input_value("#id_payee_account") == "6228480012345678901"
    page.fill("#id_amount", "100")
    page.select_option("#id_reason", "overpaid")
    page.fill("#id_reason_note", "缴费金额录入有误")
    page.locator('input[name="_save"]').click()
    page.wait_for_url(re.compile(r"/admin/enrollment/refund/(\?.*)?$"))
    assert "成功" in page.locator(".messagelist").inner_text()
    save_screenshot(page, "refund-list-clerk")
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.recorded_by, refund.amount) == (
        Refund.Status.PENDING, clerk, Decimal("100.00"))

    page.context.clear_cookies()
    login(page, live_server, "shenhe_dj", PASSWORD)
    page.goto(f"{live_server.url}/admin/enrollment/refund/{refund.pk}/change/")
    save_screenshot(page, "refund-page-reviewer")
    page.locator(".refund-btn-approve").click()
    page.wait_for_selector("#decide-form")
    assert "缴费收入冲减 100.00 元" in page.locator("#decide-effect").inner_text()
    save_screenshot(page, "refund-approve-confirm")
    page.locator("#decide-form input[type=submit]").click()
    page.wait_for_selector(".messagelist .success")
    assert "已复核通过" in page.locator(".messagelist").inner_text()
    refund.refresh_from_db()
    assert (refund.status, refund.approved_by) == (Refund.Status.PAYABLE, reviewer)
    assert selectors.balance(source=(SourceKind.REFUND, refund.pk),
                             account=Account.REFUND_PAYABLE) == Decimal("-100.00")
    assert ledger_differences() == []
    assert_only_local_requests(page, live_server)
