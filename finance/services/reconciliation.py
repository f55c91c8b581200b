"""对账 services (docs/money.md §对账): open a run, add the file's rows matched in bulk,
complete it with what the file lacks, and resolve the differences (认可, 复核, 备注).

What is compared (the product's decision, docs/money.md §对账):

- **税务征收明细** against ``enrollment.Payment`` of the run's scheme by 票据号/流水号: the tax
  bureau collects the person's own part, so its 金额 is compared with the payment's
  **个人缴费** (``self_paid``); the 资助 (spec README §2, dianjiang.md §Subsidy: a fixed
  amount paid by 财政/慈善/单位, recorded on the payment with its payer) reaches the fund
  by transfer from the subsidising department, not through the tax bureau's collection.
  A payment wholly subsidised (个人缴费 0) is therefore not expected in the tax detail.
- **医院结算清单** against ``claims.Claim`` of the hospital by 医院结算单号: the hospital's
  基金支付金额 is what it settled at the counter for every fund, so it is compared with
  the claim's **基金支付合计** (``fund_total``: every layer, including the layers the
  hospital's system gave) — not the ledger's 待遇支出, which books only the layers this
  system computed and only once a claim is approved.

Reconciliation reads payments and claims and writes only its own tables: no ledger entry.
"""
from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import Claim
from enrollment.models import Payment
from finance.models import DifferenceNote, ReconciliationLine, ReconciliationRun
from insurance_rules.money import fmt
from sheets.bulk_sql import InArray

Category = ReconciliationLine.Category
State = ReconciliationLine.State
Source = ReconciliationRun.Source

RESOLVE_PERMISSION = "finance.resolve_reconciliation"


@dataclass(frozen=True)
class FileRow:
    """One row of an imported file, parsed and checked (``finance.sheet_kinds``)."""

    row: int
    reference: str  # 票据号/流水号 or 医院结算单号
    document_number: str
    name: str
    occurred_on: date  # 缴费日期 or 结算日期
    amount: Decimal
    year: int | None = None  # tax only


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def month_words(month: date) -> str:
    return f"{month.year}年{month.month}月"


def _require(acting_user) -> None:
    if acting_user is not None and not acting_user.has_perm(RESOLVE_PERMISSION):
        raise PermissionDenied("您没有处理对账差异的权限")


# --------------------------------------------------------------------------- matching (pure)

@dataclass(frozen=True)
class _Payment:
    pk: int
    self_paid: Decimal
    document_number: str
    name: str
    year: int
    paid_date: date


@dataclass(frozen=True)
class _Claim:
    pk: int
    status: str
    fund_total: Decimal | None
    document_number: str
    name: str
    year: int
    settled_on: date


def _verdict(mismatches: list[str], amount_text: str, ours) -> tuple[str, Decimal | None, str]:
    """已匹配 when nothing differs; 信息不符 when the person or the year does (the amount's
    difference, if any, is said too); else 金额不符."""
    problems = [*mismatches, *([amount_text] if amount_text else [])]
    if not problems:
        return Category.MATCHED, ours, ""
    return (Category.INFO if mismatches else Category.AMOUNT), ours, "；".join(problems)


def _tax_result(row: FileRow, payment: _Payment | None) -> tuple[str, Decimal | None, str]:
    """(category, our amount, explanation) of a tax row against the recorded payment."""
    if payment is None:
        return Category.MISSING_HERE, None, "本系统没有该险种此票据号/流水号的缴费记录"
    mismatches = []
    if row.document_number and row.document_number != payment.document_number:
        mismatches.append("证件号码与本系统缴费记录的参保人不一致")
    if row.year is not None and row.year != payment.year:
        mismatches.append(f"年度不一致：本系统为 {payment.year} 年度")
    ours = payment.self_paid
    return _verdict(mismatches, row.amount != ours and f"税务征收 {fmt(row.amount)} 元，本系统个人缴费 {fmt(ours)} 元，"
                                                     f"相差 {fmt(row.amount - ours)} 元", ours)


