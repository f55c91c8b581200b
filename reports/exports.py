"""xlsx export of one dashboard figure (openpyxl): the figure's table with its title,
the filters and the units; numbers stay numbers (money ``#,##0.00``, percent ``0.00``),
dates are date cells and times local (``sheets.excel``)."""
from __future__ import annotations

from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from sheets.excel import put_cell, sheet_title

from .figures import INT, MONEY, PERCENT, Figure

HEADER_ROW = 4
NUMBER_FORMATS = {MONEY: "#,##0.00", PERCENT: "0.00", INT: "0"}


def figure_workbook(figure: Figure, *, scope: str) -> bytes:
    """The xlsx bytes: row 1 title, row 2 scope and time, row 3 spec, row 4 headers,
    then one row per table row. Every cell goes through ``sheets.excel.put_cell`` (a region
    named ``=HYPERLINK(…)`` stays text)."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(figure.title)
    put_cell(ws, 1, 1, figure.title).font = Font(bold=True, size=13)
    exported = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    put_cell(ws, 2, 1, f"范围：{scope}；导出时间：{exported}")
    put_cell(ws, 3, 1, f"口径：{figure.basis}；金额单位：元；比例单位：%")
    for col, column in enumerate(figure.columns, start=1):
        header = put_cell(ws, HEADER_ROW, col, column.header)
        header.font = Font(bold=True)
        ws.column_dimensions[header.column_letter].width = max(12, len(str(column.header)) * 2 + 2)
    for r, row in enumerate(figure.rows, start=HEADER_ROW + 1):
        for col, (column, value) in enumerate(zip(figure.columns, row, strict=True), start=1):
            numeric = column.kind in NUMBER_FORMATS and not isinstance(value, str) and value is not None
            put_cell(ws, r, col, "—" if value is None else value,
                     number_format=NUMBER_FORMATS[column.kind] if numeric else None)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
