"""Responsibilities (保险责任) of the commercial / supplementary schemes (spec sanming.md,
liaocheng.md, leshan.md): each ``Responsibility`` row has its own claim selectors,
basis, annual deductible, ratios and annual sum insured; the layer pays the sum of its
items (``LayerResult.items``, codes from the rows: R1…R4, R4A/R4B, …).

Matching of a row to a claim: claim type, drug list and B-class flag, then the
location, then the hospital (minimum level, public only, minimum administrative
level; a claim that fails only the hospital test gets ``hospital_not_designated``).
A row with a minimum level or public-only needs the claim's hospital (else
``invalid_input``); a row with only a minimum administrative level (聊惠保 责任三's
prescribing institution) is not met by a claim without one. The location of a row that
designates its institutions is part of the designation when no other row covers the
claim there (三明 责任四 only at 三明's hospitals); a formula family may add its own
hospital test (三明 责任一: 按C-DRG收付费).

Health status (三明): the person is ``pre_existing`` when one of their 特定既往症 groups
is among the plan year's ``PreExistingCondition`` rows (a plan without such rows does
not distinguish). A pre-existing person gets the ratio of an assistance identity held
on the service date (``ResponsibilityIdentityRatio``, 就高), else the row's
pre-existing ratio, else — for ratios by drug class — the class ratio; no ratio (or
``pre_existing_covered`` false) means not covered (``pre_existing_not_covered``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from .common import (
    Calc,
    admin_level_at_least,
    annual_limit,
    claim_location,
    location_matches,
    missing,
    percent,
    pool_label,
    trim_items,
    upstream_extra,
    ytd_item,
    ytd_paid,
    yuan,
)
from .context import LayerContext
from .errors import InvalidInput
from .money import ZERO, pct, q2
from .params import PlanParams, ResponsibilityRule
from .results import ItemResult, LayerResult, ParamRef
from .vocab import (
    ADMIN_LEVEL_NAMES,
    DRUG_CLASS_NAMES,
    LEVEL_NAMES,
    LOCATION_NAMES,
    REASON_NAMES,
    claim_type_name,
)


def responsibility_ref(row: ResponsibilityRule) -> ParamRef:
    return row.ref("Responsibility", code=row.code, basis=row.basis, deductible=row.deductible,
                   ratio_healthy=row.ratio_healthy, ratio_pre_existing=row.ratio_pre_existing,
                   sum_insured=row.sum_insured, sum_insured_pre_existing=row.sum_insured_pre_existing)


def pre_existing_groups(plan: PlanParams, person) -> tuple[str, ...]:
    """The person's 特定既往症 groups that the plan year lists."""
    listed = {p.group for p in plan.pre_existing}
    return tuple(g for g in person.pre_existing if g in listed)


def designates_hospital(row: ResponsibilityRule) -> bool:
    """The row names the institutions it pays at (minimum level, public only, minimum
    administrative level)."""
    return bool(row.min_level or row.public_only or row.min_admin_level)


def _covered_elsewhere(row: ResponsibilityRule, ctx: LayerContext, loc: str, claim_type: str) -> bool:
    """Another row of the plan covers the same kind of claim at ``loc`` (三明 责任一/责任二,
    乐山 本地/异地: the location only chooses between them)."""
    return any(other is not row and other.claim_type == claim_type and other.drug_list == row.drug_list
               and other.special_b_only == row.special_b_only and location_matches(other.location, loc)
               for other in ctx.plan.responsibilities)


Designation = Callable[[ResponsibilityRule, LayerContext], tuple[str, str]]


