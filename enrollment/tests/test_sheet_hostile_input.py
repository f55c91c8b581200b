"""Hostile cells in the enrollment sheets (issue 15 holes 8 and 11): huge amounts, huge
numbers, a NUL byte and extra csv cells are refused with a Chinese message naming row and
column — never an exception (HTTP 500) in the preview or the real import."""
import pytest

from enrollment.models import Payment, Person
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, payment_row, person_row
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv, write_xlsx

pytestmark = pytest.mark.usefixtures("loaded_policies")


def errors_of(result):
    return {(e.row, e.column): e.message for e in result.errors}


def load_persons(tmp_path, seqs):
    path = write_csv(tmp_path / "persons.csv", PERSON_HEADER, [person_row(s) for s in seqs])
    assert run_import(get_kind("persons"), path, user=None).ok


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("column,changes", [
    ("应缴金额", {"due": "1e30", "self_paid": "1e30"}),
    ("应缴金额", {"due": "1" * 29, "self_paid": "1" * 29}),
    ("个人缴费", {"self_paid": "1000000000000"}),
    ("资助金额", {"subsidy": "-1e30"}),
])
def test_huge_payment_amounts_are_refused_by_row_and_column(tmp_path, column, changes, dry_run):
    load_persons(tmp_path, [1])
    path = write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [payment_row(1, **changes)])
    result = run_import(get_kind("payments"), path, dry_run=dry_run, user=None)
    errors = errors_of(result)
    assert (2, column) in errors, errors
    assert "金额" in errors[(2, column)] and ("上限" in errors[(2, column)] or "负数" in errors[(2, column)])
    assert not Payment.objects.exists()


def test_huge_payment_amounts_in_xlsx_number_cells(tmp_path):
    load_persons(tmp_path, [1])
    row = payment_row(1)
    row[7] = row[9] = 1e30  # numeric cells
    result = run_import(get_kind("payments"), write_xlsx(tmp_path / "pay.xlsx", PAYMENT_HEADER, [row]), user=None)
    assert "上限" in errors_of(result)[(2, "应缴金额")]


@pytest.mark.parametrize("year", ["1" * 29, "99999999999"])
def test_huge_year_is_refused(tmp_path, year):
    load_persons(tmp_path, [1])
    result = run_import(get_kind("payments"), write_csv(tmp_path / "pay.csv", PAYMENT_HEADER,
                                                        [payment_row(1, year=year)]), user=None)
    assert (2, "年度") in errors_of(result), errors_of(result)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("dry_run", [True, False])
def test_nul_byte_in_a_cell_is_refused_at_check_time(tmp_path, dry_run):
    row = person_row(1, name="张\x00三")
    result = run_import(get_kind("persons"), write_csv(tmp_path / "p.csv", PERSON_HEADER, [row]),
                        dry_run=dry_run, user=None)
    errors = errors_of(result)
    assert "不可见的控制字符" in errors[(2, "姓名")], errors
    assert not Person.objects.exists()


def test_extra_csv_cells_beyond_the_header_refuse_the_row(tmp_path):
    """个人缴费 as the last column and ``380,000`` unquoted: csv splits it into 380 and 000;
    the row was imported as 380 (the extra cell dropped silently)."""
    load_persons(tmp_path, [1])
    header = [h for h in PAYMENT_HEADER if h != "个人缴费"] + ["个人缴费"]
    row = payment_row(1)
    row = row[:9] + row[10:] + ["380,000"]
    path = tmp_path / "pay.csv"
    path.write_text(",".join(header) + "\n" + ",".join(str(c) for c in row) + "\n", encoding="utf-8")
    result = run_import(get_kind("payments"), path, user=None)
    errors = errors_of(result)
    assert list(errors) == [(2, "")], errors
    assert "多出 1 个有内容的单元格（第 13 列）" in errors[(2, "")]
    assert "12,000,000" in errors[(2, "")]
    assert not Payment.objects.exists()
    quoted = tmp_path / "quoted.csv"
    quoted.write_text(",".join(header) + "\n" + ",".join(str(c) for c in row[:-1]) + ',"380",,\n',
                      encoding="utf-8")
    assert run_import(get_kind("payments"), quoted, user=None).ok  # empty cells beyond: harmless
