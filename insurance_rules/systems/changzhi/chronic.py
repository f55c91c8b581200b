"""长治 门诊慢性病 and “两病”门诊用药 (changzhi.md, chronic catalogue and 两病 sections).

门诊慢性病: an approved registration valid on the service date is required (else
``not_registered``); 二类/三类 pay ``min(compliant × ratio, monthly limit − paid this
calendar month for that disease)``; 一类 pay ``min(compliant × ratio, basic-fund annual
limit − YTD basic-fund usage)`` (the pool shared with inpatient, ``shares_pool``). A
registration for a disease closed to new registrations (三类, ``closed_from``)
approved on or after that date is not valid. A ChronicBenefit deductible (0 in 长治)
is annual per disease.

两病: registration required; a person holding a valid registration of the chronic
disease that excludes it (``excluded_by``: CZ18 for HBP, CZ35 for DM1/DM2) is not
covered (``excluded_by_chronic``); ``paid = min(a × ratio_a + b × ratio_b, annual limit
− YTD paid for that disease)``.
"""
from __future__ import annotations

from ...common import (
    Calc,
    adjusted_ratio,
    adjustment_ref,
    adjustment_text,
    percent,
    ratio_adjustments,
    ratio_step,
    yuan,
)
from ...context import LayerContext
from ...errors import InvalidInput
from ...money import ZERO, pct, q2
from ...params import Disease
from ...results import LayerResult
from ._history import ytd_sum
from ._pools import pool_cap, within_unpaid
from ._rows import CHRONIC_CLASS_NAMES, chronic_rule, disease_name, nothing, scheme_label, two_disease_rule


def registration_problem(ctx: LayerContext, disease: Disease) -> str | None:
    """Why the person has no valid registration for ``disease`` on the service date."""
    day = ctx.claim.date
    reg = ctx.person.registration_on(disease.code, day)
    if reg is None:
        return f"参保人在 {day} 没有“{disease_name(disease)}”经审核通过且在有效期内的登记，本层不支付"
    if disease.closed_from is not None and reg.approved >= disease.closed_from:
        return (f"“{disease_name(disease)}”自 {disease.closed_from} 起不再新纳入，"
                f"{reg.approved} 核准的登记无效，本层不支付")
    return None


def require_disease(ctx: LayerContext) -> str:
    if not ctx.claim.disease:
        what = "门诊慢特病" if ctx.claim.type == "chronic_outpatient" else "两病用药"
        raise InvalidInput(f"{what}理赔缺少字段“claim.disease”（病种代码）")
    return ctx.claim.disease


def not_in_catalogue(ctx: LayerContext, code: str, table: str) -> LayerResult:
    return nothing(ctx.plan, "disease_not_covered",
                   f"病种 {code} 不在{scheme_label(ctx.plan)} {ctx.plan.year} 年度的待遇目录内"
                   f"（{table} 无此病种），本层不支付")


def chronic_outpatient(ctx: LayerContext) -> LayerResult:
    plan, claim = ctx.plan, ctx.claim
    code = require_disease(ctx)
    rule = chronic_rule(plan, code)
    if rule is None:
        return not_in_catalogue(ctx, code, "门诊慢特病待遇")
    disease = rule.disease
    rule_ref = rule.ref("ChronicBenefit", disease=disease.code, disease_class=disease.disease_class,
                        ratio=rule.ratio, monthly_limit=rule.monthly_limit or "",
                        deductible=rule.deductible, shares_pool=rule.shares_pool)
    problem = registration_problem(ctx, disease)
    if problem:
        return nothing(plan, "not_registered", problem, (rule_ref,))
    calc = Calc(plan.kind).use(rule_ref)

    def this_disease(c):
        return c.type == claim.type and c.disease == code

    compliant = claim.compliant
    deductible = ZERO
    if rule.deductible:
        used_ded = ytd_sum(ctx, this_disease, lambda lr: lr.deductible)
        deductible = min(compliant, max(ZERO, rule.deductible - used_ded))
    adjustments = ratio_adjustments(plan, claim, ctx.person)
    ratio = adjusted_ratio(rule.ratio, adjustments)
    calc.use(*(adjustment_ref(a) for a in adjustments))
    raw, arithmetic = ratio_step(compliant, deductible, ratio)
    text = (f"{CHRONIC_CLASS_NAMES.get(disease.disease_class, '')}门诊慢性病“{disease_name(disease)}”："
            f"合规费用 {yuan(compliant)}")
    if rule.deductible:
        text += f"，年度起付线 {yuan(rule.deductible)}，本次计入 {yuan(deductible)}"
    text += f"，支付比例 {percent(rule.ratio)}"
    if adjustments:
        text += f"（{adjustment_text(adjustments)}）= {percent(ratio)}"
    calc.say(f"{text}，{arithmetic}")
    amount = raw
    if rule.monthly_limit is not None:
        month = (claim.date.year, claim.date.month)
        used = ytd_sum(ctx, lambda c: this_disease(c) and (c.date.year, c.date.month) == month)
        remaining = max(ZERO, rule.monthly_limit - used)
        amount = min(raw, remaining)
        calc.say(f"月支付限额 {yuan(rule.monthly_limit)}，{claim.date.year} 年 {claim.date.month} 月"
                 f"本病种已支付 {yuan(used)}，剩余 {yuan(remaining)}")
    allowed, _ = pool_cap(ctx, calc, rule.shares_pool, amount)
    capped = raw - allowed
    allowed = within_unpaid(ctx, calc, allowed, compliant)
    reason = "limit_reached" if q2(allowed) == ZERO and capped > ZERO else ""
    return calc.layer(allowed, deductible=q2(deductible), ratio=ratio, capped=capped,
                      basis=q2(compliant - deductible), reason=reason)