def mismatch(row: ResponsibilityRule, ctx: LayerContext, location: str | None = None,
             as_type: str | None = None, designated: Designation | None = None) -> tuple[str, str]:
    """("", "") when the row covers the claim, else (reason code, Chinese reason).
    ``location`` / ``as_type`` override the claim's location and type; ``designated``:
    the formula family's own test of the hospital (e.g. 三明 责任一's C-DRG), run after
    the row's.

    A row that designates its institutions treats the location as part of that
    designation when no other row of the plan covers the claim there (三明 责任四: only
    三明's level-2/3 public hospitals): a claim elsewhere gets ``hospital_not_designated``,
    not ``not_applicable``."""
    claim = ctx.claim
    claim_type = as_type or claim.type
    if row.claim_type != claim_type:
        return "not_applicable", f"仅限{claim_type_name(row.claim_type)}"
    if row.drug_list and claim.drug_list != row.drug_list:
        return "not_applicable", f"仅限药品目录“{row.drug_list}”"
    if row.special_b_only and not claim.special_b:
        return "not_applicable", "仅限 B 类特殊疾病"
    hosp = claim.hospital
    if (row.min_level or row.public_only) and hosp is None:
        raise InvalidInput(f"字段“claim.hospital”：判断{row.name}须填写医疗机构信息")
    loc = location or claim_location(claim)
    if row.location and not location_matches(row.location, loc):
        where = f"仅限{LOCATION_NAMES.get(row.location, row.location)}"
        if designates_hospital(row) and not _covered_elsewhere(row, ctx, loc, claim_type):
            return "hospital_not_designated", f"{where}的指定医疗机构"
        return "not_applicable", f"{where}就医"
    if row.min_level and hosp.level < row.min_level:
        return "hospital_not_designated", f"仅限{LEVEL_NAMES.get(row.min_level)}及以上医疗机构"
    if row.public_only and not hosp.public:
        return "hospital_not_designated", "仅限公立医疗机构"
    if not admin_level_at_least(hosp, row.min_admin_level):  # no hospital given: not shown to be one
        unknown = "（未填写处方医疗机构）" if hosp is None else ""
        return ("hospital_not_designated",
                f"仅限{ADMIN_LEVEL_NAMES.get(row.min_admin_level)}及以上医疗机构{unknown}")
    if designated is not None:
        return designated(row, ctx)
    return "", ""


def basis_of(row: ResponsibilityRule, ctx: LayerContext) -> tuple[Decimal, str]:
    """The amount the row's ratio applies to, before its deductible, with the arithmetic."""
    claim, up = ctx.claim, ctx.upstream_paid
    if row.basis == "total_after_upstream":
        value = claim.total - up
        text = f"总费用 {yuan(claim.total)} − 前序各层已付 {yuan(up)}"
    elif row.basis == "compliant_after_upstream":
        value = claim.compliant - up
        text = f"合规费用 {yuan(claim.compliant)} − 前序各层已付 {yuan(up)}"
    elif row.basis == "out_of_scope":
        value = claim.class_b_copay + claim.out_of_catalog
        text = f"乙类先行自付 {yuan(claim.class_b_copay)} + 全自费 {yuan(claim.out_of_catalog)}"
    elif row.basis == "band":
        deductible = sum((lr.deductible for lr in ctx.upstream), ZERO)
        over = upstream_extra(ctx.upstream, "over_cap")
        value = claim.compliant - deductible - over - up
        text = (f"合规费用 {yuan(claim.compliant)} − 起付线 {yuan(deductible)} − 超封顶 {yuan(over)}"
                f" − 基本医保已付 {yuan(up)}")
    elif row.basis == "over_cap":
        value = upstream_extra(ctx.upstream, "over_cap")
        text = "超基本医保封顶线的合规费用"
    else:  # pragma: no cover - the model's choices are exhaustive
        raise InvalidInput(f"未知的计算基数：{row.basis}")
    value = max(value, ZERO)
    return value, f"{text} = {yuan(value)}"


def ratio_of(row: ResponsibilityRule, ctx: LayerContext, pre_existing: bool) -> tuple[Decimal | None, str]:
    """The row's ratio for the person (None = not covered) and where it comes from."""
    if pre_existing:
        if not row.pre_existing_covered:
            return None, ""
        held = ctx.person.identity_codes_on(ctx.claim.date)
        own = [r for r in row.identity_ratios if r.identity in held]
        if own:
            best = max(own, key=lambda r: r.ratio_pre_existing)
            return best.ratio_pre_existing, f"特定既往症人群，救助对象（{best.identity}）比例"
        if row.ratio_pre_existing is not None:
            return row.ratio_pre_existing, "特定既往症人群比例"
        if not row.drug_ratios:
            return None, ""
    if row.drug_ratios and (row.ratio_healthy is None or pre_existing):
        cls = ctx.claim.drug_class
        if not cls:
            raise InvalidInput(f"字段“claim.drug_class”：{row.name}按药品类别赔付，须填写药品类别（A/B/C）")
        for dr in row.drug_ratios:
            if dr.drug_class == cls:
                return dr.ratio, f"{DRUG_CLASS_NAMES.get(cls, cls)}药品比例"
        return None, ""
    if row.ratio_healthy is None:
        return None, ""
    return row.ratio_healthy, "健康人群比例" if ctx.plan.pre_existing else "比例"


