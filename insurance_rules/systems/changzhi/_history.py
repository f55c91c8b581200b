"""Year-to-date figures of the 长治 formulas (spec README §4.4).

Every figure is derived from ``LayerContext.history`` (the person's earlier settled
claims of the same plan year, in settlement order); nothing is kept as a counter.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from ...context import LayerContext
from ...facts import ClaimFacts
from ...money import ZERO
from ...results import LayerResult

BASIC_KINDS = ("resident_basic", "employee_basic")
POOL_KEY = "limit_pool"  # LayerResult.extra key of the pool a paid amount counts in (common.py)


def pool_usage(ctx: LayerContext, pool: str, pool_of: Callable[[ClaimFacts], str]) -> Decimal:
    """YTD paid of this scheme counted in the annual-limit ``pool``.

    A computed layer records its pool in ``extra`` (``limit_pool``); a layer that did not
    (a given layer — the hospital's result, README §4.7) counts in the pool its claim
    belongs to under this plan year's rows (``pool_of``): e.g. a given employee inpatient
    result uses up the basic fund shared with 一类 chronic claims."""
    total = ZERO
    for claim, layer in ctx.ytd_layers():
        recorded = layer.extra_text(POOL_KEY, default=None)
        if (recorded if recorded is not None else pool_of(claim)) == pool:
            total += layer.paid
    return total


def ytd_sum(ctx: LayerContext, keep: Callable[[ClaimFacts], bool],
            value: Callable[[LayerResult], Decimal] = lambda lr: lr.paid) -> Decimal:
    """Σ value(layer of this scheme) over the earlier claims selected by ``keep``."""
    return sum((value(lr) for claim, lr in ctx.ytd_layers() if keep(claim)), ZERO)


def scheme_ytd_paid(ctx: LayerContext) -> Decimal:
    return sum((lr.paid for _claim, lr in ctx.ytd_layers()), ZERO)


def basic_paid(layers: Iterable[LayerResult]) -> Decimal:
    """Paid by the basic layer (resident_basic or employee_basic) among ``layers``."""
    return sum((lr.paid for lr in layers if lr.scheme in BASIC_KINDS), ZERO)
