"""Calculation helpers shared by every formula family (spec README §4).

- benefit-row matching (``BenefitRule``: all non-"any" selectors must match the claim;
  highest priority wins, then the row with most selectors set);
- ratio adjustments in percentage points (README §4.5: they add up, the ratio is
  clamped to 0–100 %, each row only for the claim types it names);
- annual limits by pool / tier / identity (就高: the most favourable of the rows of the
  identities the person holds on the service date; ``None`` amount = no limit);
- cumulative segments: a claim's gain ``f(S_before + s) − f(S_before)`` (README §4.4);
- year-to-date sums over ``ctx.history``;
- ``Calc``: collects the Chinese explanation (showing the arithmetic) and the
  parameter rows used, and builds the ``LayerResult`` (README §4.8).

Bookkeeping kept on each ``LayerResult.extra`` so that later claims can compute their
year-to-date figures: ``limit_pool`` (the annual-limit pool the paid amount counts
in), ``deductible_pool`` (the annual deductible the claim absorbed, by claim type),
``ytd_basis`` (the claim's contribution to a cumulative basis such as 大病 S),
``over_cap`` (given/basic over-cap amount).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .context import LayerContext
from .errors import MissingRule
from .facts import ClaimFacts, Hospital, PersonFacts
from .frozen import cache_of
from .money import CENT, ZERO, clamp_ratio, pct, q2
from .params import Adjustment, Benefit, Limit, PlanParams, Segment
from .results import ItemResult, LayerResult, ParamRef, SettledClaim
from .vocab import (
    ADJUSTMENT_NAMES,
    ADMIN_LEVEL_NAMES,
    DELIVERY_MODE_NAMES,
    LEVEL_NAMES,
    LOCATION_NAMES,
    POOL_NAMES,
    TIER_NAMES,
    claim_type_name,
)

ADMIN_LEVEL_ORDER = {"township": 1, "county": 2, "city": 3, "province": 4}

# --------------------------------------------------------------------------- formatting


def yuan(value: Decimal) -> str:
    """An amount as shown in explanations: two decimals (``str(q2(value))``, inlined: a
    dozen per settled claim)."""
    return str(value.quantize(CENT, ROUND_HALF_UP))


def percent(ratio: Decimal) -> str:
    """55.00 -> "55%", 62.50 -> "62.5%"."""
    text = format(ratio.normalize(), "f")
    return f"{text}%"


def ratio_step(basis: Decimal, deductible: Decimal, ratio: Decimal) -> tuple[Decimal, str]:
    """``(basis − deductible) × ratio`` (never below 0) and its arithmetic as text."""
    base = max(basis - deductible, ZERO)
    value = base * pct(ratio)
    if deductible:
        text = f"({yuan(basis)}−{yuan(deductible)})×{percent(ratio)} = {yuan(value)}"
    else:
        text = f"{yuan(basis)}×{percent(ratio)} = {yuan(value)}"
    return value, text


def plan_label(plan: PlanParams) -> str:
    return f"{plan.scheme_name} {plan.year} 年度方案"


def missing(plan: PlanParams, what: str) -> MissingRule:
    """``missing_rule`` naming the scheme, the plan year and the missing parameter."""
    return MissingRule(f"{plan_label(plan)}缺少参数：{what}")


# --------------------------------------------------------------------------- selectors


def claim_location(claim: ClaimFacts) -> str:
    return claim.hospital.location if claim.hospital is not None else "in_region"


def location_matches(scope: str, location: str) -> bool:
    """A row's location scope (blank = anywhere) against a hospital's location."""
    if not scope:
        return True
    if scope == "not_in_region":
        return location in ("in_province", "out_of_province")
    if scope == "within_province":
        return location in ("in_region", "in_province")
    return scope == location


def admin_level_at_least(hospital: Hospital | None, minimum: str) -> bool:
    if not minimum:
        return True
    if hospital is None:
        return False
    return ADMIN_LEVEL_ORDER.get(hospital.admin_level, 0) >= ADMIN_LEVEL_ORDER.get(minimum, 0)


def fee_class_of(plan: PlanParams, hospital: Hospital | None, level: int | None = None) -> int:
    """收费类别 of a hospital from the plan's ``HospitalFeeClass`` rows (0 = none)."""
    if hospital is None:
        return 0
    lvl = hospital.level if level is None else level
    for row in plan.fee_classes:
        if row.level == lvl and row.grade == hospital.grade:
            return row.fee_class
    return 0


