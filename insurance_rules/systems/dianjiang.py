"""垫江 (重庆) 城乡居民基本医保 and 大病保险 (spec dianjiang.md).

``chongqing_resident`` — the basic layer:
- 住院: per-admission deductible and ratio by hospital level and tier (BenefitRule);
  ratio adjustments (minor +points, RatioAdjustment rows); at a TCM hospital the
  deductible of a lower level (``deductible_level_shift``) only where the hospital's
  location is in the row's ``deductible_shift_location`` (垫江 "我市" = 重庆: in region
  or in province), and ``tcm_compliant`` at the ratio plus the TCM points at any TCM
  hospital, the deductible absorbed first by the non-TCM compliant cost; limited by the
  annual limit of the row's pool and tier.
- 普通门诊: level substitution (LevelSubstitution: minors at a level-3 children's
  hospital settled as level 2), annual cumulative deductible, one annual limit for all
  levels; a level without a row is not covered (``level_not_covered``).
- 产前检查 by its row and YTD limit; 顺产 a fixed amount (≤ total); 剖宫产 settled as
  住院 (its paid counts in the basic-fund pool) and topped up to the row's floor amount
  (≤ total). The 大病 layer applies to it through its own ApplicableClaimType row
  (delivery · cesarean), so its compliant − basic paid enters the 大病 basis S.

``chongqing_critical`` — 大病保险: basis = compliant − basic paid per applicable claim;
the cumulative segments on the YTD basis (identity rows replace the ordinary ones) and
the annual limit of the person's identity (就高).
"""
from __future__ import annotations

from decimal import Decimal

from ..common import (
    Calc,
    adjusted_ratio,
    adjustment_ref,
    adjustment_text,
    annual_limit,
    benefit_label,
    benefit_ref,
    benefit_rows,
    claim_location,
    deductible_remaining,
    location_matches,
    match_benefit,
    missing,
    percent,
    pool_label,
    ratio_adjustments,
    ratio_step,
    segment_gain,
    segment_ref,
    segment_sets,
    ytd_extra,
    ytd_paid,
    yuan,
    zero_layer,
)
from ..context import LayerContext
from ..errors import InvalidInput
from ..money import ZERO, clamp_ratio, pct
from ..params import Benefit
from ..registry import formula
from ..results import LayerResult
from ..vocab import LEVEL_NAMES, LOCATION_NAMES, TIER_NAMES, claim_type_name


def _hospital(ctx: LayerContext):
    if ctx.claim.hospital is None:
        raise InvalidInput(f"字段“claim.hospital”：{claim_type_name(ctx.claim.type)}理赔必须填写医疗机构信息")
    return ctx.claim.hospital


def _row(ctx: LayerContext, claim_type: str, *, level: int | None = None,
         delivery_mode: str | None = None) -> Benefit | None:
    return match_benefit(ctx.plan, claim_type=claim_type, tier=ctx.coverage.tier,
                         hospital=ctx.claim.hospital, level=level,
                         delivery_mode=delivery_mode if delivery_mode is not None else ctx.claim.delivery_mode)


def _need_row(ctx: LayerContext, claim_type: str, **kw) -> Benefit:
    row = _row(ctx, claim_type, **kw)
    if row is None:
        level = kw.get("level") or (ctx.claim.hospital.level if ctx.claim.hospital else 0)
        raise missing(ctx.plan, f"待遇标准（{claim_type_name(claim_type)}，{LEVEL_NAMES.get(level, level)}"
                                f"{'，' + TIER_NAMES.get(ctx.coverage.tier, '') if ctx.coverage.tier else ''}）")
    return row


def _limit(ctx: LayerContext, calc: Calc, raw: Decimal, pool: str) -> tuple[Decimal, Decimal]:
    """Limit by the pool's annual limit (tier, identity); keeps the pool for YTD."""
    if not pool:
        return raw, ZERO
    calc.keep("limit_pool", pool)
    limit = annual_limit(ctx.plan, pool, tier=ctx.coverage.tier, person=ctx.person, day=ctx.claim.date)
    if limit is None:
        raise missing(ctx.plan, f"年度支付限额（{pool_label(pool)}"
                                f"{'，' + TIER_NAMES.get(ctx.coverage.tier, '') if ctx.coverage.tier else ''}）")
    return calc.cap(raw, limit, ytd_paid(ctx, pool=pool), pool_label(pool))