def _hospital_result(row: FileRow, claim: _Claim | None) -> tuple[str, Decimal | None, str]:
    """(category, our amount, explanation) of a hospital row against the recorded claim."""
    if claim is None:
        return Category.MISSING_HERE, None, "本系统没有该医疗机构此结算单号的理赔结算"
    if claim.status == Claim.Status.VOID:
        return Category.MISSING_HERE, None, "本系统中该结算单已作废"
    mismatches = []
    if row.document_number and row.document_number != claim.document_number:
        mismatches.append("证件号码与本系统理赔的参保人不一致")
    if claim.status not in Claim.COUNTED:
        return Category.AMOUNT, None, "；".join([*mismatches, f"本系统尚未结算（状态：{Claim.Status(claim.status).label}）"])
    ours = claim.fund_total
    return _verdict(mismatches, row.amount != ours and f"医院基金支付 {fmt(row.amount)} 元，本系统基金支付合计 {fmt(ours)} 元，"
                                                     f"相差 {fmt(row.amount - ours)} 元", ours)


def _payments(scheme_id: int, receipts: Iterable[str]) -> dict[str, _Payment]:
    rows = Payment.objects.filter(InArray(F("receipt_no"), list(receipts)), scheme_id=scheme_id).order_by()
    return {receipt: _Payment(pk, self_paid, number, name, year, paid)
            for pk, receipt, self_paid, number, name, year, paid in rows.values_list(
                "pk", "receipt_no", "self_paid", "enrollment__person__document_number",
                "enrollment__person__name", "enrollment__plan_year__year", "paid_date")}


SETTLED_ON = Coalesce("discharge_date", "service_date")  # a claim's 结算日期 (the hospital's list)


def _claims(hospital_id: int, numbers: Iterable[str]) -> dict[str, _Claim]:
    rows = Claim.objects.filter(InArray(F("settlement_no"), list(numbers)), hospital_id=hospital_id).order_by()
    return {no: _Claim(pk, status, fund, number, name, year, settled)
            for pk, no, status, fund, number, name, year, settled in rows.annotate(settled_on=SETTLED_ON).values_list(
                "pk", "settlement_no", "status", "fund_total", "person__document_number", "person__name", "year",
                "settled_on")}


# --------------------------------------------------------------------------- runs

@transaction.atomic
def reconciliation_run_open(*, source: str, region, month: date, scheme=None, hospital=None,
                            file_name: str = "", acting_user) -> ReconciliationRun:
    """A new current run of the fund (tax: ``scheme``) or hospital for ``month``; the
    run it replaces (an earlier import of the same month) is kept, no longer current."""
    month = month_of(month)
    key = {"scheme": scheme} if source == Source.TAX else {"hospital": hospital}
    ReconciliationRun.objects.select_for_update().filter(source=source, month=month, is_current=True,
                                                         **key).update(is_current=False)
    return ReconciliationRun.objects.create(source=source, region=region, month=month, scheme=scheme,
                                            hospital=hospital, file_name=file_name[:255],
                                            imported_by=acting_user)


def _line(run, row: FileRow, category, our_amount, detail, **link) -> ReconciliationLine:
    return ReconciliationLine(
        run=run, row=row.row, category=category,
        state=State.NONE if category == Category.MATCHED else State.OPEN,
        reference=row.reference, document_number=row.document_number, name=row.name, year=row.year,
        occurred_on=row.occurred_on, amount=row.amount, our_amount=our_amount, detail=detail[:300], **link)


@transaction.atomic
def reconciliation_rows_add(*, run: ReconciliationRun, rows: list[FileRow], acting_user) -> dict[str, int]:
    """Match a chunk of the file's rows against the payments (tax) or claims (hospital)
    in bulk — one query per chunk, dict lookups per row — and write their lines.
    Returns the count per category."""
    counts: dict[str, int] = {}
    lines = []
    if run.source == Source.TAX:
        found = _payments(run.scheme_id, {r.reference for r in rows})
        for row in rows:
            payment = found.get(row.reference)
            category, ours, detail = _tax_result(row, payment)
            lines.append(_line(run, row, category, ours, detail, payment_id=payment.pk if payment else None))
            counts[category] = counts.get(category, 0) + 1
    else:
        found = _claims(run.hospital_id, {r.reference for r in rows})
        for row in rows:
            claim = found.get(row.reference)
            category, ours, detail = _hospital_result(row, claim)
            lines.append(_line(run, row, category, ours, detail, claim_id=claim.pk if claim else None))
            counts[category] = counts.get(category, 0) + 1
    ReconciliationLine.objects.bulk_create(lines, batch_size=1000)
    return counts


