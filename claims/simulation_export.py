"""The policy simulation's tables as an xlsx workbook (openpyxl), for the command and
the admin page: amounts are numeric cells ``0.00`` (so that Excel sums them), headers
bold, the first row frozen; every cell through ``sheets.excel.put_cell`` (text guarded)."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font

from sheets.excel import put_cell

from .simulation import SimulationResult

HEADER = ("分组", "理赔件数", "现行支付（元）", "模拟支付（元）", "变化（元）", "变化（%）")
TOP_HEADER = ("医院结算单号", "参保人", "就医类型", "现行支付（元）", "模拟支付（元）", "变化（元）")


def _diff_rows(groups, total=None):
    rows = [*groups.values(), *([total] if total is not None else [])]
    return [(d.label, d.claims, d.base, d.simulated, d.change, d.change_pct) for d in rows]


def _fill(ws, header, rows):
    """Header and rows through ``sheets.excel.put_cell`` (a person named ``=1+1`` stays text)."""
    for index, text in enumerate(header, start=1):
        put_cell(ws, 1, index, text).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = max(12, len(text) * 2 + 2)
    ws.freeze_panes = "A2"
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            put_cell(ws, r, c, value)


def simulation_workbook(result: SimulationResult, *, top: int = 20) -> Workbook:
    wb = Workbook()
    sheets = (("按险种层", _diff_rows(result.by_layer, result.total)),
              ("按就医类型", _diff_rows(result.by_claim_type)),
              ("按身份", _diff_rows(result.by_identity)))
    first = True
    for title, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = title
        _fill(ws, HEADER, rows)
    _fill(wb.create_sheet("变化最大的理赔"), TOP_HEADER,
          [(c.settlement_no, c.person, c.claim_type, c.base, c.simulated, c.change)
           for c in result.top(top)])
    if result.errors:
        _fill(wb.create_sheet("无法结算"), ("医院结算单号", "原因"), result.errors)
    return wb
