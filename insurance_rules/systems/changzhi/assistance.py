"""长治 城乡医疗救助: ``changzhi_assistance`` (changzhi.md 城乡医疗救助; README §4.4).

Runs after basic, critical illness and any commercial layer. For the claim's kind
(inpatient → 住院救助, chronic outpatient → 门诊慢性病救助, special drug → 门诊特药救助):

- basis = compliant − Σ paid by the upstream layers of this claim;
- each AssistanceRule row of that kind whose identity the person holds on the service
  date gives a candidate: ratio × (f(B_before + basis) − f(B_before)) where f(B) =
  max(0, B − threshold) on the YTD basis B of the same kind (threshold 0 = plain ratio);
  plus, where the row says so, the top-up of an in-province admission to ``top_up_ratio``
  of compliant (TOPUP) and ``ooc_controlled_ratio`` × out_of_catalog_controlled (OOC);
  limited by the row's annual limit minus the YTD assistance of that kind;
- 倾斜救助 (kind ``tilt``) for any category holder on a filed, in-province claim:
  ratio × the part of the YTD policy-scope personal burden above the threshold, where the
  burden of a claim = compliant − Σ paid on compliant by every layer including the
  category assistance (out-of-catalogue OOC assistance is not policy scope), computed
  before tilt; annual limit on the YTD tilt;
- several categories → the candidate with the largest total (就高).
Items INPATIENT/CHRONIC/SPECIAL_DRUG, TOPUP, OOC, TILT explain the parts; the layer's
paid is their total, rounded once (items are rounded so that they add up to it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ...common import claim_location, layers_before, location_matches, percent, yuan
from ...context import LayerContext
from ...money import ZERO, pct, q2
from ...params import AssistanceRow
from ...registry import formula
from ...results import ItemResult, LayerResult, ParamRef, SettledClaim
from ...vocab import claim_type_name
from ._rows import identity_name, location_name, nothing

KIND_OF_CLAIM = {
    "inpatient": "inpatient",
    "chronic_outpatient": "chronic_outpatient",
    "special_drug": "special_drug",
}
"""Claim type → AssistanceRule kind (住院救助 / 门诊慢性病救助 / 门诊特药救助)."""

MAIN_ITEM = {"inpatient": "INPATIENT", "chronic_outpatient": "CHRONIC", "special_drug": "SPECIAL_DRUG"}
LIMIT_GROUP = {
    "inpatient": ("INPATIENT", "TOPUP", "OOC"),
    "chronic_outpatient": ("CHRONIC",),
    "special_drug": ("SPECIAL_DRUG",),
}
"""Items counted against a category row's annual limit, by kind."""

KIND_NAMES = {"inpatient": "住院救助", "chronic_outpatient": "门诊慢性病救助",
              "special_drug": "门诊特药救助", "tilt": "倾斜救助"}
TILT = "tilt"  # AssistanceRule kind
TILT_ITEM = "TILT"


@dataclass
class Part:
    code: str
    amount: Decimal  # exact
    text: str
    ratio: Decimal | None = None
    basis: Decimal | None = None
    capped: Decimal = ZERO


@dataclass
class Candidate:
    identity: str | None
    row: AssistanceRow | None
    parts: list[Part] = field(default_factory=list)
    refs: tuple[ParamRef, ...] = ()
    reason: str = ""

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.parts), ZERO)

    @property
    def on_compliant(self) -> Decimal:
        """Paid on policy-scope (compliant) cost: everything but OOC."""
        return sum((p.amount for p in self.parts if p.code != "OOC"), ZERO)


def row_ref(row: AssistanceRow) -> ParamRef:
    values = {"identity": row.identity or "", "kind": row.kind, "threshold": row.threshold,
              "ratio": row.ratio, "annual_limit": "不设限额" if row.annual_limit is None
              else row.annual_limit}
    if row.top_up_ratio is not None:
        values.update(top_up_ratio=row.top_up_ratio, top_up_location=row.top_up_location)
    if row.ooc_controlled_ratio is not None:
        values["ooc_controlled_ratio"] = row.ooc_controlled_ratio
    if row.requires_filed or row.location:
        values.update(requires_filed=row.requires_filed, location=row.location)
    return row.ref("AssistanceRule", **values)


