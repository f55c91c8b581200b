"""Browser: a 垫江 clerk records a refund (退费) from the payment list, a reviewer approves
it on the refund's page with its confirmation step (enrollment/admin/refunds.py; docs/
money.md §退费); the reviewer puts it in a payment batch, 基金财务 downloads the bank file
and uploads the bank's returned file, and the refund is 已支付: the fund's 基金存款 fell by
the refund on the 基金余额表 and the ledger agrees with the refunds at every step. Every
request stays local."""
import re
from decimal import Decimal

import pytest

from claims.tests.factories import dianjiang_person
from enrollment.models import Payment, Refund
from enrollment.services import person_update
from finance.checks import ledger_differences
from finance.models import PaymentBatch
from ledger import selectors
from ledger.models import Account, SourceKind
from policies.duties import ensure_default_rows
from policies.roles import CLERK, FUND_FINANCE, REVIEWER
from policies.tests.factories import PASSWORD, role_staff

from .bank_files import download_bank_file, upload_returned_file
from .conftest import assert_only_local_requests, login, recorded_page, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def staff(loaded_policies, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return role_staff("jingban_dj", CLERK), role_staff("shenhe_dj", REVIEWER)


def test_refund_recorded_approved_paid_through_a_batch_and_the_returned_file(
        page, browser, live_server, staff, tmp_path):
    clerk, reviewer = staff
    person = dianjiang_person(tier=1, name="刘芳")
    person_update(person=person, acting_user=None, bank_name="农业银行垫江支行",
                  bank_account_name="刘芳", bank_account_number="6228480012345678901")
    payment = Payment.objects.get(enrollment__person=person,
                                  enrollment__plan_year__scheme__kind="resident_basic")

    login(page, live_server, "jingban_dj", PASSWORD, to=f"/admin/enrollment/payment/?q={payment.receipt_no}")
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
    login(page, live_server, "shenhe_dj", PASSWORD, to=f"/admin/enrollment/refund/{refund.pk}/change/")
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

    # 审核员: a payment batch of the fund's approved refunds
    ensure_default_rows()
    role_staff("caiwu_dj", FUND_FINANCE)
    bank_before = selectors.balance(scheme=payment.scheme, account=Account.BANK)
    page.goto(f"{live_server.url}/admin/finance/paymentbatch/add/")
    page.select_option("#id_source_kind", "refund")
    page.select_option("#id_scheme", str(payment.scheme_id))
    page.fill("#id_bank", "中国农业银行垫江支行")
    page.click("#batch-create-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "已生成支付批次" in page.inner_text(".messagelist")
    batch = PaymentBatch.objects.get()

    # 基金财务: the bank file, then the bank's answer
    with recorded_page(browser, 1600, 1000) as finance:
        login(finance, live_server, "caiwu_dj", PASSWORD, to=f"/admin/finance/paymentbatch/{batch.pk}/change/")
        assert "6228480012345678901" not in finance.content()  # masked on screen
        rows = download_bank_file(finance, live_server, batch)
        assert rows[1][1:4] == ["刘芳", "6228480012345678901", "农业银行垫江支行"]
        message = upload_returned_file(finance, live_server, batch, rows, [("成功", "", "ABC0100")],
                                       tmp_path / "退费回盘.xlsx")
        assert "成功 1 笔" in message
        finance.goto(f"{live_server.url}/admin/ledger/journal/balances/")
        table = finance.inner_text("#fund-balances")
        assert "应退缴费" in table
        save_screenshot(finance, "refund-paid-fund-balances")
        assert_only_local_requests(finance, live_server)

    refund.refresh_from_db()
    assert refund.status == Refund.Status.PAID
    assert selectors.balance(scheme=payment.scheme, account=Account.BANK) == bank_before - Decimal("100.00")
    assert selectors.balance(source=(SourceKind.REFUND, refund.pk), account=Account.REFUND_PAYABLE) == 0
    assert ledger_differences() == []
