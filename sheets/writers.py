"""Writing exports, empty templates and error reports (docs/spreadsheets.md).

Rows are streamed: csv through ``csv.writer`` (UTF-8 with BOM, so that Excel on a
Chinese Windows opens it correctly), xlsx through openpyxl's write-only workbook with
typed cells (``sheets.excel``: money as numbers ``#,##0.00``, dates and local times as
date cells), each column as wide as its header or the widest of its first
``WIDTH_SAMPLE`` values (``column_width``, 12 to 40). csv cells stay plain numbers.
Every cell, headers included, goes through ``sheets.excel`` (``export_text``: control
characters shown, a leading ``'`` before = + - @).
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path

from .excel import column_width, export_text, local_naive, sheet_title, typed_cell
from .readers import DESCRIPTION_PREFIX
from .registry import SheetKind
from .report import REPORT_HEADERS, RowError

WIDTH_SAMPLE = 200
"""Rows read ahead to size the columns of an xlsx (a write-only sheet takes its widths
before its first row)."""


def _cell(value):
    """A csv cell (text): local time for datetimes, 是/否 for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return local_naive(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, Decimal)):
        return value
    return export_text(str(value))


def file_format(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    raise ValueError(f"不支持的文件类型“{suffix}”：请使用 .xlsx 或 .csv")


def write_table(target, headers: list[str], rows: Iterable[list], *, fmt: str | None = None,
                description: list[str] | None = None, title: str = "Sheet1") -> int:
    """Write ``headers`` and ``rows`` to ``target`` (a path, or a binary file object with
    ``fmt``); returns the number of data rows."""
    fmt = fmt or file_format(target)
    count = 0
    if fmt == "csv":
        opened = isinstance(target, (str, Path))
        handle = open(target, "w", encoding="utf-8-sig", newline="") if opened else None
        try:
            if handle is None:
                import io

                handle = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
            writer = csv.writer(handle)
            writer.writerow([_cell(v) for v in headers])
            if description:
                writer.writerow([_cell(v) for v in description])
            for row in rows:
                writer.writerow([_cell(v) for v in row])
                count += 1
        finally:
            if opened:
                handle.close()
            elif handle is not None:
                handle.detach()
        return count
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title(title))
    rows = iter(rows)
    sample = list(islice(rows, WIDTH_SAMPLE))  # widths come before the rows in a write-only sheet
    for index, header in enumerate(headers):
        letter = _column_letter(index)
        sheet.column_dimensions[letter].width = column_width(
            header, (row[index] for row in sample if index < len(row)))
    sheet.freeze_panes = "A3" if description else "A2"
    head_cells = []
    for index, header in enumerate(headers):
        cell = typed_cell(sheet, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        if description and description[index]:
            cell.comment = Comment(description[index].removeprefix(DESCRIPTION_PREFIX), "医保经办系统")
        head_cells.append(cell)
    sheet.append(head_cells)
    if description:
        desc_cells = []
        for text in description:
            cell = typed_cell(sheet, text)
            cell.font = Font(color="808080", italic=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            desc_cells.append(cell)
        sheet.append(desc_cells)
    for row in chain(sample, rows):
        sheet.append([typed_cell(sheet, v) for v in row])
        count += 1
    book.save(target)
    return count


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def write_template(kind: SheetKind, target, *, fmt: str | None = None) -> None:
    """An empty import template: the header row (required columns marked ``*``) and a
    description row (``说明：…``; skipped on import)."""
    columns = kind.import_columns()
    headers = [c.header + ("*" if c.required else "") for c in columns]
    description = [f"{DESCRIPTION_PREFIX}{'必填。' if c.required else '选填。'}{c.description}"
                   for c in columns]
    write_table(target, headers, [], fmt=fmt, description=description, title=f"{kind.label}导入模板")


def write_errors(errors: Iterable[RowError], target, *, fmt: str | None = None) -> int:
    """The error report; errors beyond the kept ones (``ReportedErrors.hidden``) are one
    closing line with their count."""
    hidden = getattr(errors, "hidden", 0)
    trailer = [["", "", "", f"……另有 {hidden} 处错误未列出（只列出前 {len(errors)} 处）"]] if hidden else []
    return write_table(target, REPORT_HEADERS, [*(e.as_list() for e in errors), *trailer], fmt=fmt,
                       title="错误报告")
