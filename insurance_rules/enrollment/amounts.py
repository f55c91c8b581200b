"""Amount due and subsidy of a contribution (dianjiang.md 缴费 and 困难群体参保资助;
leshan.md, sanming.md, liaocheng.md premiums).

- Amount due = the window's standard for the tier (a tier-0 row = every tier) plus, when
  the row names one, a plan-year figure (垫江 July–September: + F).
- Subsidy (就高不就低): among the identities held on the payment date, the single highest
  subsidy for the tier (a ``full`` row subsidises the whole due; an amount never exceeds
  the due); never a sum. Self-pay = due − subsidy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from insurance_rules.errors import MissingRule
from insurance_rules.facts import PersonFacts
from insurance_rules.money import ZERO, q2
from insurance_rules.params import Figure, Standard, Subsidy, Window

from .plan import ContributionPlan
from .vocab import TIER_NAMES


@dataclass(frozen=True)
class Due:
    amount: Decimal
    standard: Standard
    figure: Figure | None = None


@dataclass(frozen=True)
class SubsidyChoice:
    amount: Decimal
    identity: str | None = None
    row: Subsidy | None = None


def _pick_tier(rows, tier: int):
    """The row for ``tier``: an exact-tier row, else a tier-0 (every tier) row."""
    exact = [r for r in rows if r.tier == tier]
    if exact:
        return exact[0]
    any_tier = [r for r in rows if r.tier == 0]
    return any_tier[0] if any_tier else None


def amount_due(plan: ContributionPlan, window: Window, tier: int) -> Due:
    standard = _pick_tier([s for s in plan.standards if s.window == window.code], tier)
    if standard is None:
        tier_name = TIER_NAMES.get(tier, str(tier))
        raise MissingRule(f"{plan.label}缴费期“{window.name}”没有{tier_name}的缴费标准"
                          f"（缴费标准表无数据行）")
    amount = standard.amount
    figure = None
    if standard.plus_figure:
        figure = plan.figure(standard.plus_figure)
        if figure is None:
            raise MissingRule(f"{plan.label}缺少参考指标“{standard.plus_figure}”（缴费期"
                              f"“{window.name}”的缴费标准须另加该指标）")
        amount += figure.value
    return Due(q2(amount), standard, figure)


def best_subsidy(plan: ContributionPlan, person: PersonFacts, tier: int, paid_date: date,
                 due: Decimal) -> SubsidyChoice:
    best = SubsidyChoice(q2(ZERO))
    for code in sorted(person.identity_codes_on(paid_date)):
        row = _pick_tier([s for s in plan.subsidies if s.identity == code], tier)
        if row is None:
            continue
        amount = due if row.full else min(row.amount or ZERO, due)
        if amount > best.amount:
            best = SubsidyChoice(q2(amount), code, row)
    return best
