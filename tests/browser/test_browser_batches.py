"""Browser: a payment batch from start to end (docs/money.md §支付批次与银行回盘) — the
审核员 generates it, 基金财务 downloads the bank file, uploads the bank's returned file
(one success, one failure) and the batch page shows 成功/失败 with the bank's reason; the
ledger agrees. Screenshot in $BROWSER_ARTIFACTS."""
import pytest

from claims.models import Claim
from finance.checks import ledger_differences
from finance.models import PaymentBatch
from finance.tests.factories import approved_claim, fund_of, payee_fields
from policies.duties import ensure_default_rows
from policies.roles import FUND_FINANCE, REVIEWER
from policies.tests.factories import PASSWORD, role_staff

from .bank_files import download_bank_file, upload_returned_file
from .conftest import assert_only_local_requests, login, recorded_page, save_screenshot

pytestmark = pytest.mark.browser


def test_batch_bank_file_and_returned_file(page, browser, live_server, loaded_policies, settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ensure_default_rows()
    reviewer = role_staff("shenhe_dj", REVIEWER)
    role_staff("caiwu_dj", FUND_FINANCE)
    paid = approved_claim(reviewer, payee=payee_fields(11))
    failed = approved_claim(reviewer, payee=payee_fields(12))
    scheme = fund_of(paid)

    login(page, live_server, "shenhe_dj", PASSWORD, to="/admin/finance/paymentbatch/add/")
    page.select_option("#id_scheme", str(scheme.pk))
    page.fill("#id_bank", "中国农业银行垫江支行")
    page.click("#batch-create-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "已生成支付批次" in page.inner_text(".messagelist")
    batch = PaymentBatch.objects.get()
    assert_only_local_requests(page, live_server)

    with recorded_page(browser, 1600, 1000) as finance:
        login(finance, live_server, "caiwu_dj", PASSWORD, to=f"/admin/finance/paymentbatch/{batch.pk}/change/")
        assert payee_fields(11)["bank_account_number"] not in finance.content()  # masked on screen
        rows = download_bank_file(finance, live_server, batch)
        assert rows[0] == ["序号", "户名", "账号", "开户行", "金额", "用途"]
        assert rows[1][2] == payee_fields(11)["bank_account_number"]  # complete in the file
        message = upload_returned_file(finance, live_server, batch, rows,
                                       [("成功", "", "ABC0001"), ("失败", "账户已冻结", "ABC0002")],
                                       tmp_path / "回盘.xlsx")
        assert "成功 1 笔，失败 1 笔" in message
        body = finance.inner_text("#content")
        assert "部分失败" in body and "账户已冻结" in body and "ABC0001" in body
        assert "成功" in body and "失败" in body
        save_screenshot(finance, "payment_batch_returned")
        assert_only_local_requests(finance, live_server)

    assert Claim.objects.get(pk=paid.pk).status == Claim.Status.PAID
    assert Claim.objects.get(pk=failed.pk).status == Claim.Status.APPROVED
    assert ledger_differences() == []