# --------------------------------------------------------------------------- 住院


def _inpatient_amount(ctx: LayerContext, calc: Calc, row: Benefit) -> tuple[Decimal, Decimal, Decimal]:
    """(amount before the annual limit, deductible absorbed, ratio) of an inpatient-type
    claim under ``row``: deductible (TCM shift), ratio with adjustments, TCM split."""
    claim, hosp = ctx.claim, ctx.claim.hospital
    types = ("inpatient",) if claim.type == "inpatient" else (claim.type, "inpatient")
    adjustments = ratio_adjustments(ctx.plan, claim, ctx.person, claim_types=types)
    calc.use(benefit_ref(row), *(adjustment_ref(a) for a in adjustments))
    tcm = next((a for a in adjustments if a.code == "tcm"), None)
    ded_row = row
    shift_note = ""
    if tcm is not None and tcm.deductible_level_shift:
        lower = max(hosp.level - tcm.deductible_level_shift, 1)
        location, scope = claim_location(claim), tcm.deductible_shift_location
        if lower == hosp.level:
            pass  # level 1: no lower level
        elif location_matches(scope, location):  # e.g. 垫江: only TCM hospitals in 重庆 (我市)
            ded_row = _need_row(ctx, row.claim_type, level=lower)
            calc.use(benefit_ref(ded_row))
        else:
            shift_note = (f"（就医地{LOCATION_NAMES.get(location, location)}不在中医医疗机构起付线降档范围"
                          f"（{LOCATION_NAMES.get(scope, scope)}）内，按本级起付线）")
    deductible, ded_text = deductible_remaining(ctx, ded_row)
    if ded_row is not row:
        ded_text += f"（中医医疗机构按{LEVEL_NAMES.get(ded_row.level, ded_row.level)}起付线）"
    ded_text += shift_note
    ratio = adjusted_ratio(row.ratio, adjustments, exclude=("tcm",))
    adj = adjustment_text(adjustments, exclude=("tcm",))
    calc.say(f"{claim_type_name(row.claim_type)}{ded_text}，报销比例 {percent(ratio)}"
             f"（{benefit_label(row)} {percent(row.ratio)}{'，' + adj if adj else ''}）")
    compliant = claim.compliant
    if tcm is None or not claim.tcm_compliant:
        value, text = ratio_step(compliant, deductible, ratio)
        calc.say(text)
        return value, min(deductible, compliant), ratio
    tcm_part = min(claim.tcm_compliant, compliant)
    other = compliant - tcm_part
    d1 = min(deductible, other)
    d2 = min(deductible - d1, tcm_part)
    tcm_ratio = clamp_ratio(ratio + tcm.points)
    v1 = (other - d1) * pct(ratio)
    v2 = (tcm_part - d2) * pct(tcm_ratio)
    calc.say(f"中医药合规费用 {yuan(tcm_part)} 按 {percent(tcm_ratio)}（+{format(tcm.points.normalize(), 'f')}"
             f"个百分点），起付线先由非中医药合规费用 {yuan(other)} 承担：({yuan(other)}−{yuan(d1)})×"
             f"{percent(ratio)} + ({yuan(tcm_part)}−{yuan(d2)})×{percent(tcm_ratio)} = {yuan(v1 + v2)}")
    return v1 + v2, d1 + d2, ratio


def _inpatient(ctx: LayerContext, calc: Calc) -> LayerResult:
    _hospital(ctx)
    row = _need_row(ctx, "inpatient")
    raw, deductible, ratio = _inpatient_amount(ctx, calc, row)
    paid, capped = _limit(ctx, calc, raw, row.limit_pool)
    return calc.layer(paid, deductible=deductible, ratio=ratio, capped=capped, basis=ctx.claim.compliant)


# --------------------------------------------------------------------------- 门诊统筹