def row_applies(row: AssistanceRow, claim) -> bool:
    return (claim.filed or not row.requires_filed) and location_matches(row.location,
                                                                        claim_location(claim))


def category_identities(ctx: LayerContext) -> frozenset[str]:
    return frozenset(r.identity for r in ctx.plan.assistance if r.identity and r.kind != TILT)


def items_of(layer: LayerResult | None, claim_kind: str | None, codes: tuple[str, ...]) -> Decimal:
    """Σ items with ``codes`` of an earlier assistance layer (a layer without items, e.g.
    a given one, counts wholly under its claim's main item)."""
    if layer is None:
        return ZERO
    if not layer.items:
        return layer.paid if claim_kind and MAIN_ITEM[claim_kind] in codes else ZERO
    return sum((i.paid for i in layer.items if i.code in codes), ZERO)


def ytd_items(ctx: LayerContext, codes: tuple[str, ...]) -> Decimal:
    return sum((items_of(sc.layer(ctx.plan.kind), KIND_OF_CLAIM.get(sc.claim.type), codes)
                for sc in ctx.history), ZERO)


def threshold_text(ctx: LayerContext, threshold: Decimal) -> tuple[str, tuple[ParamRef, ...]]:
    figure = ctx.plan.figure("province_income")
    if figure is None or not figure.value or not threshold:
        return "", ()
    share = threshold * 100 / figure.value
    return (f"（上年全省居民人均可支配收入 {yuan(figure.value)} 的 {percent(share.quantize(Decimal('0.01')))}）",
            (figure.ref("PlanFigure", code=figure.code, value=figure.value),))


def assistance_basis(settled: SettledClaim, kind: str) -> Decimal:
    """An earlier claim's assistance basis: compliant − Σ paid by its upstream layers."""
    upstream = sum((lr.paid for lr in layers_before(settled, kind)), ZERO)
    return max(ZERO, settled.claim.compliant - upstream)


def cumulative_gain(before: Decimal, this: Decimal, threshold: Decimal, ratio: Decimal) -> Decimal:
    """ratio × (f(before + this) − f(before)), f(B) = max(0, B − threshold) (README §4.4)."""
    return (max(ZERO, before + this - threshold) - max(ZERO, before - threshold)) * pct(ratio)


def category(ctx: LayerContext, row: AssistanceRow, basis: Decimal) -> Candidate:
    """One category's assistance on this claim (main part, top-up, OOC, annual limit)."""
    claim = ctx.claim
    kind = row.kind
    refs = (row_ref(row),)
    texts = []
    b_before = sum((assistance_basis(sc, ctx.plan.kind) for sc in ctx.history
                    if KIND_OF_CLAIM.get(sc.claim.type) == kind), ZERO)
    main = cumulative_gain(b_before, basis, row.threshold, row.ratio)
    if row.threshold:
        extra, figure_refs = threshold_text(ctx, row.threshold)
        refs += figure_refs
        text = (f"{identity_name(row.identity)}{KIND_NAMES[kind]}：年度累计救助基数由 {yuan(b_before)} "
                f"增至 {yuan(b_before + basis)}，起付标准 {yuan(row.threshold)}{extra}，超出部分"
                f"×{percent(row.ratio)} = {yuan(main)}")
    else:
        text = (f"{identity_name(row.identity)}{KIND_NAMES[kind]}：救助基数 {yuan(basis)}"
                f"×{percent(row.ratio)} = {yuan(main)}")
    parts = [Part(MAIN_ITEM[kind], main, text, row.ratio, basis)]
    location = claim_location(claim)
    if row.top_up_ratio is not None:
        if location_matches(row.top_up_location, location):
            target = claim.compliant * pct(row.top_up_ratio)
            so_far = ctx.upstream_paid + main
            top_up = max(ZERO, target - so_far)
            parts.append(Part("TOPUP", top_up,
                              f"{location_name(location)}住院综合支付 {yuan(so_far)}，低于合规费用 "
                              f"{yuan(claim.compliant)}×{percent(row.top_up_ratio)} = {yuan(target)} "
                              f"的部分补足 {yuan(top_up)}" if top_up else
                              f"综合支付 {yuan(so_far)} 已达合规费用的 {percent(row.top_up_ratio)}，"
                              f"无需补足", row.top_up_ratio, claim.compliant))
        else:
            texts.append(f"{location_name(location)}就医不适用综合支付比例补足")
    if row.ooc_controlled_ratio is not None and claim.out_of_catalog_controlled:
        if location_matches(row.top_up_location, location):
            controlled = min(claim.out_of_catalog_controlled, claim.out_of_catalog)
            ooc = controlled * pct(row.ooc_controlled_ratio)
            parts.append(Part("OOC", ooc,
                              f"控费比例范围内的目录外费用 {yuan(controlled)}×"
                              f"{percent(row.ooc_controlled_ratio)} = {yuan(ooc)}",
                              row.ooc_controlled_ratio, controlled))
        else:
            texts.append(f"{location_name(location)}就医不适用目录外控费范围内费用救助")
    reason = ""
    if row.annual_limit is not None:
        used = ytd_items(ctx, LIMIT_GROUP[kind])
        remaining = max(ZERO, row.annual_limit - used)
        texts.append(f"年度救助限额 {yuan(row.annual_limit)}，本年已救助 {yuan(used)}，剩余 "
                     f"{yuan(remaining)}")
        for part in parts:
            cut = max(ZERO, part.amount - remaining)
            part.capped, part.amount = cut, part.amount - cut
            remaining -= part.amount
        if any(p.capped for p in parts):
            reason = "limit_reached"
    if not reason and row.threshold and main == ZERO:
        reason = "below_threshold"
    parts[-1].text = "；".join([parts[-1].text] + texts)
    return Candidate(row.identity, row, parts, refs, reason)


