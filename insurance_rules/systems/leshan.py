"""乐山 职工补充医疗保险 (spec leshan.md). The employee basic layer is given input (its
``paid``, ``deductible`` and ``over_cap``); two ``Responsibility`` rows pay:

1. 住院费赔付 (basis ``band``): compliant − deductible − over_cap − basic paid (≥ 0), at
   the ratio of the row matching the hospital's location (in region 90 %, elsewhere
   78 %); a person with an 异地安置 filing (``resettled``) is settled as in region.
2. 高额赔付 (basis ``over_cap``): over_cap × the row's ratio; the ``IncentiveRule`` rows of
   that row (continuous years ≥ N → ratio) replace it for the first claim of the year
   whose over_cap > 0; later claims of the year use the row's own ratio.
3. The ``major_disease`` ratio adjustment adds its points to both ratios (incentive
   included), clamped at 100 %.
4. The scheme's annual limit (pool ``scheme_total``) caps the year's total.

B-class special-disease outpatient claims are settled like inpatient claims: when the
plan has no row of their own claim type, the inpatient rows apply.
"""
from __future__ import annotations

from ..common import (
    Calc,
    adjustment_ref,
    adjustment_text,
    claim_location,
    layers_before,
    location_matches,
    missing,
    percent,
    ratio_adjustments,
    upstream_extra,
)
from ..context import LayerContext
from ..money import ZERO, clamp_ratio
from ..params import ResponsibilityRule
from ..registry import formula
from ..responsibilities import items_layer, limit_items, responsibility_ref, settle_item
from ..results import LayerResult

USED_REASONS = ("not_covered", "not_applicable")


def _pick(ctx: LayerContext, basis: str, location: str) -> tuple[ResponsibilityRule | None, str]:
    """The row of a basis for the claim (own claim type, else inpatient) at the location."""
    rows = [r for r in ctx.plan.responsibilities if r.basis == basis]
    for claim_type in (ctx.claim.type, "inpatient"):
        fits = [r for r in rows if r.claim_type == claim_type and location_matches(r.location, location)]
        if fits:
            return max(fits, key=lambda r: (bool(r.location), -r.seq)), claim_type
    return None, ctx.claim.type


def _incentive_used(ctx: LayerContext) -> bool:
    """Did an earlier claim of the year with over_cap > 0 reach this scheme?"""
    kind = ctx.plan.kind
    for settled in ctx.history:
        layer = settled.layer(kind)
        if layer is None or layer.reason in USED_REASONS:
            continue
        if upstream_extra(layers_before(settled, kind), "over_cap") > 0:
            return True
    return False


def _ratio_text(source: str, adjustments: str) -> str:
    notes = "，".join(x for x in (source, adjustments) if x)
    return f"比例（{notes}）" if notes else "比例"


@formula("leshan_supplementary", needs=("applicable", "responsibilities", "limits"))
def leshan_supplementary(ctx: LayerContext) -> LayerResult:
    plan, claim, person = ctx.plan, ctx.claim, ctx.person
    calc = Calc(plan.kind)
    actual = claim_location(claim)
    location = "in_region" if person.resettled else actual
    if person.resettled and actual != "in_region":
        calc.say("参保人已办理异地安置备案，按统筹区内就医比例赔付")
    band_row, as_type = _pick(ctx, "band", location)
    if band_row is None:
        raise missing(plan, "住院费赔付责任（Responsibility，计算基数“合规费用 − 起付线 − 超封顶部分 − 基本医保已付”）")
    over_cap = upstream_extra(ctx.upstream, "over_cap")
    calc.keep("over_cap", over_cap)
    adjustments = ratio_adjustments(plan, claim, person, claim_types=(claim.type, as_type))
    points = sum((a.points for a in adjustments), ZERO)
    adj = adjustment_text(adjustments)
    calc.use(*(adjustment_ref(a) for a in adjustments))
    if adj:
        calc.say(f"比例调整：{adj}")

    if band_row.ratio_healthy is None:
        raise missing(plan, f"{band_row.code} {band_row.name}的赔付比例")
    calc.use(responsibility_ref(band_row))
    band = settle_item(ctx, band_row, pre_existing=False, ratio=clamp_ratio(band_row.ratio_healthy + points),
                       ratio_text=_ratio_text(percent(band_row.ratio_healthy) if adj else "", adj),
                       location=location, as_type=as_type)
    calc.say(band.explanation)
    items = [band]

    high_row, _ = _pick(ctx, "over_cap", location)
    if high_row is None:
        if over_cap > 0:
            raise missing(plan, "高额赔付责任（Responsibility，计算基数“超基本医保封顶线的合规费用”）")
    else:
        if high_row.ratio_healthy is None:
            raise missing(plan, f"{high_row.code} {high_row.name}的赔付比例")
        calc.use(responsibility_ref(high_row))
        base, source = high_row.ratio_healthy, percent(high_row.ratio_healthy) if adj else ""
        if over_cap > 0 and high_row.incentives:
            reached = [i for i in high_row.incentives if person.continuous_years >= i.min_years]
            if reached and not _incentive_used(ctx):
                best = max(reached, key=lambda i: i.min_years)
                calc.use(best.ref("IncentiveRule", min_years=best.min_years, ratio=best.ratio))
                base = best.ratio
                source = f"参保激励：连续缴费 {person.continuous_years} 年（≥{best.min_years} 年）本年首次超封顶 {percent(best.ratio)}"
            elif reached:
                source = f"{percent(base)}，本年已有超封顶理赔，不再适用参保激励"
        high = settle_item(ctx, high_row, pre_existing=False, ratio=clamp_ratio(base + points),
                           ratio_text=_ratio_text(source, adj),
                           location=location, as_type=as_type)
        calc.say(high.explanation)
        items.append(high)
    return items_layer(calc, limit_items(ctx, calc, items))
