"""Settle one claim through every layer of the person's scheme stack (spec README §4).

For each scheme of the region (in settlement order) the person holds a coverage in:

1. coverage not in force on the service date (or suspended) → paid 0, ``not_covered``;
   the commercial/supplementary kinds also need the person's basic insurance in the
   region (``basic_insured_in_region``) or another ground the formula family admits
   (``insurance_rules.admission``: 三明's 新市民, 港澳台同胞), and a listed basic coverage
   in force;
2. claim type not among the plan year's ``ApplicableClaimType`` rows (respecting
   ``chronic_class`` and ``special_b_only``) → paid 0, ``not_applicable`` (§4.7);
3. the claim carries ``given[kind]`` → that result (``given=True``);
4. no plan year, formula ``given_only``, or the row says the rules are not in the seed
   → ``MissingRule`` naming the scheme, the plan year and what is missing;
5. else the scheme's formula family (``insurance_rules.registry.FORMULAS``).

Each layer is rounded once (0.01 half-up) and never pays more than is still unpaid
(``total − upstream paid``) nor a negative amount (§4.1).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from .admission import admission_ground, refusal_text
from .common import trim_items, yuan, zero_layer
from .context import LayerContext
from .errors import InvalidInput, MissingRule
from .facts import ClaimFacts, Coverage, PersonFacts
from .money import ZERO, q2
from .params import PlanParams
from .registry import FORMULAS, GIVEN_HANDLERS
from .results import LayerResult, SettledClaim
from .systems import load_systems
from .vocab import DELIVERY_MODE_NAMES, claim_type_name, scheme_kind_name

SUPPLEMENTARY_KINDS = ("employee_supplementary", "inclusive_commercial")
BASIC_KINDS = ("employee_basic", "resident_basic")


def settle_claim(*, plans: Mapping[str, PlanParams | None], person: PersonFacts,
                 coverages: Sequence[Coverage], claim: ClaimFacts,
                 history: Sequence[SettledClaim] = (), participation_rate: Decimal | None = None,
                 scheme_names: Mapping[str, str] | None = None) -> SettledClaim:
    """Settle ``claim``. ``plans``: the region's schemes in settlement order, each with
    its plan year for the claim's year or None; ``history``: the person's earlier
    claims of the same plan year, already settled, in order; ``participation_rate``:
    trial override of the official participation rate, in percent."""
    load_systems()
    by_kind = {c.scheme: c for c in coverages}
    for kind in claim.given:
        if kind not in by_kind:
            raise InvalidInput(f"字段“{claim.ref or 'claim'}.given.{kind}”：参保人未参加{scheme_kind_name(kind)}，"
                               "不能带入该层结算结果")
    disease_classes = _disease_classes(plans)
    layers: list[LayerResult] = []
    for kind, plan in plans.items():
        coverage = by_kind.get(kind)
        if coverage is None:
            continue
        name = plan.scheme_name if plan else (scheme_names or {}).get(kind, scheme_kind_name(kind))
        result = _settle_layer(kind, name, plan, person, coverage, coverages, claim,
                               tuple(layers), tuple(history), participation_rate, disease_classes)
        layers.append(result)
    return SettledClaim(claim=claim, layers=tuple(layers))


_CLASSES: dict[tuple[int, ...], tuple[tuple, dict[str, int]]] = {}
"""``_disease_classes`` of the plans last seen (the ids of the plan objects → the objects,
kept so that an id is not reused while its entry stands, and the classes): a region's
plans are the same objects for every claim while its parameters are cached, and reading
their chronic rows again cost ≈ 7 µs a claim in 长治 (≈ 100 rows)."""


def _disease_classes(plans: Mapping[str, PlanParams | None]) -> dict[str, int]:
    """Class (一类/二类/三类) of each catalogue disease, from the plans' chronic rows (read
    only: shared by every claim settled under the same plan objects)."""
    values = tuple(plans.values())
    key = tuple(map(id, values))
    found = _CLASSES.get(key)
    if found is not None and all(a is b for a, b in zip(found[0], values, strict=True)):
        return found[1]
    out: dict[str, int] = {}
    for plan in values:
        if plan is None:
            continue
        for rule in plan.chronic:
            out[rule.disease.code] = rule.disease.disease_class
    if len(_CLASSES) >= 64:  # plans replaced after a rule change: start again
        _CLASSES.clear()
    _CLASSES[key] = (values, out)
    return out


def _basic_in_force(coverages: Sequence[Coverage], claim: ClaimFacts) -> bool:
    basics = [c for c in coverages if c.scheme in BASIC_KINDS]
    return not basics or any(c.in_force_on(claim.date) for c in basics)


def _settle_layer(kind, name, plan, person, coverage, coverages, claim, upstream, history,
                  participation_rate, disease_classes) -> LayerResult:
    if not coverage.in_force_on(claim.date):
        return zero_layer(kind, "not_covered", f"就医日期 {claim.date} 不在{name}待遇享受期"
                          f"（{coverage.start}至{coverage.end}，不含中止期）内，本层不支付")
    if kind in SUPPLEMENTARY_KINDS:
        formula = plan.formula if plan is not None else ""
        if not admission_ground(formula, person):
            text = refusal_text(formula, region=plan.region_name if plan and plan.region_name else "本统筹区",
                                province=plan.province if plan else "", scheme=name)
            return zero_layer(kind, "not_covered", f"{text}，本层不支付")
        if not _basic_in_force(coverages, claim):
            return zero_layer(kind, "not_covered", f"{name}须以基本医疗保险待遇在享受期内为前提，"
                              f"就医日期 {claim.date} 参保人无有效的基本医保待遇，本层不支付")
    if plan is not None and plan.applicable:
        applicable = plan.applicable_row(claim.type, claim.delivery_mode)
        why = _not_applicable(applicable, claim, disease_classes,
                              plan.applicable_modes(claim.type) if applicable is None else ())
        if why:
            ref = applicable.ref("ApplicableClaimType", claim_type=applicable.claim_type,
                                 chronic_class=applicable.chronic_class,
                                 special_b_only=applicable.special_b_only) if applicable else None
            text = f"{name}{why}，本层不适用（支付 0.00）"
            if kind in claim.given:
                text += f"；理赔带入的本层结算结果（支付 {yuan(claim.given[kind].paid)}）不予采用"
            return zero_layer(kind, "not_applicable", text, (ref,) if ref else ())
    else:
        applicable = None
    unpaid = claim.total - sum((lr.paid for lr in upstream), ZERO)
    given = claim.given.get(kind)
    if given is not None:
        carried = _given_layer(kind, name, given, unpaid, claim.ref or "claim")
        handler = GIVEN_HANDLERS.get(plan.formula) if plan is not None else None
        if handler is None:
            return carried
        ctx = LayerContext(plan=plan, person=person, coverage=coverage, claim=claim,
                           upstream=upstream, history=history, participation_rate=participation_rate)
        return handler(ctx, given)
    year = claim.date.year
    if plan is None:
        raise MissingRule(f"{name}没有 {year} 年度方案（生效或草稿），且理赔未带入本层结算结果"
                          f"（{claim.ref or 'claim'}.given.{kind}.paid）")
    if not plan.applicable:
        raise MissingRule(f"{name} {plan.year} 年度方案缺少参数：适用就医类型")
    what = f"{claim_type_name(claim.type)}的本层结算规则"
    if plan.formula == "given_only" or not applicable.rules_in_seed:
        raise MissingRule(f"{name} {plan.year} 年度方案缺少参数：{what}未录入（种子文件缺失），"
                          f"须带入医院结算结果 {claim.ref or 'claim'}.given.{kind}.paid")
    formula = FORMULAS.get(plan.formula)
    if formula is None:
        raise MissingRule(f"{name} {plan.year} 年度方案缺少参数：计算规则族“{plan.formula}”尚无实现")
    ctx = LayerContext(plan=plan, person=person, coverage=coverage, claim=claim,
                       upstream=upstream, history=history, participation_rate=participation_rate)
    return _bounded(formula(ctx), unpaid)


def _not_applicable(applicable, claim: ClaimFacts, disease_classes: dict[str, int],
                    modes: tuple[str, ...] = ()) -> str:
    tname = claim_type_name(claim.type)
    if applicable is None:
        if modes:
            names = "、".join(DELIVERY_MODE_NAMES.get(m, m) for m in modes)
            return f"的{tname}仅限{names}（本次 {DELIVERY_MODE_NAMES.get(claim.delivery_mode or '', '未填分娩方式')}）"
        return f"不支付{tname}费用"
    if applicable.chronic_class:
        cls = disease_classes.get(claim.disease or "", 0)
        if cls != applicable.chronic_class:
            return f"的{tname}仅限{applicable.chronic_class}类病种（本病种 {claim.disease or '未填'}）"
    if applicable.special_b_only and not claim.special_b:
        return f"的{tname}仅限 B 类特殊疾病门诊"
    return ""


def _given_layer(kind, name, given, unpaid: Decimal, field: str) -> LayerResult:
    if given.paid > unpaid:
        raise InvalidInput(f"字段“{field}.given.{kind}.paid”：带入的{name}支付金额 {yuan(given.paid)} "
                           f"超过前序各层支付后的剩余费用 {yuan(unpaid)}")
    extra = (("deductible", str(given.deductible)), ("over_cap", str(given.over_cap)))
    text = f"{name}的结算结果由医院结算系统带入：支付 {yuan(given.paid)}"
    if given.deductible or given.over_cap:
        text += f"（起付线 {yuan(given.deductible)}，超封顶线合规费用 {yuan(given.over_cap)}）"
    return LayerResult(scheme=kind, paid=q2(given.paid), deductible=given.deductible,
                       explanation=text, given=True, extra=extra)


def _bounded(result: LayerResult, unpaid: Decimal) -> LayerResult:
    """Round once and keep ``0 ≤ paid ≤ unpaid``; items are trimmed from the last."""
    paid = q2(result.paid)
    limit = max(q2(unpaid), ZERO)
    if ZERO <= paid <= limit:
        return result if paid == result.paid else replace(result, paid=paid)
    target = min(max(paid, ZERO), limit)
    items = trim_items(result.items, paid - target, "以剩余未支付费用为限")
    note = f"；本层支付以剩余未支付费用 {yuan(limit)} 为限，调整为 {yuan(target)}"
    return replace(result, paid=target, items=items, explanation=result.explanation + note)
