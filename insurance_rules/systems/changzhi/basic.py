"""长治 basic layers: ``changzhi_resident`` and ``changzhi_employee_basic``.

Spec changzhi.md (城乡居民 普通门诊统筹, “两病”门诊用药, 门诊慢性病, 城乡居民 住院, 生育;
职工 门诊慢特病) and README §4. Both families run the same code; only the rows differ:
the resident plan year has outpatient, two-disease, chronic, inpatient and delivery
rows; the employee plan year has chronic rows, and its inpatient/outpatient results are
given input (ApplicableClaimType ``rules_in_seed = false``) until a policy officer
enters the missing employee rows — then the same code computes them.

- 普通门诊统筹: row by hospital level (not fee class), annual cumulative deductible,
  one annual limit for all levels (pool ``outpatient``); with ``class_b_items`` the
  class-B first-pay is derived (PlanFigure ``class_b_copay_rate``) and compliant
  recomputed; 跨省临时外出 −10 pp unless resettled (RatioAdjustment ``cross_province``).
- 住院: fee class from level + grade (HospitalFeeClass), rows by fee class / admin
  level / location (the out-of-province row has priority), per-admission deductible,
  异地未备案 −10 pp (``not_filed``), basic-fund annual limit shared with 一类 chronic.
- 生育: 顺产/剖宫产 fixed amounts, never more than the total.
- 门诊特药 (``special_drug``): the basic layers' benefit is not in the seed; the plan years
  list the claim type with ``rules_in_seed = false``, so the core takes the claim's given
  result or raises ``missing_rule`` (never ``not_applicable``); a given special-drug result
  counts in no annual-limit pool (no row names one).
"""
from __future__ import annotations

from decimal import Decimal

from ...claim_amounts import class_b_copay_of, compliant_of, sum_exceeds_total
from ...common import (
    Calc,
    adjusted_ratio,
    adjustment_ref,
    adjustment_text,
    benefit_ref,
    benefit_rows,
    deductible_remaining,
    match_benefit,
    percent,
    ratio_adjustments,
    ratio_step,
    yuan,
)
from ...context import LayerContext
from ...errors import InvalidInput
from ...money import ZERO, q2
from ...params import Benefit
from ...registry import formula
from ...results import LayerResult, ParamRef
from ...vocab import ADMIN_LEVEL_NAMES, DELIVERY_MODE_NAMES, LEVEL_NAMES, claim_type_name
from ._pools import pool_cap, within_unpaid
from ._rows import (
    FEE_CLASS_NAMES,
    fee_class_ref,
    fee_class_row,
    hospital_name,
    missing_rule,
    nothing,
    require_hospital,
)
from .chronic import chronic_outpatient, two_diseases


def outpatient_compliant(ctx: LayerContext, calc: Calc) -> Decimal:
    """Compliant cost of an outpatient claim. With ``class_b_items`` the class-B first
    pay is ``class_b_copay_rate`` × class_b_items and compliant = total − out_of_catalog
    − that first pay; otherwise the claim's ``compliant`` as given."""
    claim = ctx.claim
    if claim.class_b_items is None:
        return claim.compliant
    figure = ctx.plan.figure("class_b_copay_rate")
    if figure is None:
        raise missing_rule(ctx.plan, "乙类药品先行自付比例（参考指标 class_b_copay_rate）")
    copay = class_b_copay_of(claim.class_b_items, figure.value)
    compliant = compliant_of(claim.total, claim.out_of_catalog, copay)
    if compliant < 0:
        raise InvalidInput(f"字段“claim.class_b_items”："
                           f"{sum_exceeds_total(claim.total, claim.out_of_catalog, copay)}")
    calc.use(figure.ref("PlanFigure", code=figure.code, value=figure.value))
    calc.say(f"乙类药品 {yuan(claim.class_b_items)} 先行自付 {percent(figure.value)} = {yuan(copay)}，"
             f"合规费用 = {yuan(claim.total)}−{yuan(claim.out_of_catalog)}−{yuan(copay)} "
             f"= {yuan(compliant)}")
    return compliant


def ratio_benefit(ctx: LayerContext, calc: Calc, row: Benefit, compliant: Decimal,
                  title: str) -> LayerResult:
    """Deductible → ratio with adjustments → pool limit → never more than the unpaid
    compliant cost; one rounding at the end (README §4.1)."""
    plan, claim = ctx.plan, ctx.claim
    if row.ratio is None:
        raise missing_rule(plan, f"{title}的报销比例（待遇标准第 {row.id} 行）")
    calc.use(benefit_ref(row))
    left, ded_text = deductible_remaining(ctx, row)
    if row.deductible_mode == "annual":
        calc.keep("deductible_pool", claim.type)
    deductible = min(compliant, left)
    adjustments = ratio_adjustments(plan, claim, ctx.person)
    ratio = adjusted_ratio(row.ratio, adjustments)
    calc.use(*(adjustment_ref(a) for a in adjustments))
    raw, arithmetic = ratio_step(compliant, deductible, ratio)
    ratio_text = f"报销比例 {percent(row.ratio)}"
    if adjustments:
        ratio_text += f"（{adjustment_text(adjustments)}）= {percent(ratio)}"
    if row.deductible:
        ded_text += f"，本次计入起付线 {yuan(deductible)}"
    else:
        ded_text = "不设起付线"
    calc.say(f"{title}：合规费用 {yuan(compliant)}，{ded_text}，{ratio_text}，{arithmetic}")
    allowed, capped = pool_cap(ctx, calc, row.limit_pool, raw)
    allowed = within_unpaid(ctx, calc, allowed, compliant)
    reason = "limit_reached" if q2(allowed) == ZERO and capped > ZERO else ""
    return calc.layer(allowed, deductible=q2(deductible), ratio=ratio, capped=capped,
                      basis=q2(compliant - deductible), reason=reason)


