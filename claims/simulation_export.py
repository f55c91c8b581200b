"""The policy simulation's tables as an xlsx workbook (openpyxl), for the command and
the admin page."""
from __future__ import annotations

from openpyxl import Workbook

from .simulation import SimulationResult

HEADER = ("分组", "理赔件数", "现行支付（元）", "模拟支付（元）", "变化（元）", "变化（%）")


def _diff_rows(groups, total=None):
    rows = [*groups.values(), *([total] if total is not None else [])]
    return [(d.label, d.claims, d.base, d.simulated, d.change, d.change_pct) for d in rows]


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
        ws.append(HEADER)
        for row in rows:
            ws.append(row)
    ws = wb.create_sheet("变化最大的理赔")
    ws.append(("医院结算单号", "参保人", "就医类型", "现行支付（元）", "模拟支付（元）", "变化（元）"))
    for c in result.top(top):
        ws.append((c.settlement_no, c.person, c.claim_type, c.base, c.simulated, c.change))
    if result.errors:
        ws = wb.create_sheet("无法结算")
        ws.append(("医院结算单号", "原因"))
        for row in result.errors:
            ws.append(row)
    return wb
