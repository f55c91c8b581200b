"""What each business act books (docs/money.md §分录规则): the entry lines of a
contribution, a claim's payable benefits, their payment, money recovered on a claim, a
refund and its payment.
Plain values in, ``JournalSpec`` out; ``services`` writes them."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from insurance_rules.money import q2

from .models import Account, Journal, SourceKind


def money(value) -> Decimal:
    """A Decimal rounded to the fen, half-up (never float)."""
    if isinstance(value, float):
        raise TypeError("金额不能是浮点数")
    return q2(Decimal(value))


@dataclass(frozen=True)
class JournalSpec:
    """One journal to write: its fund (``scheme_id``/``region_id``), year, person, source
    and lines ``(account, amount)`` — debits positive, credits negative."""

    kind: str
    scheme_id: int
    region_id: int
    year: int
    source_kind: str
    source_id: int
    booked_on: date
    lines: tuple[tuple[str, Decimal], ...]
    person_id: int | None = None
    memo: str = ""
    reference: str = ""
    reverses_id: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def balanced_lines(self) -> tuple[tuple[str, Decimal], ...]:
        """The lines without zero amounts; ``ValueError`` unless they balance."""
        lines = tuple((account, money(amount)) for account, amount in self.lines if money(amount))
        if len(lines) < 2 or sum(amount for _a, amount in lines) != 0:
            raise ValueError(f"凭证借贷不平衡：{lines}")
        return lines


def contribution(*, payment_id: int, scheme_id: int, region_id: int, year: int, person_id: int,
                 self_paid, subsidy, paid_date: date, receipt_no: str = "") -> JournalSpec | None:
    """缴费到账: the fund's bank account receives the whole payment; the person's part is
    缴费收入, the subsidy 资助收入. ``None`` for a payment of nothing."""
    self_paid, subsidy = money(self_paid), money(subsidy)
    if self_paid + subsidy == 0:
        return None
    return JournalSpec(
        kind=Journal.Kind.CONTRIBUTION, scheme_id=scheme_id, region_id=region_id, year=year,
        source_kind=SourceKind.PAYMENT, source_id=payment_id, booked_on=paid_date,
        person_id=person_id, memo="缴费到账", reference=receipt_no,
        lines=((Account.BANK, self_paid + subsidy), (Account.CONTRIBUTION, -self_paid),
               (Account.SUBSIDY, -subsidy)))


def claim_payable(*, claim_id: int, scheme_id: int, region_id: int, year: int, person_id: int,
                  paid, booked_on: date, memo: str = "待遇核定") -> JournalSpec | None:
    """待遇核定 (a claim approved): one fund's layer becomes 待遇支出 owed (应付待遇)."""
    paid = money(paid)
    if paid == 0:
        return None
    return JournalSpec(
        kind=Journal.Kind.CLAIM_PAYABLE, scheme_id=scheme_id, region_id=region_id, year=year,
        source_kind=SourceKind.CLAIM, source_id=claim_id, booked_on=booked_on,
        person_id=person_id, memo=memo,
        lines=((Account.BENEFIT, paid), (Account.PAYABLE, -paid)))


def claim_paid(*, claim_id: int, scheme_id: int, region_id: int, year: int, person_id: int,
               amount, booked_on: date, reference: str = "") -> JournalSpec | None:
    """待遇支付 (the bank paid it): 应付待遇 settled out of 基金存款."""
    amount = money(amount)
    if amount == 0:
        return None
    return JournalSpec(
        kind=Journal.Kind.CLAIM_PAID, scheme_id=scheme_id, region_id=region_id, year=year,
        source_kind=SourceKind.CLAIM, source_id=claim_id, booked_on=booked_on,
        person_id=person_id, memo="待遇支付", reference=reference,
        lines=((Account.PAYABLE, amount), (Account.BANK, -amount)))


def payment_returned(*, claim_id: int, scheme_id: int, region_id: int, year: int,
                     person_id: int, amount, booked_on: date, reference: str = "") -> JournalSpec | None:
    """支付退回 (退汇: money the bank paid came back): owed again, back in 基金存款."""
    amount = money(amount)
    if amount == 0:
        return None
    return JournalSpec(
        kind=Journal.Kind.PAYMENT_RETURNED, scheme_id=scheme_id, region_id=region_id, year=year,
        source_kind=SourceKind.CLAIM, source_id=claim_id, booked_on=booked_on,
        person_id=person_id, memo="支付退回", reference=reference,
        lines=((Account.BANK, amount), (Account.PAYABLE, -amount)))


def claim_recovered(*, claim_id: int, scheme_id: int, region_id: int, year: int,
                    person_id: int, amount, booked_on: date, reference: str = "",
                    memo: str = "待遇追回") -> JournalSpec | None:
    """待遇追回 (money paid on a claim and no longer owed — its 待遇核定 reversed or
    lowered — comes back from the claimant): the lines of 支付退回 — 基金存款 receives
    it, the claim's debit 应付待遇 (应收回) is cleared — under its own kind."""
    spec = payment_returned(claim_id=claim_id, scheme_id=scheme_id, region_id=region_id,
                            year=year, person_id=person_id, amount=amount, booked_on=booked_on,
                            reference=reference)
    return spec and replace(spec, kind=Journal.Kind.CLAIM_RECOVERED, memo=memo)


def refund(*, refund_id: int, scheme_id: int, region_id: int, year: int, person_id: int,
           amount, booked_on: date, memo: str = "退费核定") -> JournalSpec | None:
    """退费核定: the refunded self-paid part leaves 缴费收入 and is owed back (应退缴费)."""
    amount = money(amount)
    if amount == 0:
        return None
    return JournalSpec(
        kind=Journal.Kind.REFUND, scheme_id=scheme_id, region_id=region_id, year=year,
        source_kind=SourceKind.REFUND, source_id=refund_id, booked_on=booked_on,
        person_id=person_id, memo=memo,
        lines=((Account.CONTRIBUTION, amount), (Account.REFUND_PAYABLE, -amount)))


def refund_paid(*, refund_id: int, scheme_id: int, region_id: int, year: int, person_id: int,
                amount, booked_on: date, reference: str = "") -> JournalSpec | None:
    """退费支付: 应退缴费 settled out of 基金存款."""
    amount = money(amount)
    if amount == 0:
        return None
    return JournalSpec(
        kind=Journal.Kind.REFUND_PAID, scheme_id=scheme_id, region_id=region_id, year=year,
        source_kind=SourceKind.REFUND, source_id=refund_id, booked_on=booked_on,
        person_id=person_id, memo="退费支付", reference=reference,
        lines=((Account.REFUND_PAYABLE, amount), (Account.BANK, -amount)))
