"""What each business act books (docs/money.md §分录规则): the entry lines of a
contribution, a claim's payable benefits, their payment, money recovered on a claim, a
refund and its payment.
Plain values in, ``JournalSpec`` out; ``services`` writes them."""
from __future__ import annotations

from dataclasses import dataclass, field
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
    lines = contribution_lines(self_paid, subsidy)
    if lines is None:
        return None
    return JournalSpec(
        kind=Journal.Kind.CONTRIBUTION, scheme_id=scheme_id, region_id=region_id, year=year,
        source_kind=SourceKind.PAYMENT, source_id=payment_id, booked_on=paid_date,
        person_id=person_id, memo=CONTRIBUTION_MEMO, reference=receipt_no, lines=lines)


CONTRIBUTION_MEMO = "缴费到账"

# The lines of a 缴费到账 journal, stated once: each line's account and the payment's amounts
# (``CONTRIBUTION_AMOUNTS``, each rounded to the fen) it adds up, with their signs. A payment
# whose amounts add up to nothing books nothing. ``contribution_lines`` computes them in
# Python; ``services.contributions_write_select`` has the database compute them (the payments
# import on PostgreSQL) from the same declaration.
CONTRIBUTION_AMOUNTS = ("self_paid", "subsidy")
CONTRIBUTION_LINES: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    (Account.BANK, (("self_paid", 1), ("subsidy", 1))),
    (Account.CONTRIBUTION, (("self_paid", -1),)),
    (Account.SUBSIDY, (("subsidy", -1),)),
)


def contribution_lines(self_paid, subsidy) -> tuple[tuple[str, Decimal], ...] | None:
    """The lines of a 缴费到账 journal (``contribution``; ``CONTRIBUTION_LINES``), rounded to
    the fen; ``None`` for a payment of nothing."""
    amounts = {"self_paid": money(self_paid), "subsidy": money(subsidy)}
    if sum(amounts.values()) == 0:
        return None
    return tuple((account, sum(sign * amounts[name] for name, sign in terms))
                 for account, terms in CONTRIBUTION_LINES)


def _transfer(kind: str, source_kind: str, source_id: int, amount, debit: str, credit: str, *,
              scheme_id: int, region_id: int, year: int, person_id: int | None, booked_on: date,
              memo: str, reference: str = "") -> JournalSpec | None:
    """A two-line journal: ``amount`` debited to ``debit`` and credited to ``credit``
    (``None`` for nothing)."""
    amount = money(amount)
    if amount == 0:
        return None
    return JournalSpec(
        kind=kind, scheme_id=scheme_id, region_id=region_id, year=year, source_kind=source_kind,
        source_id=source_id, booked_on=booked_on, person_id=person_id, memo=memo,
        reference=reference, lines=((debit, amount), (credit, -amount)))


def claim_payable(*, claim_id: int, paid, memo: str = "待遇核定", **fund) -> JournalSpec | None:
    """待遇核定 (a claim approved): one fund's layer becomes 待遇支出 owed (应付待遇).
    ``fund``: scheme_id, region_id, year, person_id, booked_on."""
    return _transfer(Journal.Kind.CLAIM_PAYABLE, SourceKind.CLAIM, claim_id, paid,
                     Account.BENEFIT, Account.PAYABLE, memo=memo, **fund)


def claim_paid(*, claim_id: int, amount, reference: str = "", **fund) -> JournalSpec | None:
    """待遇支付 (the bank paid it): 应付待遇 settled out of 基金存款."""
    return _transfer(Journal.Kind.CLAIM_PAID, SourceKind.CLAIM, claim_id, amount,
                     Account.PAYABLE, Account.BANK, memo="待遇支付", reference=reference, **fund)


def payment_returned(*, claim_id: int, amount, reference: str = "", **fund) -> JournalSpec | None:
    """支付退回 (退汇: money the bank paid came back): owed again, back in 基金存款."""
    return _transfer(Journal.Kind.PAYMENT_RETURNED, SourceKind.CLAIM, claim_id, amount,
                     Account.BANK, Account.PAYABLE, memo="支付退回", reference=reference, **fund)


def claim_recovered(*, claim_id: int, amount, reference: str = "", memo: str = "待遇追回",
                    **fund) -> JournalSpec | None:
    """待遇追回 (money paid on a claim and no longer owed — its 待遇核定 reversed or
    lowered — comes back from the claimant): 基金存款 receives it, the claim's debit
    应付待遇 (应收回) is cleared — the lines of 支付退回 under its own kind."""
    return _transfer(Journal.Kind.CLAIM_RECOVERED, SourceKind.CLAIM, claim_id, amount,
                     Account.BANK, Account.PAYABLE, memo=memo, reference=reference, **fund)


def refund(*, refund_id: int, amount, memo: str = "退费核定", **fund) -> JournalSpec | None:
    """退费核定: the refunded self-paid part leaves 缴费收入 and is owed back (应退缴费)."""
    return _transfer(Journal.Kind.REFUND, SourceKind.REFUND, refund_id, amount,
                     Account.CONTRIBUTION, Account.REFUND_PAYABLE, memo=memo, **fund)


def refund_paid(*, refund_id: int, amount, reference: str = "", **fund) -> JournalSpec | None:
    """退费支付: 应退缴费 settled out of 基金存款."""
    return _transfer(Journal.Kind.REFUND_PAID, SourceKind.REFUND, refund_id, amount,
                     Account.REFUND_PAYABLE, Account.BANK, memo="退费支付", reference=reference, **fund)