def _outpatient(ctx: LayerContext, calc: Calc) -> LayerResult:
    claim, person = ctx.claim, ctx.person
    hosp = _hospital(ctx)
    level = hosp.level
    for sub in ctx.plan.level_subs:
        if sub.claim_type != claim.type or sub.from_level != level:
            continue
        if sub.children_hospital_only and not hosp.children:
            continue
        if sub.max_age is not None and not person.age_on(claim.date) < sub.max_age:
            continue
        level = sub.to_level
        calc.use(sub.ref("LevelSubstitution", from_level=sub.from_level, to_level=sub.to_level,
                         max_age=sub.max_age, children_hospital_only=sub.children_hospital_only))
        calc.say(f"{LEVEL_NAMES.get(sub.from_level)}"
                 f"{'（儿童医院/妇幼保健院）' if sub.children_hospital_only else ''}"
                 f"{f'，未满 {sub.max_age} 周岁' if sub.max_age is not None else ''}，"
                 f"按{LEVEL_NAMES.get(sub.to_level)}结算")
        break
    row = _row(ctx, claim.type, level=level)
    if row is None:
        if not benefit_rows(ctx.plan, claim.type):
            raise missing(ctx.plan, f"待遇标准（{claim_type_name(claim.type)}）")
        return zero_layer(ctx.plan.kind, "level_not_covered",
                          f"{LEVEL_NAMES.get(level, level)}的{claim_type_name(claim.type)}"
                          f"不纳入{ctx.plan.scheme_name}门诊统筹，本层支付 0.00")
    adjustments = ratio_adjustments(ctx.plan, claim, person, level=level)
    calc.use(benefit_ref(row), *(adjustment_ref(a) for a in adjustments))
    deductible, ded_text = deductible_remaining(ctx, row)
    if row.deductible_mode == "annual":
        calc.keep("deductible_pool", claim.type)
    ratio = adjusted_ratio(row.ratio, adjustments)
    adj = adjustment_text(adjustments)
    calc.say(f"{claim_type_name(claim.type)}{ded_text}，报销比例 {percent(ratio)}"
             f"（{benefit_label(row)}{'，' + adj if adj else ''}）")
    raw, text = ratio_step(claim.compliant, deductible, ratio)
    calc.say(text)
    paid, capped = _limit(ctx, calc, raw, row.limit_pool)
    return calc.layer(paid, deductible=min(deductible, claim.compliant), ratio=ratio, capped=capped,
                      basis=claim.compliant)


# --------------------------------------------------------------------------- 生育


def _fixed_or_ratio(ctx: LayerContext, calc: Calc, row: Benefit) -> tuple[Decimal, Decimal, Decimal | None]:
    """A simple row: a fixed amount (never more than total) or (compliant − deductible) ×
    ratio. Returns (amount, deductible absorbed, ratio)."""
    claim = ctx.claim
    calc.use(benefit_ref(row))
    if row.fixed_amount is not None:
        amount = min(row.fixed_amount, claim.total)
        calc.say(f"{claim_type_name(claim.type)}（{benefit_label(row)}）定额 {yuan(row.fixed_amount)}，"
                 f"不超过医疗总费用 {yuan(claim.total)}：{yuan(amount)}")
        return amount, ZERO, None
    deductible, ded_text = deductible_remaining(ctx, row)
    if row.deductible_mode == "annual":
        calc.keep("deductible_pool", claim.type)
    value, text = ratio_step(claim.compliant, deductible, row.ratio)
    calc.say(f"{claim_type_name(claim.type)}{ded_text}，比例 {percent(row.ratio)}：{text}")
    return value, min(deductible, claim.compliant), row.ratio


def _top_up(calc: Calc, amount: Decimal, floor: Decimal | None, total: Decimal) -> Decimal:
    if floor is None or amount >= floor:
        return amount
    topped = min(floor, total)
    if topped > amount:
        calc.say(f"不足保底金额 {yuan(floor)}，补足到 {yuan(topped)}（不超过医疗总费用）")
        return topped
    return amount


def _prenatal(ctx: LayerContext, calc: Calc) -> LayerResult:
    row = _need_row(ctx, "prenatal")
    raw, deductible, ratio = _fixed_or_ratio(ctx, calc, row)
    paid, capped = _limit(ctx, calc, raw, row.limit_pool)
    return calc.layer(paid, deductible=deductible, ratio=ratio, capped=capped)