def tilt_row_for(ctx: LayerContext, held: frozenset[str], holder: frozenset[str]) -> list[AssistanceRow]:
    return [r for r in ctx.plan.assistance if r.kind == TILT
            and ((r.identity is None and holder) or (r.identity is not None and r.identity in held))]


def tilt_eligible(ctx: LayerContext, row: AssistanceRow, sc_claim) -> bool:
    """An (earlier or this) claim whose burden counts for 倾斜救助."""
    if KIND_OF_CLAIM.get(sc_claim.type) is None or not row_applies(row, sc_claim):
        return False
    held = ctx.person.identity_codes_on(sc_claim.date)
    return row.identity in held if row.identity else bool(held & category_identities(ctx))


def burden_before_tilt(ctx: LayerContext, sc: SettledClaim) -> Decimal:
    """Policy-scope personal burden of an earlier claim after every layer, before its tilt
    (compliant − Σ paid + its OOC and TILT assistance, which are not paid on it)."""
    layer = sc.layer(ctx.plan.kind)
    not_on_compliant = items_of(layer, None, ("OOC", TILT_ITEM)) if layer is not None and layer.items else ZERO
    return max(ZERO, sc.claim.compliant - sc.fund_total + not_on_compliant)


def tilt(ctx: LayerContext, row: AssistanceRow, burden: Decimal) -> tuple[Part, tuple[ParamRef, ...]]:
    claim = ctx.claim
    refs = (row_ref(row),)
    name = KIND_NAMES[TILT]
    if not row_applies(row, claim):
        why = "未规范转诊/备案" if row.requires_filed and not claim.filed else \
            f"{location_name(claim_location(claim))}就医"
        return Part(TILT_ITEM, ZERO, f"{name}：{why}，不适用"), refs
    p_before = sum((burden_before_tilt(ctx, sc) for sc in ctx.history
                    if tilt_eligible(ctx, row, sc.claim)), ZERO)
    gain = cumulative_gain(p_before, burden, row.threshold, row.ratio)
    extra, figure_refs = threshold_text(ctx, row.threshold)
    parts = [f"{name}：本次政策范围内个人负担 {yuan(burden)}，年度累计由 {yuan(p_before)} 增至 "
             f"{yuan(p_before + burden)}，超过 {yuan(row.threshold)}{extra}的部分×"
             f"{percent(row.ratio)} = {yuan(gain)}"]
    amount, capped = min(gain, burden), ZERO
    if row.annual_limit is not None:
        used = ytd_items(ctx, (TILT_ITEM,))
        remaining = max(ZERO, row.annual_limit - used)
        parts.append(f"倾斜救助年度限额 {yuan(row.annual_limit)}，本年已救助 {yuan(used)}，剩余 "
                     f"{yuan(remaining)}")
        if amount > remaining:
            capped, amount = amount - remaining, remaining
    return Part(TILT_ITEM, amount, "；".join(parts), row.ratio, burden, capped), refs + figure_refs


