"""The bank's side of a payment batch in the browser tests: download the batch's bank file
from its page and upload the bank's returned file (the same rows and 处理结果, 失败原因,
银行流水号)."""
from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook, load_workbook


def download_bank_file(page, live_server, batch) -> list[list]:
    """The rows (header first) of the batch's bank file, downloaded from its page (opened
    unless the page is on it already: the tests land there from the login form)."""
    url = f"{live_server.url}/admin/finance/paymentbatch/{batch.pk}/change/"
    if page.url != url:
        page.goto(url)
    with page.expect_download() as download_info:
        page.click("text=导出银行文件（Excel）")
    sheet = load_workbook(BytesIO(open(download_info.value.path(), "rb").read())).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def upload_returned_file(page, live_server, batch, rows, answers, path) -> str:
    """Upload the bank's answer: each data row of ``rows`` followed by its answer
    ``(处理结果, 失败原因, 银行流水号)``; returns the page's message."""
    book = Workbook()
    book.active.append([*rows[0], "处理结果", "失败原因", "银行流水号"])
    for row, answer in zip(rows[1:], answers, strict=True):
        book.active.append([*row, *answer])
    book.save(path)
    page.goto(f"{live_server.url}/admin/finance/paymentbatch/{batch.pk}/change/")
    page.click("text=导入银行回盘")
    page.set_input_files("#id_file", str(path))
    page.click("#return-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    return page.inner_text(".messagelist")
