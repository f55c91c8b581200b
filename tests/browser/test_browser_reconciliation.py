"""对账 in chromium (finance/admin/reconciliation.py): a reviewer uploads the tax bureau's
collection detail on 税务对账 (校验 job → 确认导入 → 导入 job), reads the differences on
对账差异 (masked ID numbers for 只读/监管), accepts one with a note, and sees the month
on 月度对账状态."""
from datetime import date
from decimal import Decimal

import pytest

from claims.tests.factories import dianjiang_person
from enrollment.models import Payment
from finance.models import ReconciliationLine
from policies.roles import REVIEWER
from policies.tests.factories import PASSWORD, role_staff
from sheets.tests.helpers import write_csv

from .conftest import assert_only_local_requests, login, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("loaded_policies")]

HEADER = ["票据号/流水号", "证件号码", "姓名", "统筹区", "险种", "年度", "金额", "缴费日期"]


def _row(payment, amount=None, receipt=None):
    person = payment.enrollment.person
    return [receipt or payment.receipt_no, person.document_number, person.name, "垫江县", "城乡居民基本医疗保险", 2024,
            str(amount if amount is not None else payment.self_paid), payment.paid_date.isoformat()]


def test_reviewer_uploads_a_tax_file_and_reads_the_differences(page, live_server, tmp_path):
    a, b, _c = (Payment.objects.get(enrollment__person=dianjiang_person(), scheme__kind="resident_basic")
                for _ in range(3))
    path = write_csv(tmp_path / "11月税务征收明细.csv", HEADER, [
        _row(a), _row(b, amount=b.self_paid + Decimal("10.00")), _row(a, receipt="SW202311250001")])
    role_staff("shenhe", REVIEWER, regions=("500231",))
    login(page, live_server, "shenhe", PASSWORD, to="/admin/finance/taxreconciliation/")
    page.click("text=导入")
    page.set_input_files("input[type=file]", str(path))
    page.click("text=上传并校验")
    page.wait_for_selector("#sheet-preview")
    check_url = page.url
    page.click("input[name=_confirm]")
    page.wait_for_url(lambda url: url != check_url and url.endswith("/change/"))
    page.wait_for_selector("#job-status.job-status-succeeded")
    assert "已导入共 3 行数据" in page.locator("#job-message").inner_text()

    page.goto(f"{live_server.url}/admin/finance/reconciliationdifference/")
    table = page.locator("#result_list").inner_text()
    for text in ("金额不符", "本系统缺失", "税务缺失", "相差 10.00 元", "待处理"):
        assert text in table
    assert a.receipt_no not in table  # matched
    save_screenshot(page, "reconciliation-differences")

    line = ReconciliationLine.objects.get(category="amount")
    page.goto(f"{live_server.url}/admin/finance/reconciliationdifference/{line.pk}/change/")
    page.fill("#difference-resolve textarea", "税务多征 10 元，已通知税务局退还")
    page.click("#difference-resolve input[name=_accept]")
    page.wait_for_selector(".messagelist .success")
    assert "认可" in page.locator("#difference-notes").inner_text()
    save_screenshot(page, "reconciliation-difference-accepted")

    page.goto(f"{live_server.url}/admin/finance/reconciliationstatus/?year=2023")
    row = page.locator("#status-table tbody tr").first.inner_text()
    assert "2023年11月" in row and "有差异" in row and date(2023, 11, 1)
    save_screenshot(page, "reconciliation-status")
    assert_only_local_requests(page, live_server)