def settle_item(ctx: LayerContext, row: ResponsibilityRule, *, pre_existing: bool,
                ratio: Decimal | None = None, ratio_text: str = "",
                location: str | None = None, as_type: str | None = None,
                designated: Designation | None = None) -> ItemResult:
    """One responsibility for one claim: basis − what is left of the annual deductible,
    × ratio, limited by what is left of the annual sum insured. ``ratio`` overrides
    the row's ratio (乐山 incentives and adjustments)."""
    label = row.name  # the code is internal (R1, BAND_LOCAL); a reader sees the name
    reason, why = mismatch(row, ctx, location, as_type, designated)
    if reason:
        return ItemResult(code=row.code, paid=ZERO, reason=reason, explanation=f"{label}：{why}，不赔付")
    if ratio is None:
        ratio, ratio_text = ratio_of(row, ctx, pre_existing)
    if ratio is None:
        return ItemResult(code=row.code, paid=ZERO, reason="pre_existing_not_covered",
                          explanation=f"{label}：{REASON_NAMES['pre_existing_not_covered']}，不赔付")
    basis, basis_text = basis_of(row, ctx)
    paid_before, ded_before = ytd_item(ctx, row.code)
    ded_left = max(row.deductible - ded_before, ZERO)
    absorbed = min(ded_left, basis)
    value = (basis - absorbed) * pct(ratio)
    parts = [f"{label}：基数 {basis_text}"]
    if row.deductible:
        parts.append(f"年免赔额 {yuan(row.deductible)}（本年已抵扣 {yuan(ded_before)}，本次抵扣 {yuan(absorbed)}）")
    parts.append(f"{ratio_text} {percent(ratio)}：({yuan(basis)}−{yuan(absorbed)})×{percent(ratio)} = {yuan(value)}"
                 if absorbed else f"{ratio_text} {percent(ratio)}：{yuan(basis)}×{percent(ratio)} = {yuan(value)}")
    limit = row.sum_insured_pre_existing if pre_existing and row.sum_insured_pre_existing is not None \
        else row.sum_insured
    capped = ZERO
    if limit is not None:
        left = max(limit - paid_before, ZERO)
        if value > left:
            capped = value - left
            value = left
            parts.append(f"年度保险金额 {yuan(limit)}（本年已赔 {yuan(paid_before)}），超出 {yuan(capped)} 不赔")
    paid = q2(value)
    parts.append(f"赔付 {yuan(paid)}")
    return ItemResult(code=row.code, paid=paid, deductible=absorbed, ratio=ratio, basis=basis,
                      capped=q2(capped), explanation="，".join(parts))


def limit_items(ctx: LayerContext, calc: Calc, items: list[ItemResult]) -> list[ItemResult]:
    """Apply the scheme's overall annual limit (pool ``scheme_total``) to the items'
    sum, trimming from the last item."""
    limit = annual_limit(ctx.plan, "scheme_total", tier=ctx.coverage.tier, person=ctx.person,
                         day=ctx.claim.date)
    if limit is None:
        return items
    calc.keep("limit_pool", "scheme_total")
    raw = sum((i.paid for i in items), ZERO)
    allowed, capped = calc.cap(raw, limit, ytd_paid(ctx, pool="scheme_total"), pool_label("scheme_total"))
    return list(trim_items(items, raw - q2(allowed), "受年度累计赔付限额"))


def settle_items(ctx: LayerContext, calc: Calc, *,
                 designated: Designation | None = None) -> list[ItemResult]:
    """Every responsibility row of the plan for the claim (in the rows' order), with the
    health status stated, limited by the scheme's overall annual limit if it has one.
    ``designated``: the formula family's own hospital test (``mismatch``)."""
    plan = ctx.plan
    if not plan.responsibilities:
        raise missing(plan, "保险责任（Responsibility）")
    groups = pre_existing_groups(plan, ctx.person)
    if plan.pre_existing:
        calc.say(f"健康状况：特定既往症人群（{'、'.join(groups)}）" if groups else "健康状况：健康人群")
    items = []
    for row in sorted(plan.responsibilities, key=lambda r: (r.seq, r.code)):
        item = settle_item(ctx, row, pre_existing=bool(groups), designated=designated)
        if item.reason != "not_applicable":
            calc.use(responsibility_ref(row))
            calc.say(item.explanation)
        items.append(item)
    return limit_items(ctx, calc, items)


def items_layer(calc: Calc, items: Iterable[ItemResult], refs: Iterable[ParamRef] = ()) -> LayerResult:
    """The layer of a responsibility scheme: paid = Σ items; reason when nothing is paid
    because of the hospital or the health status. (The items' explanations were said
    as they were settled; the ones that do not apply are only in the items.)"""
    items = tuple(items)
    calc.use(*refs)
    paid = sum((i.paid for i in items), ZERO)
    reason = ""
    if not paid:
        reasons = {i.reason for i in items}
        for candidate in ("hospital_not_designated", "pre_existing_not_covered"):
            if candidate in reasons:
                reason = candidate
                break
    return calc.layer(paid, capped=sum((i.capped for i in items), ZERO), reason=reason, items=items)