def _selectors_set(row: Benefit) -> int:
    return sum(bool(v) for v in (row.delivery_mode, row.level, row.fee_class, row.admin_level,
                                 row.location, row.tier))


def benefit_rows(plan: PlanParams, claim_type: str) -> tuple[Benefit, ...]:
    """The plan's ``BenefitRule`` rows of a claim type, in the plan's order: found once per
    plan and claim type (kept on the plan, as ``params.Row.ref`` keeps its references:
    the plan's rows never change while it is cached), not at every settled claim."""
    found = cache_of(plan, "_benefit_rows")
    rows = found.get(claim_type)
    if rows is None:
        rows = found[claim_type] = tuple(b for b in plan.benefits if b.claim_type == claim_type)
    return rows


def match_benefit(plan: PlanParams, *, claim_type: str, tier: int, hospital: Hospital | None,
                  delivery_mode: str | None = None, level: int | None = None,
                  location: str | None = None) -> Benefit | None:
    """The benefit row for a claim: every non-"any" selector must match; the highest
    priority wins, then the row with the most selectors set. ``level`` overrides the
    hospital's level (level substitution, TCM deductible shift)."""
    lvl = level if level is not None else (hospital.level if hospital is not None else 0)
    loc = location if location is not None else (hospital.location if hospital else "in_region")
    fee = fee_class_of(plan, hospital, lvl)
    best = None
    for b in benefit_rows(plan, claim_type):
        if b.delivery_mode and b.delivery_mode != (delivery_mode or ""):
            continue
        if b.level and b.level != lvl:
            continue
        if b.fee_class and b.fee_class != fee:
            continue
        if b.admin_level and (hospital is None or b.admin_level != hospital.admin_level):
            continue
        if b.location and not location_matches(b.location, loc):
            continue
        if b.tier and b.tier != tier:
            continue
        key = (b.priority, _selectors_set(b))
        if best is None or key > best[0]:
            best = (key, b)
    return best[1] if best else None


def benefit_label(row: Benefit) -> str:
    parts = [TIER_NAMES.get(row.tier, "")]
    if row.level:
        parts.append(LEVEL_NAMES.get(row.level, str(row.level)))
    if row.fee_class:
        parts.append(f"{row.fee_class}类收费")
    if row.admin_level:
        parts.append(ADMIN_LEVEL_NAMES.get(row.admin_level, row.admin_level))
    if row.location:
        parts.append(LOCATION_NAMES.get(row.location, row.location))
    if row.delivery_mode:
        parts.append(DELIVERY_MODE_NAMES.get(row.delivery_mode, row.delivery_mode))
    return "".join(p for p in parts if p) or claim_type_name(row.claim_type)


def benefit_ref(row: Benefit) -> ParamRef:
    return row.ref("BenefitRule", claim_type=row.claim_type, level=row.level, tier=row.tier,
                   deductible=row.deductible, deductible_mode=row.deductible_mode,
                   ratio=row.ratio, limit_pool=row.limit_pool, fixed_amount=row.fixed_amount,
                   floor_amount=row.floor_amount)


# --------------------------------------------------------------------------- adjustments


def _minor_age(plan: PlanParams, row: Adjustment) -> int:
    if row.max_age is not None:
        return row.max_age
    figure = plan.figure("minor_age")
    if figure is None:
        raise missing(plan, "未成年人年龄上限（报销比例调整“未成年人”未填年龄上限，参考指标 minor_age 也未设定）")
    return int(figure.value)


def _condition(code: str, claim: ClaimFacts, person: PersonFacts, location: str) -> bool:
    """The fact each adjustment code stands for (the numbers are on the row)."""
    if code == "tcm":
        return claim.hospital is not None and claim.hospital.tcm
    if code in ("not_filed", "referral_not_approved"):
        return not claim.filed and location != "in_region"
    if code == "cross_province":
        return location == "out_of_province" and not person.resettled
    if code == "major_disease":
        return bool(claim.major_disease)
    return True  # minor: the age test is the row's max_age


