"""The ledger against the tables it books (docs/money.md §核对): every payment's
contribution, every claim's benefits and payment, every journal balanced. ``manage.py
ledger_check`` prints the differences; the tests run it after every money scenario."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, Sum

from claims.models import Claim, ClaimLayer
from enrollment.models import Payment
from ledger import selectors as ledger
from ledger.models import Account, Entry, SourceKind

ZERO = Decimal("0")


def _by_source(source_kind: str, account: str) -> dict[int, Decimal]:
    rows = (Entry.objects.filter(account=account, journal__source_kind=source_kind)
            .values_list("journal__source_id").annotate(total=Sum("amount")))
    return {source_id: total for source_id, total in rows}


def _fmt(value) -> str:
    return f"{value:,.2f}"


def ledger_differences(limit: int = 50) -> list[str]:
    """Each disagreement between the ledger and the tables, in Chinese (empty when they
    agree to the fen); at most ``limit`` lines, then a count."""
    out: list[str] = []
    for journal in ledger.unbalanced_journals()[:limit]:
        out.append(f"{journal}借贷不平衡或分录不足两条")
    contributions = _by_source(SourceKind.PAYMENT, Account.CONTRIBUTION)
    subsidies = _by_source(SourceKind.PAYMENT, Account.SUBSIDY)
    for pk, receipt, self_paid, subsidy in Payment.objects.values_list(
            "pk", "receipt_no", "self_paid", "subsidy").iterator(chunk_size=5000):
        booked_self = -contributions.pop(pk, ZERO)
        booked_subsidy = -subsidies.pop(pk, ZERO)
        if booked_self != self_paid or booked_subsidy != subsidy:
            out.append(f"缴费记录“{receipt}”：个人缴费{_fmt(self_paid)}元、资助{_fmt(subsidy)}元，"
                       f"账上为{_fmt(booked_self)}元、{_fmt(booked_subsidy)}元")
    for pk in {**contributions, **subsidies}:
        out.append(f"缴费到账凭证的缴费记录（编号{pk}）不存在")
    benefits = _by_source(SourceKind.CLAIM, Account.BENEFIT)
    payables = _by_source(SourceKind.CLAIM, Account.PAYABLE)
    expected: dict[int, Decimal] = dict(
        ClaimLayer.objects.filter(is_current=True, given=False,
                                  claim__status__in=(Claim.Status.APPROVED, Claim.Status.PAID))
        .values_list("claim_id").annotate(total=Sum("paid")))
    claims = Claim.objects.filter(Q(pk__in=benefits.keys()) | Q(pk__in=expected.keys())
                                  | Q(pk__in=payables.keys()))
    for pk, number, status in claims.values_list("pk", "settlement_no", "status").iterator(chunk_size=5000):
        want, booked = expected.get(pk, ZERO), benefits.get(pk, ZERO)
        if want != booked:
            out.append(f"理赔结算“{number}”：核定基金支付{_fmt(want)}元，账上待遇支出{_fmt(booked)}元")
        if status == Claim.Status.PAID and payables.get(pk, ZERO) != 0:
            out.append(f"理赔结算“{number}”已支付，账上仍有应付待遇{_fmt(-payables[pk])}元")
        elif status not in (Claim.Status.APPROVED, Claim.Status.PAID) and payables.get(pk, ZERO) < 0:
            # 冲正/退回/作废: nothing is owed any more (a debit balance is money to recover)
            out.append(f"理赔结算“{number}”未审核通过，账上仍有应付待遇{_fmt(-payables[pk])}元")
    if len(out) > limit:
        out = out[:limit] + [f"另有{len(out) - limit}处不符"]
    return out