def _delivery(ctx: LayerContext, calc: Calc) -> LayerResult:
    claim = ctx.claim
    if not claim.delivery_mode:
        raise InvalidInput("字段“claim.delivery_mode”：住院分娩理赔必须填写分娩方式（vaginal 顺产 / cesarean 剖宫产）")
    row = _need_row(ctx, "delivery")
    if row.fixed_amount is not None:
        raw, deductible, ratio = _fixed_or_ratio(ctx, calc, row)
        paid, capped = _limit(ctx, calc, raw, row.limit_pool)
        return calc.layer(paid, deductible=deductible, ratio=ratio, capped=capped)
    # 剖宫产: settled as an inpatient claim (by the level-specific delivery row if the
    # plan has one, else by the inpatient row), topped up to the row's floor amount.
    _hospital(ctx)
    basis_row = row if row.level else _need_row(ctx, "inpatient")
    calc.use(benefit_ref(row))
    calc.say(f"{claim_type_name(claim.type)}（{benefit_label(row)}）按住院结算")
    raw, deductible, ratio = _inpatient_amount(ctx, calc, basis_row)
    pool = basis_row.limit_pool or row.limit_pool
    paid, capped = _limit(ctx, calc, raw, pool)
    paid = _top_up(calc, paid, row.floor_amount, claim.total)
    return calc.layer(paid, deductible=deductible, ratio=ratio, capped=capped, basis=claim.compliant)


_BY_TYPE = {
    "inpatient": _inpatient,
    "outpatient": _outpatient,
    "prenatal": _prenatal,
    "delivery": _delivery,
}


@formula("chongqing_resident", needs=("applicable", "benefits", "limits"))
def chongqing_resident(ctx: LayerContext) -> LayerResult:
    handler = _BY_TYPE.get(ctx.claim.type)
    if handler is None:
        raise missing(ctx.plan, f"{claim_type_name(ctx.claim.type)}的计算规则")
    return handler(ctx, Calc(ctx.plan.kind))


# --------------------------------------------------------------------------- 大病保险


@formula("chongqing_critical", needs=("applicable", "segments", "limits"))
def chongqing_critical(ctx: LayerContext) -> LayerResult:
    """大病保险 on the YTD compliant self-pay after the basic layer (README §4.4)."""
    claim, plan = ctx.claim, ctx.plan
    calc = Calc(plan.kind)
    own = max(claim.compliant - ctx.upstream_paid, ZERO)
    calc.keep("ytd_basis", own)
    before = ytd_extra(ctx, "ytd_basis")
    sets = segment_sets(plan, ctx.person, claim.date)
    if not sets:
        raise missing(plan, "大病保险分段（起付标准与报销比例）")
    adjustments = ratio_adjustments(plan, claim, ctx.person)
    points = sum((a.points for a in adjustments), ZERO)
    identity, segments = max(sets, key=lambda s: segment_gain(s[1], before, own, points))
    gain = segment_gain(segments, before, own, points)
    calc.use(*(segment_ref(s) for s in segments), *(adjustment_ref(a) for a in adjustments))
    calc.say(f"本次合规费用 {yuan(claim.compliant)} − 前序各层已付 {yuan(ctx.upstream_paid)} = "
             f"政策范围内自付 {yuan(own)}；本年此前累计 {yuan(before)}，累计 {yuan(before + own)}")
    steps = []
    for seg in segments:
        ratio = clamp_ratio(seg.ratio + points)
        steps.append(f"第{seg.seq}段起付标准 {yuan(seg.threshold)}，比例 {percent(ratio)}")
    who = f"（身份 {identity}）" if identity else ""
    calc.say("；".join(steps) + who)
    first = segments[0]
    if len(segments) == 1 and first.base == "cumulative":
        ratio = clamp_ratio(first.ratio + points)
        lo = max(before, first.threshold)
        hi = before + own
        if hi > first.threshold:
            calc.say(f"({yuan(hi)}−{yuan(lo)})×{percent(ratio)} = {yuan(gain)}")
        else:
            calc.say(f"累计 {yuan(hi)} 未超过起付标准 {yuan(first.threshold)}")
    else:
        calc.say(f"f({yuan(before + own)}) − f({yuan(before)}) = {yuan(gain)}")
    limit = annual_limit(plan, "scheme_total", tier=ctx.coverage.tier, person=ctx.person, day=claim.date)
    if limit is None:
        raise missing(plan, f"年度支付限额（{pool_label('scheme_total')}）")
    calc.keep("limit_pool", "scheme_total")
    paid, capped = calc.cap(gain, limit, ytd_paid(ctx, pool="scheme_total"), pool_label("scheme_total"))
    ratio = clamp_ratio(segments[0].ratio + points)
    return calc.layer(paid, ratio=ratio, capped=capped, basis=own)