def _found_elsewhere(run: ReconciliationRun) -> Q:
    """Lines of the current runs of the same fund (or hospital) that hold a row of a file."""
    key = Q(run__scheme_id=run.scheme_id) if run.source == Source.TAX else Q(run__hospital_id=run.hospital_id)
    return key & Q(run__source=run.source, run__is_current=True, row__isnull=False)


@transaction.atomic
def reconciliation_run_complete(*, run: ReconciliationRun, acting_user) -> int:
    """After the last row: one 税务缺失 / 医院缺失 line per recorded payment (个人缴费 > 0,
    paid in the month) or claim (not void, settled — discharged, or treated when no
    discharge date — in the month) that no current file of the fund holds; and the open
    缺失 differences of the fund's other months whose payment or claim this file holds
    are re-checked. Returns the number of lines added."""
    start, end = run.month, month_end(run.month)
    held = ReconciliationLine.objects.filter(_found_elsewhere(run))
    if run.source == Source.TAX:
        link, fund, detail = "payment_id", Q(run__scheme_id=run.scheme_id), "本系统已登记该笔缴费，税务征收明细中没有"
        recorded = (Payment.objects.filter(scheme_id=run.scheme_id, paid_date__range=(start, end), self_paid__gt=0)
                    .exclude(pk__in=held.exclude(payment_id=None).values(link)).order_by("paid_date", "pk")
                    .values_list("pk", "receipt_no", "self_paid", "enrollment__person__document_number",
                                 "enrollment__person__name", "enrollment__plan_year__year", "paid_date"))
    else:
        link, fund, detail = "claim_id", Q(run__hospital_id=run.hospital_id), "本系统已登记该结算单，医院结算清单中没有"
        recorded = (Claim.objects.filter(hospital_id=run.hospital_id).exclude(status=Claim.Status.VOID)
                    .annotate(settled_on=SETTLED_ON).filter(settled_on__range=(start, end))
                    .exclude(pk__in=held.exclude(claim_id=None).values(link)).order_by("settled_on", "pk")
                    .values_list("pk", "settlement_no", "fund_total", "person__document_number", "person__name",
                                 "year", "settled_on"))
    lines = [ReconciliationLine(run=run, category=Category.MISSING_THERE, state=State.OPEN, reference=reference,
                                document_number=number, name=name, year=year, occurred_on=day, our_amount=ours,
                                detail=detail, **{link: pk})
             for pk, reference, ours, number, name, year, day in recorded.iterator(chunk_size=5000)]
    mine = ReconciliationLine.objects.filter(run=run).exclude(**{link: None}).values(link)
    others = fund & Q(**{f"{link}__in": mine})
    ReconciliationLine.objects.bulk_create(lines, batch_size=1000)
    stale = (ReconciliationLine.objects.filter(others, run__source=run.source, run__is_current=True,
                                               category=Category.MISSING_THERE, state=State.OPEN)
             .exclude(run=run).select_related("run"))
    for line in stale:
        _recheck(line, acting_user, note_prefix=f"{month_words(run.month)}的对账文件中已有该笔记录")
    return len(lines)


# --------------------------------------------------------------------------- differences

def _note(line, action, text, acting_user) -> DifferenceNote:
    return DifferenceNote.objects.create(line=line, action=action, text=text, created_by=acting_user)


def _close(line, acting_user, text: str) -> None:
    line.state = State.CORRECTED
    line.resolved_by, line.resolved_at = acting_user, timezone.now()
    line.resolution_note = text


