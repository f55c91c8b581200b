"""长治 城乡居民大病保险: ``changzhi_critical`` (changzhi.md 大病保险; README §4.4, §4.5).

S = YTD compliant self-pay after the basic layer (``compliant − basic paid``, basic =
the claim's resident_basic or employee_basic layer) over the claim types the layer
applies to (its ApplicableClaimType rows: inpatient and chronic outpatient).

f(S) = Σ segments (``common.segment_value``): a ``cumulative`` segment pays ratio ×
(S − threshold) above its threshold; an ``after_previous`` segment pays ratio × (R −
threshold) above its threshold with R = S − what the earlier segments pay (长治: 75 %
above 10 000, then 50 % above R 50 000). The rows of an identity the person holds on the
service date (特困/低保/返贫致贫: 5 000, 80 %) replace the ordinary rows of the same
``seq``; several such identities → the most favourable result.

A claim gets f(S_before + s) − f(S_before), both with this claim's own ratios
(RatioAdjustment rows, e.g. 未办理转院审批 −10 pp on every segment), limited by the
AnnualLimit ``scheme_total`` row (an identity's row without amount = 不设封顶线) minus
what this layer paid earlier in the year.
"""
from __future__ import annotations

from decimal import Decimal

from ...common import (
    Calc,
    adjustment_ref,
    adjustment_text,
    annual_limit,
    percent,
    ratio_adjustments,
    segment_gain,
    segment_ref,
    yuan,
)
from ...context import LayerContext
from ...money import ZERO, clamp_ratio, pct, q2
from ...params import PlanParams, Segment
from ...registry import formula
from ...results import LayerResult
from ._history import basic_paid, scheme_ytd_paid
from ._pools import within_unpaid
from ._rows import identity_name, missing_rule, nothing

SPEC_CLAIM_TYPES = ("inpatient", "chronic_outpatient")
"""Claim types of S when the plan year has no ApplicableClaimType rows (changzhi.md)."""


def segments_for(plan: PlanParams, identity: str | None) -> tuple[Segment, ...]:
    """Ordinary rows, replaced seq by seq by the identity's rows, in seq order."""
    by_seq = {seg.seq: seg for seg in plan.segments if seg.identity is None}
    if identity is not None:
        by_seq.update({seg.seq: seg for seg in plan.segments if seg.identity == identity})
    return tuple(by_seq[k] for k in sorted(by_seq))


def f_text(s_total: Decimal, segments: tuple[Segment, ...], shift: Decimal) -> str:
    """The arithmetic of f(S), segment by segment (as ``common.segment_value``)."""
    done = ZERO
    terms = []
    for seg in segments:
        ratio = clamp_ratio(seg.ratio + shift)
        if seg.base == "cumulative":
            name, base = "S", s_total
        else:
            name, base = "R", s_total - done
        amount = max(base - seg.threshold, ZERO) * pct(ratio)
        done += amount
        terms.append(f"第{seg.seq}段 ({name} {yuan(base)}−{yuan(seg.threshold)})×{percent(ratio)}"
                     f" = {yuan(amount)}" if amount else
                     f"第{seg.seq}段 {name} {yuan(base)} 未超过 {yuan(seg.threshold)}")
    return f"f({yuan(s_total)})：" + "，".join(terms) + f"，合计 {yuan(done)}"


def counted_types(plan: PlanParams) -> frozenset[str]:
    return frozenset(a.claim_type for a in plan.applicable) or frozenset(SPEC_CLAIM_TYPES)


@formula("changzhi_critical", needs=("applicable", "segments"))
def changzhi_critical(ctx: LayerContext) -> LayerResult:
    plan, claim = ctx.plan, ctx.claim
    if not any(seg.identity is None for seg in plan.segments):
        raise missing_rule(plan, "大病保险普通人员分段（起付标准、报销比例）")
    types = counted_types(plan)
    upstream_basic = basic_paid(ctx.upstream)
    s_this = max(ZERO, claim.compliant - upstream_basic)
    s_before = sum((max(ZERO, sc.claim.compliant - basic_paid(sc.layers))
                    for sc in ctx.history if sc.claim.type in types), ZERO)
    calc = Calc(plan.kind)
    calc.say(f"大病保险：本次合规自付 = 合规费用 {yuan(claim.compliant)} − 基本医保已付 "
             f"{yuan(upstream_basic)} = {yuan(s_this)}；年度累计合规自付 S 由 {yuan(s_before)} "
             f"增至 {yuan(s_before + s_this)}")
    if s_this == ZERO:
        return nothing(plan, "", "；".join(calc.lines) + "；本次无合规自付费用，本层支付 0.00")
    adjustments = ratio_adjustments(plan, claim, ctx.person)
    shift = sum((a.points for a in adjustments), ZERO)
    if adjustments:
        calc.use(*(adjustment_ref(a) for a in adjustments))
        calc.say(f"各段报销比例调整：{adjustment_text(adjustments)}")
    held = ctx.person.identity_codes_on(claim.date)
    identities = sorted({seg.identity for seg in plan.segments if seg.identity in held}) or [None]
    gains = {i: segment_gain(segments_for(plan, i), s_before, s_this, shift) for i in identities}
    chosen = max(identities, key=lambda i: gains[i])
    segments = segments_for(plan, chosen)
    gain = gains[chosen]
    calc.use(*(segment_ref(seg) for seg in segments))
    if len(identities) > 1:
        calc.say("多重身份按就高原则：" + "，".join(f"{identity_name(i)} {yuan(gains[i])}"
                                                  for i in identities))
    calc.say(f"按{identity_name(chosen)}分段计算：{f_text(s_before + s_this, segments, shift)}；"
             f"{f_text(s_before, segments, shift)}；本次 = f(本次后) − f(本次前) = {yuan(gain)}")
    limit = annual_limit(plan, "scheme_total", tier=ctx.coverage.tier, person=ctx.person,
                         day=claim.date)
    allowed, capped = calc.cap(gain, limit, scheme_ytd_paid(ctx), "大病保险年度最高支付限额")
    allowed = within_unpaid(ctx, calc, allowed, claim.compliant)
    reason = ""
    if q2(allowed) == ZERO:
        reason = "limit_reached" if capped > ZERO else "below_threshold"
    first_ratio = clamp_ratio(segments[0].ratio + shift) if segments else None
    return calc.layer(allowed, ratio=first_ratio, capped=capped, basis=q2(s_this), reason=reason)
