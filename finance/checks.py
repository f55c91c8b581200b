"""The ledger against the tables it books (docs/money.md §核对): every payment's
contribution, every claim's benefits and payment, every refund's 退费核定 and payment,
every journal balanced. ``manage.py
ledger_check`` prints the differences; the tests run it after every money scenario."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, Sum

from claims.models import Claim, ClaimLayer
from enrollment.models import Payment, Refund
from ledger import selectors as ledger
from ledger.models import Account, Entry, SourceKind
from policies.display import money_text

ZERO = Decimal("0")


def _by_source(source_kind: str, account: str) -> dict[int, Decimal]:
    rows = (Entry.objects.filter(account=account, journal__source_kind=source_kind)
            .values_list("journal__source_id").annotate(total=Sum("amount")))
    return {source_id: total for source_id, total in rows}


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
            out.append(f"缴费记录“{receipt}”：个人缴费{money_text(self_paid)}元、资助{money_text(subsidy)}元，"
                       f"账上为{money_text(booked_self)}元、{money_text(booked_subsidy)}元")
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
            out.append(f"理赔结算“{number}”：核定基金支付{money_text(want)}元，账上待遇支出{money_text(booked)}元")
        if status == Claim.Status.PAID and payables.get(pk, ZERO) != 0:
            out.append(f"理赔结算“{number}”已支付，账上仍有应付待遇{money_text(-payables[pk])}元")
        elif status not in (Claim.Status.APPROVED, Claim.Status.PAID) and payables.get(pk, ZERO) < 0:
            # 冲正/退回/作废: nothing is owed any more (a debit balance is money to recover)
            out.append(f"理赔结算“{number}”未审核通过，账上仍有应付待遇{money_text(-payables[pk])}元")
    out.extend(_refund_differences())
    out += _batch_differences()
    if len(out) > limit:
        out = out[:limit] + [f"另有{len(out) - limit}处不符"]
    return out


def _refund_differences() -> list[str]:
    """退费 (docs/money.md §退费): a refund 待支付 or 已支付 has its amount debited to
    缴费收入; one 待支付 still owes it (应退缴费), one 已支付 owes nothing; a refund
    待复核 or 已驳回 has nothing booked; no refund journal without its refund."""
    out: list[str] = []
    income = _by_source(SourceKind.REFUND, Account.CONTRIBUTION)
    owed = _by_source(SourceKind.REFUND, Account.REFUND_PAYABLE)
    for pk, receipt, amount, status in Refund.objects.values_list(
            "pk", "payment__receipt_no", "amount", "status").iterator(chunk_size=5000):
        booked, owing = income.pop(pk, ZERO), -owed.pop(pk, ZERO)
        want = amount if status in Refund.BOOKED else ZERO
        want_owing = amount if status == Refund.Status.PAYABLE else ZERO
        name = f"退字第{pk}号（缴费记录“{receipt}”）"
        if booked != want:
            out.append(f"{name}：核定退费{money_text(want)}元，账上缴费收入冲减{money_text(booked)}元")
        if owing != want_owing:
            out.append(f"{name}：应退缴费应为{money_text(want_owing)}元，账上为{money_text(owing)}元")
    for pk in {**income, **owed}:
        out.append(f"退费凭证的退费（编号{pk}）不存在")
    return out


def _batch_differences() -> list[str]:
    """支付批次 (docs/money.md §支付批次与银行回盘): each success line's amount is what the
    payment journal(s) of its document, fund and reference ``批次号/序号`` took out of
    基金存款, and every such journal belongs to a success line."""
    from .selectors.batches import line_reference, success_lines
    from .services.batches import SOURCES

    out: list[str] = []
    kinds = {kind: source.paid_kind for kind, source in SOURCES.items() if source.paid_kind}
    booked: dict[tuple, Decimal] = {}
    for kind, journal_kind in kinds.items():
        rows = (Entry.objects.filter(account=Account.BANK, journal__kind=journal_kind,
                                     journal__source_kind=kind)
                .exclude(journal__reference="")
                .values_list("journal__source_id", "journal__scheme_id", "journal__reference")
                .annotate(total=Sum("amount")))
        for source_id, scheme_id, reference, total in rows:
            booked[(kind, source_id, scheme_id, reference)] = -total
    for kind, source_id, scheme_id, number, seq, amount in success_lines():
        reference = line_reference(number, seq)
        got = booked.pop((kind, source_id, scheme_id, reference), ZERO)
        if got != amount:
            out.append(f"支付批次“{number}”第{seq}笔回盘成功{money_text(amount)}元，账上支付{money_text(got)}元")
    from .models import PaymentBatch

    batch_numbers = set(PaymentBatch.objects.values_list("number", flat=True))
    for (_kind, _source_id, _scheme_id, reference), total in booked.items():
        number = reference.rpartition("/")[0]
        if number in batch_numbers:
            out.append(f"账上有支付批次“{number}”的支付{money_text(total)}元（{reference}），"
                       f"但该笔明细并未回盘成功")
    return out
