"""The error report of an import: every bad row with its row number, column header, the
cell's value and a Chinese message (spec README §6; docs/spreadsheets.md §错误报告)."""
from __future__ import annotations

from dataclasses import dataclass, field

REPORT_HEADERS = ["行号", "列", "单元格内容", "错误说明"]


def messages_by_field(exc) -> dict[str | None, list[str]]:
    """A model's ``ValidationError`` as messages by field name (None = the row as a
    whole), for the kinds to report against their columns."""
    if hasattr(exc, "error_dict"):
        return {(None if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    return {None: exc.messages}


@dataclass(frozen=True)
class RowError:
    row: int | None  # spreadsheet row number; None = the file as a whole
    column: str  # the column header ("" = the row as a whole)
    message: str
    value: str = ""

    def as_list(self) -> list:
        return [self.row if self.row is not None else "", self.column, self.value, self.message]

    def __str__(self):
        where = "文件" if self.row is None else f"第 {self.row} 行"
        column = f"“{self.column}”列" if self.column else ""
        value = f"（{self.value}）" if self.value not in ("", None) else ""
        return f"{where}{column}{value}：{self.message}"


class ReportedErrors(list):
    """The errors of an import, kept in full up to ``limit`` (``SHEETS_MAX_ERRORS``);
    beyond it only counted (``hidden``) with the rows they are on, so that a file of
    millions of bad rows neither fills the memory nor writes a report of millions of
    lines (issue 15, hole 6)."""

    def __init__(self, limit: int | None = None):
        super().__init__()
        if limit is None:
            from django.conf import settings

            limit = getattr(settings, "SHEETS_MAX_ERRORS", 10_000)
        self.limit = limit
        self.hidden = 0
        self.rows: set = set()

    def append(self, error) -> None:
        if error.row is not None:
            self.rows.add(error.row)
        if len(self) < self.limit:
            super().append(error)
        else:
            self.hidden += 1

    def extend(self, errors) -> None:
        for error in errors:
            self.append(error)

    @property
    def total(self) -> int:
        return len(self) + self.hidden


@dataclass
class ImportResult:
    kind: str
    file_name: str
    dry_run: bool = False
    rows: int = 0
    counts: dict = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    errors: ReportedErrors = field(default_factory=ReportedErrors)
    written: bool = False
    preview: list = field(default_factory=list)  # the first rows as parsed (admin preview)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> int:
        if isinstance(self.errors, ReportedErrors):
            return len(self.errors.rows)
        return len({e.row for e in self.errors if e.row is not None})

    @property
    def error_count(self) -> int:
        return getattr(self.errors, "total", len(self.errors))

    def summary(self) -> str:
        c = self.counts
        if not self.ok:
            return (f"{self.file_name}：共 {self.rows} 行数据，{self.bad_rows} 行有错误（{self.error_count} "
                    f"处），未写入任何数据")
        verb = "试导入（未写入）" if self.dry_run else "已导入"
        return (f"{self.file_name}：{verb}共 {self.rows} 行数据 — 新增 {c['created']}，更新 "
                f"{c['updated']}，无变化 {c['unchanged']}")