def _recheck(line: ReconciliationLine, acting_user, *, note_prefix: str = "") -> str:
    """Match the line again against the tables as they are now; close it (已更正) when it
    matches, else keep it open with the new finding. Returns what was found."""
    run = line.run
    if line.row is not None:  # a row of the file: look the payment / claim up again
        row = FileRow(line.row, line.reference, line.document_number, line.name, line.occurred_on,
                      line.amount, line.year)
        if run.source == Source.TAX:
            payment = _payments(run.scheme_id, [line.reference]).get(line.reference)
            category, ours, detail = _tax_result(row, payment)
            line.payment_id = payment.pk if payment else None
        else:
            claim = _claims(run.hospital_id, [line.reference]).get(line.reference)
            category, ours, detail = _hospital_result(row, claim)
            line.claim_id = claim.pk if claim else None
        line.our_amount = ours
        if category == Category.MATCHED:
            text = "复核相符：本系统记录已更正"
            _close(line, acting_user, text)
        else:
            line.category, line.detail = category, detail[:300]
            text = f"复核仍不符：{detail}"
    else:  # recorded here, lacking in the file
        held = ReconciliationLine.objects.filter(_found_elsewhere(run)).exclude(pk=line.pk)
        if run.source == Source.TAX:
            payment = Payment.objects.filter(pk=line.payment_id).first() if line.payment_id else None
            if payment is None:
                text = "复核相符：本系统已无该笔缴费记录"
            elif payment.self_paid == 0:
                text = "复核相符：该笔缴费已无个人缴费部分"
            elif held.filter(payment_id=payment.pk).exists():
                text = "复核相符：税务征收明细中已有该笔缴费"
            else:
                text = ""
            if payment is not None:
                line.our_amount = payment.self_paid
        else:
            claim = Claim.objects.filter(pk=line.claim_id).first() if line.claim_id else None
            if claim is None or claim.status == Claim.Status.VOID:
                text = "复核相符：本系统中该结算单已作废或不存在"
            elif held.filter(claim_id=claim.pk).exists():
                text = "复核相符：医院结算清单中已有该结算单"
            else:
                text = ""
            if claim is not None:
                line.our_amount = claim.fund_total
        if text:
            _close(line, acting_user, text)
        else:
            text = "复核仍不符：" + line.detail
    if note_prefix:
        text = f"{note_prefix}；{text}"
    line.save()
    _note(line, DifferenceNote.Action.RECHECK, text, acting_user)
    return text


@transaction.atomic
def difference_recheck(*, line: ReconciliationLine, acting_user) -> str:
    """复核: after a correction through the normal services (a missing payment recorded,
    a claim re-settled or entered), match the difference again; it closes as 已更正 when
    it now agrees. Only an open difference is re-checked."""
    _require(acting_user)
    line = ReconciliationLine.objects.select_for_update().select_related("run").get(pk=line.pk)
    if line.state != State.OPEN:
        raise ValidationError("只有待处理的差异可以复核")
    return _recheck(line, acting_user)


@transaction.atomic
def reconciliation_run_recheck(*, run: ReconciliationRun, acting_user) -> tuple[int, int]:
    """复核 every open difference of a run: (closed, still open)."""
    _require(acting_user)
    closed = still = 0
    for line in ReconciliationLine.objects.select_for_update().filter(run=run, state=State.OPEN).select_related("run"):
        _recheck(line, acting_user)
        if line.state == State.OPEN:
            still += 1
        else:
            closed += 1
    return closed, still


@transaction.atomic
def difference_accept(*, line: ReconciliationLine, note: str, acting_user) -> ReconciliationLine:
    """认可: the difference is explained and accepted as it is (e.g. paid at the end of
    the month, booked by the tax bureau the next month); the note is required."""
    _require(acting_user)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "认可差异须填写说明"})
    line = ReconciliationLine.objects.select_for_update().get(pk=line.pk)
    if line.state != State.OPEN:
        raise ValidationError("只有待处理的差异可以认可")
    line.state = State.ACCEPTED
    line.resolved_by, line.resolved_at, line.resolution_note = acting_user, timezone.now(), note
    line.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_note"])
    _note(line, DifferenceNote.Action.ACCEPT, note, acting_user)
    return line


@transaction.atomic
def difference_note(*, line: ReconciliationLine, text: str, acting_user) -> DifferenceNote:
    """备注: a remark on a difference (any state); the state does not change."""
    _require(acting_user)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"note": "请填写备注内容"})
    return _note(line, DifferenceNote.Action.NOTE, text, acting_user)
