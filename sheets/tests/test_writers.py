"""The one writer of every export (``sheets.excel``; issue 15 hole 9): text that starts like
a formula keeps the guard, a control character (which an xlsx cannot hold) is shown as
``\\x01`` — in data rows, headers and the error report, xlsx and csv alike."""
import csv

import pytest
from openpyxl import Workbook, load_workbook

from sheets.excel import export_text, put_cell
from sheets.report import RowError
from sheets.writers import write_errors, write_table

HOSTILE = ["=HYPERLINK(\"http://evil.example/x\",\"垫江县\")", "+1", "-1+1", "@SUM(A1)", "\t=1", "张\x01三",
           "李\x00四"]
SHOWN = ["'=HYPERLINK(\"http://evil.example/x\",\"垫江县\")", "'+1", "'-1+1", "'@SUM(A1)", "'\t=1", "张\\x01三",
         "李\\x00四"]


def test_export_text():
    assert [export_text(v) for v in HOSTILE] == SHOWN
    assert [export_text(v) for v in ("正常", "a\tb\nc", 5, None)] == ["正常", "a\tb\nc", 5, None]


def cells_of(path):
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return [value for row in csv.reader(handle) for value in row]
    book = load_workbook(path)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    return [c.value for c in cells]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_tables_and_headers_are_written_as_text(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    write_table(path, ["=1+1", "姓\x01名"], [HOSTILE[:2], HOSTILE[5:]])
    assert cells_of(path) == ["'=1+1", "姓\\x01名", *SHOWN[:2], *SHOWN[5:]]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_error_report_of_a_hostile_file(tmp_path, suffix):
    """An unknown column named with a control character used to make the error report raise
    (IllegalCharacterError: HTTP 500 instead of the report)."""
    path = tmp_path / f"errors{suffix}"
    write_errors([RowError(None, "姓\x01名", "无法识别的列名"), RowError(2, "姓名", "x", "=1+1")], path)
    values = cells_of(path)
    assert "姓\\x01名" in values and "'=1+1" in values


def test_put_cell_on_a_normal_worksheet():
    ws = Workbook().active
    assert put_cell(ws, 1, 1, "=1+1").value == "'=1+1"
    assert put_cell(ws, 1, 2, "甲\x02").value == "甲\\x02"


def test_xlsx_money_is_grouped_and_columns_fit_their_content(tmp_path):
    """Money cells stay numbers shown #,##0.00; a column is as wide as its widest sampled
    value (an 18-digit 证件号码, a long name), within 12–40; csv keeps plain numbers."""
    from datetime import date
    from decimal import Decimal

    headers = ["证件号码", "姓名", "金额", "缴费日期", "备注"]
    rows = [["500231199001011234", "张三", Decimal("40370.90"), date(2024, 3, 1), "甲" * 60],
            ["50023119900101123X", "李四", Decimal("-5.5"), None, ""]]
    path = tmp_path / "out.xlsx"
    assert write_table(path, headers, rows) == 2
    sheet = load_workbook(path).active
    widths = {sheet.cell(row=1, column=i + 1).value: sheet.column_dimensions[chr(65 + i)].width
              for i in range(len(headers))}
    assert widths["证件号码"] >= 20 and widths["姓名"] == 12 and widths["备注"] == 40
    assert widths["缴费日期"] == 12 and widths["金额"] == 12
    money = sheet.cell(row=2, column=3)
    assert (money.value, money.data_type, money.number_format) == (40370.9, "n", "#,##0.00")
    csv_path = tmp_path / "out.csv"
    write_table(csv_path, headers, rows)
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle))[1][2] == "40370.90"
