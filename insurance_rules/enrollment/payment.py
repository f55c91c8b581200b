"""One payment towards an enrollment checked once (spec README §2 参保登记和缴费 — receipt
number unique per scheme, subsidy 就高不就低 recorded once, payments in date order, §6 bad
input; trial-calc.md ``contribution`` for the rules themselves).

``check_payment`` takes the facts of one payment — the contribution plan, the person,
what the enrollment has already received (``PaidSoFar``) and the amounts of the payment
— and returns a ``PaymentDecision``: the quote (``contribution.quote``), the figures of
this payment (subsidy now, what is still open, whether it pays the due off) and the
refusals by field. ``payment_figures`` is the arithmetic alone (the admin's preview);
``enrollment_closed`` the first check alone (the sheet runs it before its tier checks);
``duplicate_receipt`` the refusal of a receipt number already recorded.

Used by ``enrollment.services.payments.payment_record`` (facts of one payment, read under
the enrollment's lock; a partial ``self_paid``) and by the ``payments`` sheet kind (facts
loaded in bulk per chunk; each row states due, subsidy and self-pay and pays off).
Pure: no Django import.

Refusal fields: ``enrollment`` (terminated, already paid off), ``paid_date`` (earlier than
the last payment, before birth, window closed), ``tier``, ``person`` (eligibility),
``payer`` (channel / relation to the payer), ``plan`` (a missing rule), ``amount_due``,
``subsidy``, ``self_paid``, ``receipt_no``. ``code`` is the trial-calc code of a rule
refusal (``not_eligible``, ``window_closed``, …), ``already_paid`` / ``over_payment`` /
``duplicate_receipt`` for the payment's own, else None.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from insurance_rules.errors import CaseError
from insurance_rules.facts import PersonFacts
from insurance_rules.money import ZERO, amount_refusal, fmt

from .contribution import Quote, check_paid_date, check_tier, quote
from .eligibility import check_eligibility
from .plan import ContributionPlan
from .vocab import TIER_NAMES

RULE_FIELDS = {"window_closed": "paid_date", "not_eligible": "payer", "missing_rule": "plan"}
"""The field of a refusal raised by ``quote`` after eligibility, by trial-calc code."""


@dataclass(frozen=True)
class PaidSoFar:
    """What the enrollment has received before this payment (all zero/None when it does
    not exist yet)."""

    subsidy: Decimal = ZERO
    self_paid: Decimal = ZERO
    last_paid_date: date | None = None
    paid_off_date: date | None = None
    terminated: bool = False

    @property
    def total(self) -> Decimal:
        return self.subsidy + self.self_paid


@dataclass(frozen=True)
class Stated:
    """The amounts a payment row states (the sheet: each row pays the due off)."""

    amount_due: Decimal
    subsidy: Decimal
    self_paid: Decimal


@dataclass(frozen=True)
class RecordedPayment:
    """A payment already recorded under a receipt number (for ``duplicate_receipt``)."""

    receipt_no: str
    person_name: str
    paid_date: date
    amount_due: Decimal


@dataclass(frozen=True)
class Refusal:
    field: str
    message: str
    code: str | None = None


@dataclass(frozen=True)
class Figures:
    """The amounts of this payment: ``subsidy_now`` is what the subsidy adds now (就高:
    up to the quote's subsidy, less what was recorded before); ``remaining`` the self-pay
    still open after it."""

    due: Decimal
    paid_subsidy: Decimal
    paid_self: Decimal
    subsidy_now: Decimal
    remaining: Decimal


@dataclass(frozen=True)
class PaymentDecision:
    quote: Quote | None = None
    figures: Figures | None = None
    self_paid: Decimal | None = None
    refusals: tuple[Refusal, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.refusals

    @property
    def blocked(self) -> bool:
        """Refused before the amounts could be checked (no quote)."""
        return self.quote is None

    @property
    def completes(self) -> bool:
        """This payment covers what is still due (完清)."""
        f = self.figures
        return f.paid_subsidy + f.paid_self + f.subsidy_now + self.self_paid >= f.due


def payment_figures(result: Quote, paid: PaidSoFar) -> Figures:
    subsidy_now = max(result.subsidy - paid.subsidy, ZERO)
    return Figures(due=result.due, paid_subsidy=paid.subsidy, paid_self=paid.self_paid,
                   subsidy_now=subsidy_now,
                   remaining=result.due - paid.subsidy - paid.self_paid - subsidy_now)


def duplicate_receipt(recorded: RecordedPayment, where: str) -> Refusal:
    """A receipt number already recorded in the scheme (``where``: region + scheme name)."""
    return Refusal("receipt_no", (
        f"票据/流水号“{recorded.receipt_no}”已在{where}登记（参保人 {recorded.person_name}，"
        f"缴费日期 {recorded.paid_date.isoformat()}，应缴 {fmt(recorded.amount_due)}），不能重复登记"),
        "duplicate_receipt")


def enrollment_closed(paid: PaidSoFar, subject: str = "该参保登记") -> Refusal | None:
    """The enrollment takes no more payments: terminated, or already paid off (``subject``
    names it: the service says 该参保登记, the sheet the person's scheme and year)."""
    if paid.terminated:
        return Refusal("enrollment", "该参保登记已终止，不能再缴费")
    if paid.paid_off_date is not None:
        return Refusal("enrollment", f"{subject}已于 {paid.paid_off_date.isoformat()} 缴清，不能重复缴费",
                       "already_paid")
    return None


def _rules(plan, person, *, tier, paid_date, channel, relation, holds_employee_basic, local,
           basic_start, basic_end) -> Quote | Refusal:
    """The contribution rules in the contract's order: input (tier, date before birth),
    eligibility, then payer, window, due, subsidy and coverage."""
    try:
        check_tier(plan, tier)
    except CaseError as exc:
        return Refusal("tier", exc.message, exc.code)
    try:
        check_paid_date(person, paid_date)
    except CaseError as exc:
        return Refusal("paid_date", exc.message, exc.code)
    try:
        check_eligibility(plan, person, holds_employee_basic=holds_employee_basic, local=local)
    except CaseError as exc:
        return Refusal("person", exc.message, exc.code)
    try:
        return quote(plan, person, tier=tier, paid_date=paid_date, channel=channel, relation=relation,
                     holds_employee_basic=holds_employee_basic, local=local,
                     basic_start=basic_start, basic_end=basic_end)
    except CaseError as exc:
        return Refusal(RULE_FIELDS.get(exc.code, "paid_date"), exc.message, exc.code)


def check_payment(plan: ContributionPlan, person: PersonFacts, *, paid: PaidSoFar, paid_date: date,
                  tier: int | None, channel: str | None, relation: str | None,
                  holds_employee_basic: bool = False, local: bool | None = None,
                  basic_start: date | None = None, basic_end: date | None = None,
                  self_paid: Decimal | None = None, stated: Stated | None = None,
                  subject: str = "该参保登记",
                  identity_names: Mapping[str, str] | None = None) -> PaymentDecision:
    """Check one payment (README §2, §6).

    In order: the enrollment not terminated and not paid off (``subject`` names it in the
    message) — refused at once; the payment not dated before the enrollment's last one;
    the contribution rules (``_rules``) — refused at once, with the date refusal before
    it if any; then the amounts. Either ``self_paid`` (a payment of part of what is open;
    None = all of it): not negative, not more than what is open; or ``stated`` (a row that
    pays off): due = paid before + subsidy + self-pay, due and subsidy as the rules give
    them. Never an empty payment (no subsidy and no self-pay). An amount outside the bound
    of amounts (``money.amount_refusal``: ≥ 10^12 元, more than 2 decimals) is refused at
    once, before any rule."""
    closed = enrollment_closed(paid, subject)
    if closed is not None:
        return PaymentDecision(refusals=(closed,))
    bounds = _out_of_bounds(self_paid, stated)
    if bounds:  # 1e30 cannot even be rounded for a message: refused before any arithmetic
        return PaymentDecision(refusals=bounds)
    refusals = []
    if paid.last_paid_date is not None and paid_date < paid.last_paid_date:
        refusals.append(Refusal("paid_date", (
            f"缴费日期 {paid_date.isoformat()} 早于本参保登记已有缴费的最后日期 "
            f"{paid.last_paid_date.isoformat()}，请按缴费日期先后登记")))
    result = _rules(plan, person, tier=tier, paid_date=paid_date, channel=channel, relation=relation,
                    holds_employee_basic=holds_employee_basic, local=local,
                    basic_start=basic_start, basic_end=basic_end)
    if isinstance(result, Refusal):
        return PaymentDecision(refusals=(*refusals, result))
    figures = payment_figures(result, paid)
    if stated is None:
        self_paid = figures.remaining if self_paid is None else self_paid
        subsidy = figures.subsidy_now
        if self_paid < 0:
            refusals.append(Refusal("self_paid", "个人缴费不能为负数"))
        elif self_paid > figures.remaining:
            refusals.append(Refusal("self_paid", (
                f"个人缴费 {fmt(self_paid)} 超过应缴未缴金额 {fmt(figures.remaining)}（应缴 "
                f"{fmt(figures.due)}，已资助 {fmt(figures.paid_subsidy)}，已个人缴费 "
                f"{fmt(figures.paid_self)}，本次资助 {fmt(figures.subsidy_now)}）"), "over_payment"))
    else:
        self_paid, subsidy = stated.self_paid, stated.subsidy
        refusals.extend(_stated_refusals(stated, result, figures, paid, identity_names or {}))
    if self_paid == 0 and subsidy == 0:
        refusals.append(Refusal("self_paid", "本次缴费金额为 0，无需登记"))
    return PaymentDecision(quote=result, figures=figures, self_paid=self_paid, refusals=tuple(refusals))


AMOUNT_NAMES = {"amount_due": "应缴金额", "subsidy": "资助金额", "self_paid": "个人缴费"}


def _out_of_bounds(self_paid: Decimal | None, stated: Stated | None) -> tuple[Refusal, ...]:
    """The amounts of the payment outside the bound of amounts (``money.amount_refusal``)."""
    amounts = {"self_paid": self_paid} if stated is None else {
        "amount_due": stated.amount_due, "subsidy": stated.subsidy, "self_paid": stated.self_paid}
    return tuple(Refusal(name, f"{AMOUNT_NAMES[name]}{refusal}")
                 for name, value in amounts.items() if value is not None
                 for refusal in [amount_refusal(value)] if refusal is not None)


def _stated_refusals(stated: Stated, result: Quote, figures: Figures, paid: PaidSoFar,
                     identity_names: Mapping[str, str]) -> list[Refusal]:
    refusals = []
    due, subsidy, self_paid = stated.amount_due, stated.subsidy, stated.self_paid
    before = paid.total
    if due != before + subsidy + self_paid:
        earlier = f"此前已缴 {fmt(before)} + " if before else ""
        refusals.append(Refusal("self_paid", f"金额不平：应缴金额 {fmt(due)} ≠ {earlier}资助金额 "
                                             f"{fmt(subsidy)} + 个人缴费 {fmt(self_paid)}（每行须缴清应缴金额）"))
    if due != result.due:
        tier = TIER_NAMES.get(result.tier) if result.tier else ""
        refusals.append(Refusal("amount_due", f"应缴金额与缴费标准不符：按缴费期“{result.window.name}”"
                                              f"{tier}应缴 {fmt(result.due)}"))
    if subsidy != figures.subsidy_now:
        if result.subsidy_identity:
            name = identity_names.get(result.subsidy_identity, result.subsidy_identity)
            why = f"按“{name}”身份资助 {fmt(result.subsidy)}（就高不就低）"
            if paid.subsidy:
                why += f"，已资助 {fmt(paid.subsidy)}"
        else:
            why = "参保人在缴费日期没有可获资助的特殊身份"
        refusals.append(Refusal("subsidy", f"资助金额与资助标准不符：{why}，本笔资助金额应为 "
                                           f"{fmt(figures.subsidy_now)}"))
    return refusals
