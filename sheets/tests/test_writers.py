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