def no_benefit_row(ctx: LayerContext, what: str, refs: tuple[ParamRef, ...] = ()) -> LayerResult:
    return nothing(ctx.plan, "level_not_covered",
                   f"{claim_type_name(ctx.claim.type)}：{what}没有适用的待遇标准，"
                   f"本层不支付", refs)


def outpatient(ctx: LayerContext) -> LayerResult:
    hospital = require_hospital(ctx.claim)
    calc = Calc(ctx.plan.kind)
    compliant = outpatient_compliant(ctx, calc)
    row = match_benefit(ctx.plan, claim_type="outpatient", tier=ctx.coverage.tier, hospital=hospital)
    if row is None:
        return no_benefit_row(ctx, hospital_name(hospital))
    title = f"普通门诊统筹（{LEVEL_NAMES.get(hospital.level, hospital.level)}）"
    return ratio_benefit(ctx, calc, row, compliant, title)


def inpatient(ctx: LayerContext) -> LayerResult:
    hospital = require_hospital(ctx.claim)
    calc = Calc(ctx.plan.kind)
    fee = fee_class_row(ctx.plan, hospital)
    if fee is not None:
        calc.use(fee_class_ref(fee))
    fee_text = FEE_CLASS_NAMES.get(fee.fee_class, "") if fee else "无收费类别"
    row = match_benefit(ctx.plan, claim_type="inpatient", tier=ctx.coverage.tier, hospital=hospital)
    if row is None:
        return no_benefit_row(ctx, f"{hospital_name(hospital)}（{fee_text}）", tuple(calc.refs))
    rule_text = "省外标准" if row.location == "out_of_province" else fee_text
    if row.admin_level:
        rule_text += f"·{ADMIN_LEVEL_NAMES.get(row.admin_level, row.admin_level)}"
    title = f"住院（{hospital_name(hospital)}，按{rule_text}）"
    return ratio_benefit(ctx, calc, row, ctx.claim.compliant, title)


def delivery(ctx: LayerContext) -> LayerResult:
    claim = ctx.claim
    if not claim.delivery_mode:
        raise InvalidInput("住院分娩理赔缺少字段“claim.delivery_mode”（vaginal 顺产 / cesarean 剖宫产）")
    mode = DELIVERY_MODE_NAMES.get(claim.delivery_mode, claim.delivery_mode)
    row = match_benefit(ctx.plan, claim_type="delivery", tier=ctx.coverage.tier,
                        hospital=claim.hospital, delivery_mode=claim.delivery_mode)
    if row is None:
        return no_benefit_row(ctx, f"分娩方式“{mode}”")
    calc = Calc(ctx.plan.kind)
    title = f"住院分娩（{mode}）"
    if row.fixed_amount is None:
        return ratio_benefit(ctx, calc, row, claim.compliant, title)
    calc.use(benefit_ref(row))
    unpaid = max(ZERO, claim.total - ctx.upstream_paid)
    amount = min(row.fixed_amount, unpaid)
    calc.say(f"{title}定额 {yuan(row.fixed_amount)}，医疗总费用 {yuan(claim.total)}")
    if amount < row.fixed_amount:
        calc.say(f"定额高于未支付的医疗费用，按 {yuan(unpaid)} 支付")
    allowed, capped = pool_cap(ctx, calc, row.limit_pool, amount)
    return calc.layer(allowed, capped=capped, basis=q2(claim.total))


BENEFIT_SETTLERS = {"outpatient": outpatient, "inpatient": inpatient, "delivery": delivery}

RULE_NAMES = {
    "outpatient": "普通门诊统筹待遇标准（起付线、报销比例、年度限额）",
    "inpatient": "住院待遇标准（起付线、报销比例、年度限额）",
    "delivery": "住院分娩待遇标准（定额或比例）",
    "chronic_outpatient": "门诊慢特病待遇",
    "two_diseases": "“两病”门诊用药待遇",
}


def settle_basic(ctx: LayerContext) -> LayerResult:
    """Dispatch by claim type; a claim type without rows is ``missing_rule`` (the core
    calls a formula only when the claim carries no given result, README §4.7)."""
    plan, claim_type = ctx.plan, ctx.claim.type
    if claim_type == "chronic_outpatient" and plan.chronic:
        return chronic_outpatient(ctx)
    if claim_type == "two_diseases" and plan.two_diseases:
        return two_diseases(ctx)
    if claim_type in BENEFIT_SETTLERS and benefit_rows(plan, claim_type):
        return BENEFIT_SETTLERS[claim_type](ctx)
    raise missing_rule(plan, RULE_NAMES.get(claim_type, f"{claim_type_name(claim_type)}的待遇标准"))


@formula("changzhi_resident", needs=("applicable", "benefits", "limits", "chronic"))
def changzhi_resident(ctx: LayerContext) -> LayerResult:
    """长治 城乡居民基本医保: 普通门诊统筹, 两病, 门诊慢性病, 住院, 生育."""
    return settle_basic(ctx)


@formula("changzhi_employee_basic", needs=("applicable", "chronic", "limits"))
def changzhi_employee_basic(ctx: LayerContext) -> LayerResult:
    """长治 职工基本医保: 门诊慢特病 (一类 85 % sharing the 80 000 basic fund with
    inpatient, 二类 monthly limits at 75 %); inpatient/outpatient given until entered."""
    return settle_basic(ctx)
