"""The two xlsx readers (sheets/readers.py): python-calamine for a sheet that fits
``SHEETS_CALAMINE_MAX_BYTES``, openpyxl's streaming read-only mode for a larger one, and
for a sheet holding an error cell. Both must give the values openpyxl gave before
(issue 17): dates as datetimes, integral numbers as ints, a 身份证号 typed as a number
as a float (refused later), empty cells as None, formulas as their cached values,
merged headers in their first cell, the spreadsheet's own row numbers."""
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import Workbook

from sheets.readers import SheetFile, xlsx_layout


def tricky_book(path):
    book = Workbook()
    sheet = book.active
    sheet["B3"], sheet["C3"], sheet["D3"], sheet["E3"] = "证件号码", "金额", "日期", "合并表头"
    sheet.merge_cells("E3:F3")
    rows = [
        ["500231195001010012", 380, datetime(2024, 3, 1), 1.5, "  姓名  "],
        [123456789012345678, 380.5, date(2024, 3, 1), True, "x"],
        ["=1+1", "=C4*2", time(10, 30), None, ""],
        [20240301, 1e15, datetime(2024, 3, 1, 10, 5), -0.0, "说明：不是说明行"],
        [45352, 0.1 + 0.2, timedelta(hours=5), 0, 999999999999999],
    ]
    for number, values in enumerate(rows, start=4):
        for column, value in zip("BCDEF", values, strict=True):
            sheet[f"{column}{number}"] = value
    sheet["B10"] = "z"  # after an empty row
    book.save(path)
    return path


@pytest.mark.parametrize("limit", [0, 1 << 30])
def test_both_readers_give_the_values_openpyxl_gave(tmp_path, settings, limit):
    settings.SHEETS_CALAMINE_MAX_BYTES = limit
    sheet = SheetFile(tricky_book(tmp_path / "t.xlsx"))
    rows = list(sheet.rows_with_extra())
    assert sheet.xlsx_reader == ("openpyxl" if limit == 0 else "calamine")
    assert (sheet.headers, sheet.header_row) == (["", "证件号码", "金额", "日期", "合并表头"], 3)
    assert rows == [
        (4, [None, "500231195001010012", 380, datetime(2024, 3, 1), 1.5], []),
        (5, [None, 1.234567890123457e17, 380.5, datetime(2024, 3, 1), True], []),
        (6, [None, None, None, time(10, 30), None], []),  # formulas without a cached value
        (7, [None, 20240301, 1000000000000000, datetime(2024, 3, 1, 10, 5), 0], []),
        (8, [None, 45352, 0.3, timedelta(hours=5), 0], []),  # 0.1 + 0.2 as Excel stores it
        (10, [None, "z", None, None, None], []),
    ]
    assert type(rows[0][1][2]) is int and type(rows[3][1][1]) is int  # not 380.0, 20240301.0
    assert type(rows[1][1][1]) is float  # a 身份证号 typed as a number stays refusable
    assert list(sheet.rows_with_extra()) == rows  # a second pass reads the same


def test_the_reader_is_chosen_by_the_sheets_uncompressed_size(tmp_path, settings):
    path = tricky_book(tmp_path / "t.xlsx")
    layout = xlsx_layout(path)
    assert layout.sheet == "xl/worksheets/sheet1.xml" and layout.declared_rows == 10
    settings.SHEETS_CALAMINE_MAX_BYTES = layout.sheet_bytes + layout.strings_bytes
    sheet = SheetFile(path)
    list(sheet.rows())
    assert sheet.xlsx_reader == "calamine"
    settings.SHEETS_CALAMINE_MAX_BYTES -= 1
    sheet = SheetFile(path)
    list(sheet.rows())
    assert sheet.xlsx_reader == "openpyxl"


def test_an_error_cell_is_read_as_its_text_by_openpyxl(tmp_path, settings):
    settings.SHEETS_CALAMINE_MAX_BYTES = 1 << 30
    book = Workbook()
    book.active.append(["证件号码", "金额"])
    book.active.append(["1", "#DIV/0!"])  # an error value (t="e"), which calamine reads as empty
    book.save(tmp_path / "e.xlsx")
    assert xlsx_layout(tmp_path / "e.xlsx").has_error_cells()
    sheet = SheetFile(tmp_path / "e.xlsx")
    assert list(sheet.rows()) == [(2, ["1", "#DIV/0!"])] and sheet.xlsx_reader == "openpyxl"
