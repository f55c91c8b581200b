"""Limits of an imported file (issue 15, hole 6; sheets/readers.py ``limits``,
sheets/report.py ``ReportedErrors``): too many rows or columns are refused as a whole
with a Chinese message, before or while reading; errors beyond the kept ones are
counted, and the report says how many were left out."""
import pytest
from openpyxl import Workbook, load_workbook

from sheets.readers import FileError, SheetFile
from sheets.report import ImportResult, ReportedErrors, RowError
from sheets.writers import write_errors

from .helpers import write_csv


def test_too_many_rows_are_refused_while_reading(tmp_path, settings):
    settings.SHEETS_MAX_ROWS = 5
    sheet = SheetFile(write_csv(tmp_path / "a.csv", ["证件号码"], [[str(n)] for n in range(6)]))
    with pytest.raises(FileError, match="最多 5 行"):
        list(sheet.rows())
    assert len(list(SheetFile(write_csv(tmp_path / "b.csv", ["证件号码"], [["1"]] * 5)).rows())) == 5


def test_a_declared_huge_xlsx_is_refused_before_reading_a_row(tmp_path, settings):
    settings.SHEETS_MAX_ROWS = 10
    book = Workbook()
    sheet = book.active
    sheet.append(["证件号码"])
    sheet["A5000"] = "x"  # the <dimension> says A1:A5000
    book.save(tmp_path / "big.xlsx")
    with pytest.raises(FileError, match="声明有 5,000 行"):
        list(SheetFile(tmp_path / "big.xlsx").rows())


def test_too_many_filled_columns_are_refused(tmp_path, settings):
    settings.SHEETS_MAX_COLUMNS = 3
    path = write_csv(tmp_path / "w.csv", ["a", "b"], [["1", "2", "", "", "x"]])
    with pytest.raises(FileError, match="第 2 行超过最多 3 列"):
        list(SheetFile(path).rows_with_extra())


def test_errors_beyond_the_limit_are_counted_and_reported_as_one_line(tmp_path):
    errors = ReportedErrors(limit=3)
    errors.extend(RowError(row, "金额", "不是数字") for row in range(2, 12))
    assert (len(errors), errors.hidden, errors.total) == (3, 7, 10)
    result = ImportResult(kind="persons", file_name="f.csv", errors=errors, rows=10)
    assert result.bad_rows == 10 and "10 行有错误（10 处）" in result.summary()
    write_errors(errors, tmp_path / "r.xlsx")
    rows = list(load_workbook(tmp_path / "r.xlsx").active.values)
    assert len(rows) == 1 + 3 + 1 and rows[-1][3] == "……另有 7 处错误未列出（只列出前 3 处）"
