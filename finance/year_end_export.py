"""A year-end statement as an xlsx workbook (docs/money.md §年度清算): title, fund, insurer,
status and signatures, then one row per stored line (amounts numeric ``#,##0.00``), then
the statement's notes. Every cell through ``sheets.excel.put_cell`` (text guarded)."""
from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from sheets.excel import export_file_name, put_cell, sheet_title

from .models.year_end import YearEndStatement

MONEY_FORMAT = "#,##0.00"
HEADER = ("部分", "项目", "金额（元）", "件数", "说明")


def _who(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


def statement_file_name(statement: YearEndStatement) -> str:
    return export_file_name("年度清算表", statement.scheme.region.name, statement.scheme.name,
                            f"{statement.year}年度", f"第{statement.version}版")


def statement_workbook(statement: YearEndStatement) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(f"{statement.year}年度清算表")
    put_cell(ws, 1, 1, f"{statement.scheme}{statement.year}年度清算表（第{statement.version}版）").font = \
        Font(bold=True, size=13)
    signed = (f"签认人：{_who(statement.signed_by)}，签认时间："
              f"{statement.signed_at:%Y-%m-%d %H:%M}" if statement.is_signed else "未签认（草稿，数字以签认时为准）")
    put_cell(ws, 2, 1, f"承保机构：{statement.insurer or '未填写'}")
    put_cell(ws, 3, 1, f"状态：{statement.get_status_display()}；编制人：{_who(statement.prepared_by)}；{signed}")
    put_cell(ws, 4, 1, "金额单位：元；赔付率单位：%")
    row = 6
    for col, text in enumerate(HEADER, 1):
        put_cell(ws, row, col, text).font = Font(bold=True)
    widths = (14, 44, 18, 8, 50)
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[ws.cell(row=row, column=col).column_letter].width = width
    for line in statement.lines.order_by("seq"):
        row += 1
        values = (line.get_section_display(), line.label, "—" if line.amount is None else line.amount,
                  line.count, line.note)
        for col, value in enumerate(values, 1):
            cell = put_cell(ws, row, col, value,
                            number_format=MONEY_FORMAT if col == 3 and line.amount is not None else None)
            if line.total:
                cell.font = Font(bold=True)
    if statement.notes:
        row += 2
        put_cell(ws, row, 1, "说明").font = Font(bold=True)
        for text in statement.notes.splitlines():
            row += 1
            put_cell(ws, row, 1, text)
    ws.freeze_panes = "A7"
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
