"""Exports a clerk can use in Excel (issue 11 item 7; docs/spreadsheets.md §导出给人看的表格):
money as numeric cells ``0.00``, dates as date cells, times in local time (Asia/Shanghai,
never UTC), Chinese names for codes, a sheet title and a file name that say what the file
is, xlsx preselected in the admin export form. The files are opened with openpyxl."""
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from enrollment.models import Payment
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, payment_row, person_row
from sheets.tests.helpers import admin_upload, write_csv

pytestmark = pytest.mark.usefixtures("loaded_policies")

RAW_CODES = {"True", "False", "None", "id_card", "resident", "wechat", "central", "mar_jun",
             "resident_basic", "paid", "active", "male", "female", "annual"}


@pytest.fixture
def data(tmp_path):
    rows = [person_row(1), person_row(3), person_row(5, region="长治市")]
    call_command("import_sheet", "persons", str(write_csv(tmp_path / "p.csv", PERSON_HEADER, rows)))
    call_command("import_sheet", "payments", str(write_csv(
        tmp_path / "pay.csv", PAYMENT_HEADER, [payment_row(1), payment_row(3)])))
    # a payment entered late in the evening local time: 23:30 in Shanghai is 15:30 UTC
    evening = timezone.make_aware(datetime(2023, 12, 1, 23, 30, 5))
    Payment.objects.filter(receipt_no="R000001").update(created_at=evening)
    return tmp_path


def columns(ws):
    header = [c.value for c in ws[1]]
    return {name: index for index, name in enumerate(header)}


def assert_people_cells(ws):
    for row in ws.iter_rows(min_row=2, values_only=True):
        for value in row:
            assert value is None or str(value) not in RAW_CODES, (value, row)


def test_payment_export_has_typed_cells_local_times_and_names(data, dianjiang_clerk):
    out = data / "payments.xlsx"
    call_command("export_sheet", "payments", str(out), "--user", dianjiang_clerk.username)
    ws = load_workbook(out).active
    assert ws.title == "缴费_垫江县"
    col = columns(ws)
    rows = {r[col["票据/流水号"]].value: r for r in ws.iter_rows(min_row=2)}
    first, second = rows["R000001"], rows["R000003"]
    for header in ("应缴金额", "资助金额", "个人缴费"):
        cell = first[col[header]]
        assert cell.data_type == "n" and cell.number_format == "#,##0.00", header
    assert first[col["应缴金额"]].value == Decimal("380.00") and second[col["个人缴费"]].value == 380
    paid = first[col["缴费日期"]]
    assert paid.is_date and paid.number_format == "yyyy-mm-dd" and paid.value.date() == date(2023, 12, 1)
    assert first[col["待遇起始日"]].is_date
    entered = first[col["录入时间"]]
    assert entered.is_date and entered.number_format == "yyyy-mm-dd hh:mm"
    assert entered.value == datetime(2023, 12, 1, 23, 30, 5)  # local, not 15:30 UTC
    assert first[col["缴费渠道"]].value == "微信" and first[col["档次"]].value == "一档"
    assert first[col["缴费期"]].value not in ("", None) and "_" not in first[col["缴费期"]].value
    assert_people_cells(ws)


def test_person_export_reimports_and_shows_names(data, dianjiang_clerk, capsys):
    out = data / "persons.xlsx"
    call_command("export_sheet", "persons", str(out), "--user", dianjiang_clerk.username)
    ws = load_workbook(out).active
    assert ws.title.startswith("参保人") and "垫江县" in ws.title
    col = columns(ws)
    row = next(ws.iter_rows(min_row=2))
    assert row[col["出生日期"]].is_date and row[col["出生日期"]].number_format == "yyyy-mm-dd"
    assert row[col["证件类型"]].value == "居民身份证" and row[col["人员类别"]].value == "城乡居民"
    assert row[col["异地安置"]].value == "否"
    assert_people_cells(ws)
    capsys.readouterr()
    call_command("import_sheet", "persons", str(out), "--user", dianjiang_clerk.username)
    assert "无变化 2" in capsys.readouterr().out


def test_admin_export_form_preselects_xlsx_and_names_the_file(client, data, dianjiang_clerk):
    client.force_login(dianjiang_clerk)
    url = reverse("admin:enrollment_payment_export")
    form = client.get(url).context["form"]
    assert form.fields["format"].initial == "0"
    assert [label for _v, label in form.fields["format"].choices][0] == "xlsx"
    assert "" not in [v for v, _l in form.fields["format"].choices]
    response = client.post(url, {"format": "0", "resource": "0", **{
        f"paymentresource_{name}": "on" for name in ("name", "amount_due", "paid_date", "created_at")}})
    assert response.status_code == 200, response.content[:500]
    today = timezone.localdate().strftime("%Y%m%d")
    expected = f"缴费_垫江县_{today}.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(expected)}"
    ws = load_workbook(BytesIO(response.content)).active
    assert ws.title == "缴费_垫江县"
    col = columns(ws)
    for row in ws.iter_rows(min_row=2):
        if "应缴金额" in col:
            assert row[col["应缴金额"]].data_type == "n" and row[col["应缴金额"]].number_format == "#,##0.00"
        if "录入时间" in col and row[col["录入时间"]].value is not None:
            assert row[col["录入时间"]].is_date
    evening = [r for r in ws.iter_rows(min_row=2, values_only=True)
               if "录入时间" in col and r[col["录入时间"]] == datetime(2023, 12, 1, 23, 30, 5)]
    assert evening, "the evening payment's local time"
    assert_people_cells(ws)


def test_admin_person_export_file_name(client, data, dianjiang_clerk):
    client.force_login(dianjiang_clerk)
    fields = ("document_type", "name", "sex", "birth_date", "category", "resettled", "created_at")
    response = client.post(reverse("admin:enrollment_person_export"), {
        "format": "0", "resource": "0", **{f"personresource_{f}": "on" for f in fields}})
    assert response.status_code == 200
    today = timezone.localdate().strftime("%Y%m%d")
    expected = f"参保人_垫江县_{today}.xlsx"
    assert f"filename*=utf-8''{quote(expected)}" in response["Content-Disposition"]
    ws = load_workbook(BytesIO(response.content)).active
    assert ws.title == "参保人_垫江县"
    col = columns(ws)
    assert all(r[col["出生日期"]].is_date for r in ws.iter_rows(min_row=2))
    assert_people_cells(ws)


def test_template_and_error_report_file_names(client, data, dianjiang_clerk):
    client.force_login(dianjiang_clerk)
    response = client.get(reverse("admin:enrollment_person_import_template"))
    assert f"filename*=utf-8''{quote('参保人导入模板.xlsx')}" in response["Content-Disposition"]
    bad = write_csv(data / "bad.csv", PERSON_HEADER, [person_row(7, category="外星人")])
    page = admin_upload(client, reverse("admin:enrollment_person_import_sheet"), bad)
    report = client.get(reverse("admin:jobs_myjob_file", args=[page.context["job"].pk, "errors"]))
    today = timezone.localdate().strftime("%Y%m%d")
    assert quote(f"参保人导入错误报告_bad_{today}.xlsx") in report["Content-Disposition"]
    ws = load_workbook(BytesIO(b"".join(report.streaming_content))).active
    assert ws.title == "错误报告"


def test_csv_export_times_are_local(data, dianjiang_clerk):
    out = data / "payments.csv"
    call_command("export_sheet", "payments", str(out), "--user", dianjiang_clerk.username)
    text = out.read_text(encoding="utf-8-sig")
    assert "2023-12-01 23:30:05" in text and "2023-12-01 15:30:05" not in text

