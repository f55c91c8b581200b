"""A contribution quote: eligibility, payer, window, amount due, subsidy, self-pay and
coverage of one payment (trial-calc.md ``contribution``; README §2 参保登记 and 缴费).

``quote`` is used by the trial calculation and by ``enrollment.services.payment_record``
alike, so a quoted payment and a recorded one never differ. Checks run in the order of
the contract: the person's eligibility for the scheme, the payer, then the payment
window; input errors (tier, payment before birth) come first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from insurance_rules.errors import InvalidInput
from insurance_rules.facts import PersonFacts
from insurance_rules.money import fmt
from insurance_rules.params import Figure, Standard, Subsidy, Window

from .amounts import amount_due, best_subsidy
from .coverage import coverage_period
from .eligibility import check_eligibility
from .payer import check_payer
from .plan import ContributionPlan
from .vocab import TIER_NAMES
from .windows import select_window


@dataclass(frozen=True)
class Quote:
    window: Window
    standard: Standard
    figure: Figure | None
    tier: int
    due: Decimal
    subsidy: Decimal
    subsidy_identity: str | None
    subsidy_row: Subsidy | None
    self_pay: Decimal
    coverage_start: date
    coverage_end: date

    def explanation(self, identity_names: dict[str, str] | None = None) -> str:
        """Chinese text of the computation, e.g. for the admin's payment form."""
        due_text = f"{fmt(self.standard.amount)}"
        if self.figure is not None:
            due_text += f" + {fmt(self.figure.value)}（{self.figure.code}）"
        tier = f"{TIER_NAMES.get(self.tier)}" if self.tier else ""
        parts = [f"缴费期“{self.window.name}”", f"{tier}应缴 {fmt(self.due)}（{due_text}）"]
        if self.subsidy_identity:
            name = (identity_names or {}).get(self.subsidy_identity, self.subsidy_identity)
            parts.append(f"资助 {fmt(self.subsidy)}（{name}，就高不就低）")
        else:
            parts.append("资助 0.00")
        parts.append(f"个人缴费 {fmt(self.self_pay)}")
        parts.append(f"待遇享受期 {self.coverage_start.isoformat()} 至 {self.coverage_end.isoformat()}")
        return "；".join(parts)


def check_tier(plan: ContributionPlan, tier: int | None) -> int:
    """The tier to use: required (1 or 2) where the scheme has tiers, else 0."""
    if not plan.has_tiers:
        return 0
    if tier in (None, 0):
        raise InvalidInput(f"{plan.label}分档缴费，请填写字段“tier”（1 = 一档，2 = 二档）")
    if tier not in TIER_NAMES:
        raise InvalidInput(f"字段“tier”的值 {tier} 无效（1 = 一档，2 = 二档）")
    return tier


def check_paid_date(person: PersonFacts, paid_date: date) -> None:
    """No payment before the person's birth."""
    if paid_date < person.birth_date:
        raise InvalidInput(f"缴费日期 {paid_date.isoformat()} 早于出生日期 "
                           f"{person.birth_date.isoformat()}")


def quote(plan: ContributionPlan, person: PersonFacts, *, tier: int | None, paid_date: date,
          channel: str | None = None, relation: str | None = None,
          holds_employee_basic: bool = False, local: bool | None = None,
          basic_start: date | None = None, basic_end: date | None = None) -> Quote:
    """Everything a payment on ``paid_date`` would give; raises a ``CaseError``."""
    tier = check_tier(plan, tier)
    check_paid_date(person, paid_date)
    check_eligibility(plan, person, holds_employee_basic=holds_employee_basic, local=local)
    check_payer(plan, person, channel, relation)
    window = select_window(plan, person, paid_date)
    due = amount_due(plan, window, tier)
    subsidy = best_subsidy(plan, person, tier, paid_date, due.amount)
    start, end = coverage_period(plan, window, paid_date=paid_date, birth_date=person.birth_date,
                                 basic_start=basic_start, basic_end=basic_end)
    return Quote(window=window, standard=due.standard, figure=due.figure, tier=tier,
                 due=due.amount, subsidy=subsidy.amount, subsidy_identity=subsidy.identity,
                 subsidy_row=subsidy.row, self_pay=due.amount - subsidy.amount,
                 coverage_start=start, coverage_end=end)
