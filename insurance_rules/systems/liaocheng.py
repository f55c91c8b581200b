"""聊惠保 (聊城, spec liaocheng.md): responsibilities 1–4 after the basic, critical-illness,
employee-large and assistance layers (given input), each with its own annual deductible
(16 000 / 16 000 / 16 000 / 10 000) and annual limit, ratios 80 % / 10 % / 80 % / 80 % —
all of them ``Responsibility`` rows:

- R1 ``inpatient``: compliant − upstream paid;
- R2 ``inpatient``: class-B copay + out-of-catalogue cost (out-of-scope);
- R3 ``special_drug`` of list ``lc_high_cost`` prescribed at a county-level-or-higher
  institution (``min_admin_level``): total − upstream paid;
- R4 ``special_drug`` of list ``lc_special_efficacy``: total − upstream paid.

The layer pays the sum of its items (``insurance_rules.responsibilities``).
"""
from __future__ import annotations

from ..common import Calc
from ..context import LayerContext
from ..registry import formula
from ..responsibilities import items_layer, settle_items
from ..results import LayerResult


@formula("liaocheng_inclusive", needs=("applicable", "responsibilities"))
def liaocheng_inclusive(ctx: LayerContext) -> LayerResult:
    calc = Calc(ctx.plan.kind)
    return items_layer(calc, settle_items(ctx, calc))
