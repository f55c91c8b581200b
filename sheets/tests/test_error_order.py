"""The order of an import's errors (sheets/engine.py ``sort_errors``): by row, then by
column as in the sheet, whichever step found them — a row's check against the other rows
runs after the next row's cells were parsed."""
import pytest

from sheets.engine import run_import, sort_errors
from sheets.parsing import parse_int
from sheets.registry import Column, SheetKind
from sheets.report import ImportResult, RowError

from .helpers import write_csv


class Numbers(SheetKind):
    """Two columns; a 编号 seen before in the file is a check error."""

    name, label = "numbers", "编号"
    columns = [Column("code", "编号", required=True), Column("count", "数量", parse_int)]

    def start(self, ctx):
        ctx.state["seen"] = set()

    def check(self, rows, ctx):
        for row in rows:
            if row.values["code"] in ctx.state["seen"]:
                ctx.error(row, "code", "编号重复")
            ctx.state["seen"].add(row.values["code"])
        return []


@pytest.mark.django_db
def test_a_check_error_comes_before_the_bad_cell_of_a_later_row(tmp_path):
    path = write_csv(tmp_path / "n.csv", ["编号", "数量"], [["A", "1"], ["A", "2"], ["B", "三"]])
    result = run_import(Numbers(), path, user=None, dry_run=True)
    assert [(e.row, e.column) for e in result.errors] == [(3, "编号"), (4, "数量")]


def test_the_file_first_then_rows_with_the_row_as_a_whole_before_its_cells():
    result = ImportResult(kind="numbers", file_name="n.csv")
    result.errors.extend([RowError(5, "数量", "b"), RowError(5, "编号", "a"), RowError(2, "数量", "c"),
                          RowError(5, "", "整行"), RowError(None, "", "文件"), RowError(5, "备注", "未知列")])
    sort_errors(Numbers(), result)
    assert [(e.row, e.column) for e in result.errors] == [
        (None, ""), (2, "数量"), (5, ""), (5, "编号"), (5, "数量"), (5, "备注")]