def ratio_adjustments(plan: PlanParams, claim: ClaimFacts, person: PersonFacts, *,
                      claim_types: Iterable[str] | None = None, level: int | None = None,
                      location: str | None = None) -> tuple[Adjustment, ...]:
    """The ``RatioAdjustment`` rows that apply to a claim (one per code).

    A row applies when it names the claim's type (or one of ``claim_types``, e.g. a
    cesarean settled as inpatient), its delivery mode is blank or the claim's, the
    person is younger than ``max_age`` on the service date, the hospital is at least
    ``min_level``, the location is in its scope, and the fact of its code holds.
    When two rows of the same code apply, the one naming the claim's own type and
    delivery mode wins (an adjustment never counts twice)."""
    types = tuple(claim_types) if claim_types else (claim.type,)
    lvl = level if level is not None else (claim.hospital.level if claim.hospital else 0)
    loc = location if location is not None else claim_location(claim)
    age = person.age_on(claim.date)
    chosen: dict[str, tuple[tuple[bool, bool], Adjustment]] = {}
    for row in plan.adjustments:
        if row.claim_type not in types:
            continue
        if row.delivery_mode and row.delivery_mode != (claim.delivery_mode or ""):
            continue
        if row.min_level and lvl < row.min_level:
            continue
        if row.location and not location_matches(row.location, loc):
            continue
        if (row.code == "minor" or row.max_age is not None) and not age < _minor_age(plan, row):
            continue
        if not _condition(row.code, claim, person, loc):
            continue
        rank = (row.claim_type == claim.type, bool(row.delivery_mode))
        if row.code not in chosen or rank > chosen[row.code][0]:
            chosen[row.code] = (rank, row)
    return tuple(row for _, row in chosen.values())


def adjusted_ratio(base: Decimal, adjustments: Iterable[Adjustment], *,
                   exclude: Iterable[str] = ()) -> Decimal:
    """Base ratio plus the points of the adjustments (except ``exclude`` codes), clamped."""
    skip = set(exclude)
    return clamp_ratio(base + sum((a.points for a in adjustments if a.code not in skip), ZERO))


def adjustment_text(adjustments: Iterable[Adjustment], *, exclude: Iterable[str] = ()) -> str:
    skip = set(exclude)
    parts = [f"{ADJUSTMENT_NAMES.get(a.code, a.code)}{'+' if a.points >= 0 else ''}"
             f"{format(a.points.normalize(), 'f')}个百分点" for a in adjustments
             if a.code not in skip and a.points]
    return "、".join(parts)


def adjustment_ref(row: Adjustment) -> ParamRef:
    extra = {"deductible_shift_location": row.deductible_shift_location} if row.deductible_shift_location else {}
    return row.ref("RatioAdjustment", code=row.code, claim_type=row.claim_type,
                   points=row.points, max_age=row.max_age,
                   deductible_level_shift=row.deductible_level_shift, **extra)


# --------------------------------------------------------------------------- limits


def annual_limit(plan: PlanParams, pool: str, *, tier: int, person: PersonFacts,
                 day: date) -> Limit | None:
    """The ``AnnualLimit`` row of a pool for the person (None when the plan has none).

    Rows of identities the person holds on ``day`` replace the ordinary row; among
    them the most favourable wins (就高; an empty amount = no limit beats any amount).
    A row of the person's own tier beats a tier-0 (every tier) row."""
    rows = [r for r in plan.limits if r.pool == pool and r.tier in (0, tier)]
    held = person.identity_codes_on(day)
    own = [r for r in rows if r.identity and r.identity in held]
    if own:
        return max(own, key=lambda r: (r.amount is None, r.amount or ZERO, r.tier == tier))
    ordinary = [r for r in rows if r.identity is None]
    if not ordinary:
        return None
    return max(ordinary, key=lambda r: r.tier == tier)


def limit_ref(row: Limit) -> ParamRef:
    return row.ref("AnnualLimit", pool=row.pool, tier=row.tier, identity=row.identity or "",
                   amount=row.amount if row.amount is not None else "不设封顶")


# --------------------------------------------------------------------------- year to date


