"""xlsx export of one dashboard figure (openpyxl): the figure's table with its title,
the filters and the units; numbers stay numbers (money ``#,##0.00``, percent ``0.00``),
dates are date cells and times local (``sheets.excel``)."""
from __future__ import annotations

from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from sheets.excel import excel_cell, sheet_title

from .figures import INT, MONEY, PERCENT, Figure

HEADER_ROW = 4
NUMBER_FORMATS = {MONEY: "#,##0.00", PERCENT: "0.00", INT: "0"}


def figure_workbook(figure: Figure, *, scope: str) -> bytes:
    """The xlsx bytes: row 1 title, row 2 scope and time, row 3 spec, row 4 headers,
    then one row per table row."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(figure.title)
    ws.cell(row=1, column=1, value=figure.title).font = Font(bold=True, size=13)
    exported = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    ws.cell(row=2, column=1, value=f"范围：{scope}；导出时间：{exported}")
    ws.cell(row=3, column=1, value=f"口径：{figure.basis}；金额单位：元；比例单位：%")
    for col, column in enumerate(figure.columns, start=1):
        ws.cell(row=HEADER_ROW, column=col, value=column.header).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=HEADER_ROW, column=col).column_letter].width = (
            max(12, len(column.header) * 2 + 2))
    for r, row in enumerate(figure.rows, start=HEADER_ROW + 1):
        for col, (column, value) in enumerate(zip(figure.columns, row, strict=True), start=1):
            typed, number_format = excel_cell(value)
            cell = ws.cell(row=r, column=col, value="—" if typed is None else typed)
            if column.kind in NUMBER_FORMATS and not isinstance(value, str) and value is not None:
                cell.number_format = NUMBER_FORMATS[column.kind]
            elif number_format is not None:
                cell.number_format = number_format  # dates, local times, other decimals
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