def two_diseases(ctx: LayerContext) -> LayerResult:
    plan, claim = ctx.plan, ctx.claim
    code = require_disease(ctx)
    rule = two_disease_rule(plan, code)
    if rule is None:
        return not_in_catalogue(ctx, code, "两病用药待遇")
    disease = rule.disease
    rule_ref = rule.ref("TwoDiseaseBenefit", disease=disease.code, deductible=rule.deductible,
                        ratio_class_a=rule.ratio_class_a, ratio_class_b=rule.ratio_class_b,
                        annual_limit=rule.annual_limit)
    problem = registration_problem(ctx, disease)
    if problem:
        return nothing(plan, "not_registered", problem, (rule_ref,))
    if disease.excluded_by and ctx.person.registration_on(disease.excluded_by, claim.date):
        return nothing(plan, "excluded_by_chronic",
                       f"参保人已纳入门诊慢性病“{disease.excluded_by}”保障，不享受"
                       f"“{disease_name(disease)}”两病用药待遇，本层不支付", (rule_ref,))
    calc = Calc(plan.kind).use(rule_ref)

    def this_disease(c):
        return c.type == claim.type and c.disease == code

    drug_a, drug_b = claim.drug_class_a, claim.drug_class_b
    deductible = ded_a = ded_b = ZERO
    if rule.deductible:
        used_ded = ytd_sum(ctx, this_disease, lambda lr: lr.deductible)
        deductible = min(drug_a + drug_b, max(ZERO, rule.deductible - used_ded))
        ded_a = min(drug_a, deductible)
        ded_b = deductible - ded_a
        calc.say(f"年度起付线 {yuan(rule.deductible)}，本次计入 {yuan(deductible)}（先甲类后乙类）")
    raw = (drug_a - ded_a) * pct(rule.ratio_class_a) + (drug_b - ded_b) * pct(rule.ratio_class_b)
    calc.say(f"“两病”门诊用药“{disease_name(disease)}”：甲类药品 {yuan(drug_a - ded_a)}×"
             f"{percent(rule.ratio_class_a)} + 乙类药品 {yuan(drug_b - ded_b)}×"
             f"{percent(rule.ratio_class_b)} = {yuan(raw)}")
    used = ytd_sum(ctx, this_disease)
    remaining = max(ZERO, rule.annual_limit - used)
    allowed = min(raw, remaining)
    calc.say(f"年度限额 {yuan(rule.annual_limit)}，本年本病种已支付 {yuan(used)}，剩余 {yuan(remaining)}")
    allowed = within_unpaid(ctx, calc, allowed, min(drug_a + drug_b, claim.total), "药品费用")
    capped = raw - min(raw, remaining)
    reason = "limit_reached" if q2(allowed) == ZERO and capped > ZERO else ""
    return calc.layer(allowed, deductible=q2(deductible), ratio=rule.ratio_class_a, capped=capped,
                      basis=q2(drug_a + drug_b), reason=reason)