def prior_layers(ctx: LayerContext, kind: str | None = None) -> Iterator[tuple[ClaimFacts, LayerResult]]:
    """(claim, layer) of the earlier claims of the year for this (or another) scheme."""
    return ctx.ytd_layers(kind)


def ytd_paid(ctx: LayerContext, *, pool: str | None = None, claim_types: Iterable[str] | None = None,
             kind: str | None = None) -> Decimal:
    """What this scheme (or ``kind``) paid on earlier claims of the year, optionally only
    what counted in a limit pool or only for some claim types."""
    types = set(claim_types) if claim_types is not None else None
    total = ZERO
    for claim, lr in prior_layers(ctx, kind):
        if pool is not None and lr.extra_text("limit_pool") != pool:
            continue
        if types is not None and claim.type not in types:
            continue
        total += lr.paid
    return total


def ytd_deductible(ctx: LayerContext, deductible_pool: str) -> Decimal:
    """Annual deductible already absorbed by earlier claims of the year."""
    return sum((lr.deductible for _, lr in prior_layers(ctx)
                if lr.extra_text("deductible_pool") == deductible_pool), ZERO)


def ytd_extra(ctx: LayerContext, key: str, kind: str | None = None) -> Decimal:
    """Sum of a numeric ``extra`` entry over the earlier claims' layers."""
    return sum((lr.extra_value(key) for _, lr in prior_layers(ctx, kind)), ZERO)


def ytd_item(ctx: LayerContext, code: str) -> tuple[Decimal, Decimal]:
    """(paid, deductible absorbed) of a responsibility over the earlier claims."""
    paid = deductible = ZERO
    for _, lr in prior_layers(ctx):
        item = lr.item(code)
        if item is not None:
            paid += item.paid
            deductible += item.deductible
    return paid, deductible


def layers_before(settled: SettledClaim, kind: str) -> tuple[LayerResult, ...]:
    """The layers settled before ``kind`` on an earlier claim (its upstream)."""
    out = []
    for lr in settled.layers:
        if lr.scheme == kind:
            break
        out.append(lr)
    return tuple(out)


def upstream_extra(layers: Iterable[LayerResult], key: str) -> Decimal:
    return sum((lr.extra_value(key) for lr in layers), ZERO)


def deductible_remaining(ctx: LayerContext, row: Benefit, amount: Decimal | None = None,
                         pool: str | None = None) -> tuple[Decimal, str]:
    """Deductible this claim still faces under a benefit row, with its explanation.

    Per-claim deductibles apply in full (README §4.6); an annual deductible
    (``deductible_mode = annual``) is reduced by what earlier claims of the same claim
    type (``pool``) absorbed this year."""
    full = row.deductible if amount is None else amount
    if row.deductible_mode != "annual":
        return full, f"起付线 {yuan(full)}"
    used = ytd_deductible(ctx, pool or ctx.claim.type)
    left = max(full - used, ZERO)
    return left, f"年度累计起付线 {yuan(full)}（本年已累计 {yuan(used)}，剩余 {yuan(left)}）"


# --------------------------------------------------------------------------- segments


def segment_sets(plan: PlanParams, person: PersonFacts, day: date) -> list[tuple[str | None, tuple[Segment, ...]]]:
    """Candidate segment tables: those of the identities held on ``day`` (they replace
    the ordinary rows), else the ordinary one."""
    held = person.identity_codes_on(day)
    groups: dict[str | None, list[Segment]] = {}
    for seg in plan.segments:
        if seg.identity is None or seg.identity in held:
            groups.setdefault(seg.identity, []).append(seg)
    own = [(k, tuple(sorted(v, key=lambda s: s.seq))) for k, v in groups.items() if k is not None]
    if own:
        return sorted(own, key=lambda kv: kv[0])
    if None in groups:
        return [(None, tuple(sorted(groups[None], key=lambda s: s.seq)))]
    return []


def segment_value(segments: Iterable[Segment], s: Decimal, points: Decimal = ZERO) -> Decimal:
    """f(S): the segments add up. Segment i pays ratio_i × (base_i − threshold_i) above
    its threshold, base_i = S (``cumulative``) or S minus what the earlier segments
    pay (``after_previous``); ``points`` adjusts every ratio (clamped)."""
    total = ZERO
    for seg in segments:
        base = s if seg.base == "cumulative" else s - total
        total += max(base - seg.threshold, ZERO) * pct(clamp_ratio(seg.ratio + points))
    return total