def with_tilt(ctx: LayerContext, cand: Candidate, basis: Decimal, tilt_rows) -> Candidate:
    burden = max(ZERO, basis - cand.on_compliant)
    best: tuple[Part, tuple[ParamRef, ...]] | None = None
    for row in tilt_rows:
        result = tilt(ctx, row, burden)
        if best is None or result[0].amount > best[0].amount:
            best = result
    if best is None:
        return cand
    return Candidate(cand.identity, cand.row, cand.parts + [best[0]], cand.refs + best[1], cand.reason)


def rounded_items(parts: list[Part]) -> tuple[ItemResult, ...]:
    """Items rounded on their running total, so that they add up to the layer's paid
    (rounded once, README §4.1)."""
    items, running, shown = [], ZERO, ZERO
    for part in parts:
        running += part.amount
        paid = q2(running) - shown
        shown += paid
        items.append(ItemResult(code=part.code, paid=paid, ratio=part.ratio,
                                basis=None if part.basis is None else q2(part.basis),
                                capped=q2(part.capped), explanation=part.text))
    return tuple(items)


@formula("changzhi_assistance", needs=("applicable", "assistance"))
def changzhi_assistance(ctx: LayerContext) -> LayerResult:
    plan, claim = ctx.plan, ctx.claim
    kind = KIND_OF_CLAIM.get(claim.type)
    if kind is None:
        return nothing(plan, "not_applicable",
                       f"城乡医疗救助不适用于{claim_type_name(claim.type)}，本层不支付")
    held = ctx.person.identity_codes_on(claim.date)
    holder = held & category_identities(ctx)
    if not holder:
        return nothing(plan, "no_assistance_identity",
                       f"参保人在 {claim.date} 不持有医疗救助对象身份，本层不支付")
    basis = max(ZERO, claim.compliant - ctx.upstream_paid)
    head = (f"医疗救助：合规费用 {yuan(claim.compliant)} − 前序各层已付 {yuan(ctx.upstream_paid)} "
            f"= 救助基数 {yuan(basis)}")
    rows = [r for r in plan.assistance if r.kind == kind and r.identity in holder
            and row_applies(r, claim)]
    candidates = [category(ctx, r, basis) for r in rows]
    if not candidates:
        names = "、".join(identity_name(i) for i in sorted(holder))
        candidates = [Candidate(None, None, [], (), "category_not_covered")]
        head += f"；{names}无{KIND_NAMES[kind]}待遇"
    tilt_rows = tilt_row_for(ctx, held, holder)
    candidates = [with_tilt(ctx, c, basis, tilt_rows) for c in candidates]
    best = max(candidates, key=lambda c: c.total)
    total = best.total
    unpaid = max(ZERO, claim.total - ctx.upstream_paid)
    if total > unpaid:  # never reached with ratios ≤ 100 %; kept as the README §4.1 guard
        for part in reversed(best.parts):
            cut = min(part.amount, total - unpaid)
            part.amount -= cut
            total -= cut
    paid = q2(total)
    items = rounded_items(best.parts)
    texts = [head]
    if len(candidates) > 1:
        texts.append("多重身份按就高原则取" + identity_name(best.identity) + "：" + "，".join(
            f"{identity_name(c.identity)} {yuan(c.total)}" for c in candidates))
    texts += [p.text for p in best.parts]
    texts.append(f"本层支付 {yuan(paid)}")
    reason = ""
    if paid == ZERO:
        reason = best.reason or ("limit_reached" if any(p.capped for p in best.parts) else "")
    return LayerResult(
        scheme=plan.kind, paid=paid, ratio=best.row.ratio if best.row else None,
        capped=q2(sum((p.capped for p in best.parts), ZERO)), basis=q2(basis), reason=reason,
        explanation="；".join(texts), refs=best.refs, items=items,
    )
