"""The year-to-date panel of a claim page (``ytd_panel``; spec README §4.4): the person's
counted claims of the region's plan year (read by ``claims.fetch``, as a settlement reads
them) summed per scheme against the plan rows — amount paid, deductible absorbed, each
annual-limit pool, each responsibility's sum insured and deductible, cumulative bases."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from insurance_rules.common import annual_limit
from insurance_rules.money import ZERO
from insurance_rules.params import PlanParams
from insurance_rules.vocab import POOL_NAMES, claim_type_name

from . import fetch


@dataclass
class PanelLine:
    label: str
    limit: Decimal | None  # None = 不设封顶 / no threshold
    used: Decimal
    kind: str = "limit"  # limit / deductible / basis

    @property
    def left(self) -> Decimal | None:
        return None if self.limit is None else max(self.limit - self.used, ZERO)


@dataclass
class PanelScheme:
    kind: str
    name: str
    paid: Decimal = ZERO
    deductible: Decimal = ZERO
    lines: list[PanelLine] = field(default_factory=list)


@dataclass
class YtdPanel:
    year: int
    claims: int
    fund_total: Decimal
    personal: Decimal
    schemes: list[PanelScheme]


def ytd_panel(person, region, year: int, *, on: date | None = None, exclude=None) -> YtdPanel:
    """Year-to-date figures of the person in the region's plan year, from the stored
    current lines of the counted claims and the plan rows: per scheme the amount paid,
    the deductible absorbed, each annual-limit pool (limit, used, left), each
    responsibility's annual deductible and sum insured, and cumulative bases (大病 S)."""
    context = fetch.RegionYear.of(region, year)
    plans, names = context.plans, context.names
    inputs = fetch.fetch_persons(context, [person], exclude=() if exclude is None else [
        exclude.pk if hasattr(exclude, "pk") else exclude])[person.pk]
    history, tiers, facts = inputs.history, inputs.tiers, inputs.facts
    day = on or (history[-1].claim.date if history else date(year, 1, 1))
    fund = sum((sc.fund_total for sc in history), ZERO)
    total = sum((sc.claim.total for sc in history), ZERO)
    schemes = []
    for kind, plan in plans.items():
        if kind not in tiers:
            continue
        layers = [lr for sc in history for lr in sc.layers if lr.scheme == kind]
        panel = PanelScheme(kind=kind, name=names.get(kind, kind),
                            paid=sum((lr.paid for lr in layers), ZERO),
                            deductible=sum((lr.deductible for lr in layers), ZERO))
        if plan is not None:
            _pool_lines(panel, plan, layers, tiers[kind], facts, day)
            _responsibility_lines(panel, plan, layers, facts)
        basis = sum((lr.extra_value("ytd_basis") for lr in layers), ZERO)
        if basis:
            first = min((s.threshold for s in plan.segments), default=None) if plan else None
            panel.lines.append(PanelLine("累计计算基数（起付标准）", first, basis, kind="basis"))
        schemes.append(panel)
    return YtdPanel(year=year, claims=len(history), fund_total=fund, personal=total - fund,
                    schemes=schemes)


def _pool_lines(panel: PanelScheme, plan: PlanParams, layers, tier: int, facts, day) -> None:
    for pool in dict.fromkeys(r.pool for r in plan.limits):
        row = annual_limit(plan, pool, tier=tier, person=facts, day=day)
        if row is None:
            continue
        used = sum((lr.paid for lr in layers if lr.extra_text("limit_pool") == pool), ZERO)
        panel.lines.append(PanelLine(POOL_NAMES.get(pool, pool), row.amount, used))
    pools = {}
    for lr in layers:
        pool = lr.extra_text("deductible_pool")
        if pool:
            pools[pool] = pools.get(pool, ZERO) + lr.deductible
    for pool, used in pools.items():
        rows = [b for b in plan.benefits if b.claim_type == pool and b.deductible_mode == "annual"
                and b.tier in (0, tier)]
        limit = max((b.deductible for b in rows), default=None)
        panel.lines.append(PanelLine(f"{claim_type_name(pool)}年度累计起付线", limit, used, kind="deductible"))


def _responsibility_lines(panel: PanelScheme, plan: PlanParams, layers, facts) -> None:
    listed = {p.group for p in plan.pre_existing}
    pre = any(g in listed for g in facts.pre_existing)
    for row in sorted(plan.responsibilities, key=lambda r: r.seq):
        paid = sum((it.paid for lr in layers for it in lr.items if it.code == row.code), ZERO)
        absorbed = sum((it.deductible for lr in layers for it in lr.items if it.code == row.code), ZERO)
        insured = row.sum_insured_pre_existing if pre and row.sum_insured_pre_existing is not None \
            else row.sum_insured
        panel.lines.append(PanelLine(f"{row.name} 年度保额", insured, paid))
        if row.deductible:
            panel.lines.append(PanelLine(f"{row.name} 年度免赔额", row.deductible, absorbed,
                                         kind="deductible"))