def segment_gain(segments: Iterable[Segment], before: Decimal, amount: Decimal,
                 points: Decimal = ZERO) -> Decimal:
    """A claim's benefit under a cumulative rule: f(S_before + s) − f(S_before)."""
    segs = tuple(segments)
    return segment_value(segs, before + amount, points) - segment_value(segs, before, points)


def segment_ref(seg: Segment) -> ParamRef:
    return seg.ref("CumulativeSegment", identity=seg.identity or "", seq=seg.seq,
                   threshold=seg.threshold, ratio=seg.ratio, base=seg.base)


# --------------------------------------------------------------------------- results


@dataclass
class Calc:
    """Collects a layer's explanation steps and parameter references."""

    kind: str
    lines: list[str] = field(default_factory=list)
    refs: list[ParamRef] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)

    def say(self, text: str) -> Calc:
        if text:
            self.lines.append(text)
        return self

    def use(self, *refs: ParamRef) -> Calc:
        for ref in refs:
            if ref not in self.refs:
                self.refs.append(ref)
        return self

    def keep(self, key: str, value) -> Calc:
        self.extra[key] = str(value)
        return self

    def cap(self, raw: Decimal, limit: Limit | None, used: Decimal, label: str) -> tuple[Decimal, Decimal]:
        """Limit ``raw`` by what is left of an annual limit; returns (allowed, capped)."""
        if limit is None or limit.amount is None:
            if limit is not None:
                self.use(limit_ref(limit))
                self.say(f"{label}不设封顶")
            return raw, ZERO
        self.use(limit_ref(limit))
        left = max(limit.amount - used, ZERO)
        allowed = min(raw, left)
        if allowed < raw:
            self.say(f"{label} {yuan(limit.amount)}，本年已支付 {yuan(used)}，剩余 {yuan(left)}，"
                     f"超出部分 {yuan(raw - allowed)} 不予支付")
        else:
            self.say(f"{label} {yuan(limit.amount)}，本年已支付 {yuan(used)}，未超限额")
        return allowed, raw - allowed

    def layer(self, paid: Decimal, *, deductible: Decimal = ZERO, ratio: Decimal | None = None,
              capped: Decimal = ZERO, basis: Decimal | None = None, reason: str = "",
              items: tuple[ItemResult, ...] = ()) -> LayerResult:
        """The layer result; ``paid`` is rounded here, once (README §4.1)."""
        paid = q2(max(paid, ZERO))
        text = "；".join(self.lines)
        text = f"{text}；本层支付 {yuan(paid)}" if text else f"本层支付 {yuan(paid)}"
        return LayerResult(
            scheme=self.kind, paid=paid, deductible=deductible, ratio=ratio,
            capped=q2(max(capped, ZERO)), basis=basis, reason=reason, explanation=text,
            refs=tuple(self.refs), items=items, extra=tuple(self.extra.items()),
        )


def trim_items(items: Iterable[ItemResult], excess: Decimal, note: str = "") -> tuple[ItemResult, ...]:
    """Take ``excess`` off the items' paid amounts, from the last item backwards (a
    limit on a layer's total cuts its last responsibilities first)."""
    out = list(items)
    for i in range(len(out) - 1, -1, -1):
        if excess <= 0:
            break
        cut = min(out[i].paid, excess)
        if cut > 0:
            item = out[i]
            text = f"{item.explanation}（{note}扣减 {yuan(cut)}）" if note else item.explanation
            out[i] = replace(item, paid=item.paid - cut, capped=item.capped + cut, explanation=text)
            excess -= cut
    return tuple(out)


def zero_layer(kind: str, reason: str, explanation: str, refs: tuple[ParamRef, ...] = ()) -> LayerResult:
    """A layer that pays nothing for a reason (not an error)."""
    return LayerResult(scheme=kind, paid=q2(ZERO), reason=reason, explanation=explanation, refs=refs)


def pool_label(pool: str) -> str:
    return POOL_NAMES.get(pool, pool)
