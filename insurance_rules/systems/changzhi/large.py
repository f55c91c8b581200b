"""长治 职工大额医疗费用补助: ``changzhi_employee_large`` (changzhi.md 职工医保; README §4.7).

The seed gives the annual limit (500 000, an AnnualLimit ``scheme_total`` row) but not
the ratio, so the layer's result is always given input (ApplicableClaimType rows with
``rules_in_seed = false``; the layer applies to inpatient and 一类 chronic claims only).
Reached without a given result, the formula raises ``missing_rule`` naming the scheme,
the plan year and the missing ratio. ``cap_given`` limits a given result by what is left
of the annual limit; the core calls it on every given result of this layer
(``registry.given_handler``, see docs/changzhi-decisions.md).
"""
from __future__ import annotations

from ...common import annual_limit, limit_ref, yuan
from ...context import LayerContext
from ...facts import GivenLayer
from ...money import ZERO, q2
from ...registry import formula, given_handler
from ...results import LayerResult
from ._history import scheme_ytd_paid
from ._rows import missing_rule, scheme_label


@given_handler("changzhi_employee_large")
def cap_given(ctx: LayerContext, given: GivenLayer) -> LayerResult:
    """The given result, limited by the annual limit minus this layer's YTD paid and by
    what is still unpaid of the claim's total (README §4.1)."""
    plan, claim = ctx.plan, ctx.claim
    parts = [f"{scheme_label(plan)}：带入医院结算结果 {yuan(given.paid)}"]
    amount = given.paid
    capped = ZERO
    refs = ()
    limit = annual_limit(plan, "scheme_total", tier=ctx.coverage.tier, person=ctx.person,
                         day=claim.date)
    if limit is not None and limit.amount is not None:
        refs = (limit_ref(limit),)
        used = scheme_ytd_paid(ctx)
        remaining = max(ZERO, limit.amount - used)
        if amount > remaining:
            capped = amount - remaining
            amount = remaining
        parts.append(f"年度最高支付限额 {yuan(limit.amount)}，本年已支付 {yuan(used)}，"
                     f"剩余 {yuan(remaining)}")
    unpaid = max(ZERO, claim.total - ctx.upstream_paid)
    if amount > unpaid:
        parts.append(f"未支付的医疗费用仅余 {yuan(unpaid)}")
        amount = unpaid
    paid = q2(amount)
    parts.append(f"本层支付 {yuan(paid)}")
    return LayerResult(scheme=plan.kind, paid=paid, deductible=given.deductible, capped=q2(capped),
                       reason="limit_reached" if paid == ZERO and capped > ZERO else "",
                       explanation="；".join(parts), refs=refs, given=True)


@formula("changzhi_employee_large", needs=("applicable", "limits"))
def changzhi_employee_large(ctx: LayerContext) -> LayerResult:
    given = ctx.claim.given.get(ctx.plan.kind)
    if given is None:
        raise missing_rule(
            ctx.plan, "报销比例（种子文件未载明职工大额医疗费用补助的支付比例，年度方案中没有该比例的"
                      f"规则行），须在理赔中带入本层结算结果 claim.given.{ctx.plan.kind}.paid")
    return cap_given(ctx, given)
