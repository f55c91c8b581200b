"""Cell parsers and readers of the import framework (no database): Chinese date forms,
amounts, codes or names, encodings (UTF-8 with/without BOM, GB18030), xlsx."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from sheets.parsing import (
    CellError,
    escape_formula,
    parse_bool,
    parse_date,
    parse_decimal,
    text,
)
from sheets.readers import FileError, SheetFile

from .helpers import write_csv, write_xlsx


@pytest.mark.parametrize("value", ["2024-03-01", "2024/3/1", "2024.3.1", "2024年3月1日", "2024年03月01",
                                   "20240301", 20240301, 45352, 45352.0, "45352",
                                   datetime(2024, 3, 1, 0, 0), date(2024, 3, 1),
                                   " 2024-03-01 00:00:00 ", "２０２４－０３－０１"])
def test_parse_date_accepts_the_usual_chinese_forms(value):
    assert parse_date(value) == date(2024, 3, 1)


@pytest.mark.parametrize("value", ["2024-02-30", "3/1/2024", "明天", "2024年13月1日"])
def test_parse_date_refuses_with_a_chinese_message(value):
    with pytest.raises(CellError) as exc:
        parse_date(value)
    assert "日期" in exc.value.message


@pytest.mark.parametrize(("value", "expected"), [
    ("380", "380.00"), ("1,234.5", "1234.50"), ("￥380.00", "380.00"), ("380元", "380.00"),
    (380, "380.00"), (380.1, "380.10"), (380.123, None)])
def test_parse_decimal(value, expected):
    if expected is None:
        with pytest.raises(CellError, match="小数"):
            parse_decimal(value)
        return
    result = parse_decimal(value)
    assert isinstance(result, Decimal) and result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize("value", ["-1", "abc", "1.001", "NaN"])
def test_parse_decimal_refuses(value):
    with pytest.raises(CellError):
        parse_decimal(value)


def test_bool_and_text():
    assert parse_bool("是") is True and parse_bool("否") is False and parse_bool("Y") is True
    with pytest.raises(CellError):
        parse_bool("也许")
    assert text("'=1+2") == "=1+2" and text("'abc") == "'abc" and text(123.0) == "123"


def test_escape_formula():
    assert [escape_formula(v) for v in ("=SUM(A1)", "+1", "-1", "@x", "\tx", "正常", 5)] == [
        "'=SUM(A1)", "'+1", "'-1", "'@x", "'\tx", "正常", 5]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = write_csv(tmp_path / "a.csv", ["证件号码", "姓名"], [["1", "张三丰"], ["2", "䶮龘"]],
                     encoding=encoding)
    sheet = SheetFile(path)
    assert sheet.headers == ["证件号码", "姓名"]
    assert [values for _n, values in sheet.rows()] == [["1", "张三丰"], ["2", "䶮龘"]]
    assert [n for n, _v in sheet.rows()] == [2, 3]


def test_rows_skip_empty_and_description_rows_and_keep_spreadsheet_numbers(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", ["证件号码*", "姓名"],
                      [["说明：必填", "说明：选填"], [None, None], ["1", "甲"], ["2"]])
    sheet = SheetFile(path)
    assert list(sheet.rows()) == [(4, ["1", "甲"]), (5, ["2", None])]


def test_unreadable_files(tmp_path):
    with pytest.raises(FileError, match=".xls"):
        SheetFile(tmp_path / "a.xls")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FileError, match="无法打开"):
        SheetFile(bad)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\n\n")
    with pytest.raises(FileError, match="表头"):
        SheetFile(empty)
