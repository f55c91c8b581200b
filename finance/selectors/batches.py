"""Reads of the payment batches (docs/money.md §支付批次与银行回盘)."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from ledger.models import SourceKind
from policies.access import scope_queryset

from ..models import PaymentBatch, PaymentLine

ZERO = Decimal("0.00")
BANK_FILE_HEADERS = ["序号", "户名", "账号", "开户行", "金额", "用途"]
"""The bank file's columns (the returned file repeats them and adds RETURN_HEADERS)."""
RETURN_HEADERS = ["处理结果", "失败原因", "银行流水号"]


def line_reference(batch_number: str, seq: int) -> str:
    """The 外部单号 of the journal a success line books: ``批次号/序号``."""
    return f"{batch_number}/{seq}"


def batches_visible_to(user, qs=None):
    """The batches of ``user``'s regions."""
    return scope_queryset(qs if qs is not None else PaymentBatch.objects.all(), user, "region")


def batch_totals(batch: PaymentBatch) -> dict:
    """笔数 and 金额 of the batch's lines by status (cancelled lines excluded from 合计)."""
    rows = {status: (count, total) for status, count, total in
            batch.lines.values_list("status").annotate(n=Count("id"), s=Sum("amount")).order_by()}
    out = {status: {"count": rows.get(status, (0, ZERO))[0], "amount": rows.get(status, (0, ZERO))[1]}
           for status in PaymentLine.Status.values}
    live = [s for s in out if s != PaymentLine.Status.CANCELLED]
    out["total"] = {"count": sum(out[s]["count"] for s in live),
                    "amount": sum((out[s]["amount"] for s in live), ZERO)}
    return out


def bank_file_rows(batch: PaymentBatch) -> list[list]:
    """The rows of the bank file: every line not cancelled, complete (never masked)."""
    return [[line.seq, line.payee_name, line.account_number, line.bank_name, line.amount, line.purpose]
            for line in batch.lines.exclude(status=PaymentLine.Status.CANCELLED).order_by("seq")]


def open_line(source_kind: str, source_id: int) -> PaymentLine | None:
    """The 待回盘 line of a source document, if any."""
    return (PaymentLine.objects.select_related("batch")
            .filter(source_kind=source_kind, source_id=source_id, status=PaymentLine.Status.PENDING)
            .first())


def claim_payment_hold(claim) -> str | None:
    """``claims.services.PAYMENT_HOLDS``: a claim waiting for the bank cannot be returned
    nor reversed."""
    line = open_line(SourceKind.CLAIM, claim.pk)
    if line is None:
        return None
    return (f"理赔在支付批次“{line.batch.number}”中等待银行回盘，不能退回或冲正；"
            f"如批次尚未导出，可先作废该批次")


def last_failure(source_kind: str, source_id: int) -> PaymentLine | None:
    """The latest failed line of a source document (its bank reason)."""
    return (PaymentLine.objects.select_related("batch")
            .filter(source_kind=source_kind, source_id=source_id, status=PaymentLine.Status.FAILED)
            .order_by("-answered_at", "-id").first())


def success_lines():
    """Every success line with its batch number (for ``finance.checks``)."""
    return (PaymentLine.objects.filter(status=PaymentLine.Status.SUCCESS)
            .values_list("source_kind", "source_id", "scheme_id", "batch__number", "seq", "amount"))

