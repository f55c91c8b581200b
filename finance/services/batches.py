"""Writes of the payment batches (issue 16 §4; docs/money.md §支付批次与银行回盘).

- ``batch_create``: one fund's payable documents — today the approved claims (已审核)
  with an outstanding 应付待遇 of that fund — become the lines of a new batch for one
  bank (代发银行), payee copied from the person's bank fields; a document whose person has
  no complete account is left out and named. The region row is locked first (batches of
  one region are made one at a time: numbers without gaps, no document taken twice),
  then the documents; the database's ``payment_line_one_open`` refuses a second open line
  of a document in any case.
- ``batch_export``: the bank file (xlsx or csv; 序号, 户名, 账号, 开户行, 金额, 用途,
  complete — the pages mask the account), audited as a 下载; the first export moves the
  batch 草稿 → 已导出.
- ``batch_return_import``: the bank's returned file (回盘): every row names a line by its
  序号 and repeats its 账号 and 金额 (both must agree), with 处理结果 成功/失败, the
  失败原因 of a failure and the 银行流水号. All or nothing: any bad row refuses the whole
  file with every row's Chinese message. A line already answered the same way is left
  alone, so importing the same file again changes nothing (and says so); a later file
  may answer the lines an earlier one left open. A success line pays its document
  (``SOURCES``: a claim through ``claims.services.claim_pay``, booking 待遇支付 with the
  reference ``批次号/序号``); a failure line hands it back to 待支付 with the bank's reason.
  Segregation of duties: not by whoever generated the batch (``DutySeparation``).
- ``batch_cancel``: a draft (not yet exported) withdrawn; its documents are free again.

``SOURCES`` is the one place that knows the kinds of documents a batch pays: approved claims
(each fund's outstanding 应付待遇) and approved refunds (待支付, paid to the refund's own
payee; ``enrollment.services.refund_mark_paid`` / ``refund_payment_failed``).
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from claims import postings as claim_postings
from claims import services as claim_services
from claims.models import Claim
from enrollment.models import Person, Refund
from enrollment.selectors import refunds as refund_selectors
from enrollment.services import refunds as refund_services
from ledger.models import Journal, SourceKind
from policies.access import user_can_access
from policies.duties import separation_refusal
from policies.models import DutySeparation, Region
from sheets.parsing import CellError, number_text, parse_decimal, parse_int, text
from sheets.readers import FileError, SheetFile
from sheets.writers import write_table

from ..models import PaymentBatch, PaymentLine
from ..selectors.batches import BANK_FILE_HEADERS, bank_file_rows, batch_totals, line_reference

SUCCESS_WORDS = {"成功", "支付成功", "处理成功"}
FAILURE_WORDS = {"失败", "支付失败", "处理失败"}


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Payable:
    """One document a fund owes money on, as a batch line would pay it."""

    source_kind: str
    source_id: int
    label: str  # 结算单号 …
    person: Person
    amount: Decimal
    purpose: str
    payee: tuple[str, str, str] | None = None
    """户名, 账号, 开户行 when the document names its own payee (a refund); else the person's."""

    def payee_fields(self) -> tuple[str, str, str]:
        if self.payee is not None:
            return tuple((value or "").strip() for value in self.payee)
        person = self.person
        return ((person.bank_account_name or "").strip(), (person.bank_account_number or "").strip(),
                (person.bank_name or "").strip())


@dataclass(frozen=True)
class SourceType:
    """How a batch pays one kind of document."""

    label: str
    payables: Callable  # (scheme, ids or None) -> list[Payable], the documents locked
    pay: Callable  # (line, reference, paid_on, acting_user) -> None
    fail: Callable  # (line, reason, reference, acting_user) -> None
    paid_kind: str = ""  # the Journal.Kind a success books (finance.checks)
    extra: dict = field(default_factory=dict)


def _claim_payables(scheme, ids) -> list[Payable]:
    qs = Claim.objects.filter(status=Claim.Status.APPROVED, region_id=scheme.region_id)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    claims = list(qs.select_for_update(of=("self",)).order_by("pk"))
    owed = claim_postings.outstanding([c.pk for c in claims])
    persons = Person.objects.in_bulk({c.person_id for c in claims})
    return [Payable(source_kind=SourceKind.CLAIM, source_id=c.pk, label=c.settlement_no,
                    person=persons[c.person_id], amount=owed[(c.pk, scheme.pk)],
                    purpose=f"{scheme.name}待遇 {c.settlement_no}"[:60])
            for c in claims if owed.get((c.pk, scheme.pk), 0) > 0]


def _claim_pay(line, reference, paid_on, acting_user) -> None:
    claim_services.claim_pay(claim=Claim.objects.get(pk=line.source_id), acting_user=acting_user,
                             scheme_id=line.scheme_id, amount=line.amount, reference=reference,
                             paid_on=paid_on)


def _claim_fail(line, reason, reference, acting_user) -> None:
    claim_services.claim_payment_failed(claim=Claim.objects.get(pk=line.source_id), acting_user=acting_user,
                                        reason=reason, reference=reference)


def _refund_payables(scheme, ids) -> list[Payable]:
    qs = refund_selectors.refunds_payable(scheme=scheme)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    refunds = list(qs.select_for_update(of=("self",)))
    return [Payable(source_kind=SourceKind.REFUND, source_id=r.pk, label=str(r),
                    person=r.payment.enrollment.person, amount=r.amount,
                    purpose=f"{scheme.name}退费 {r}"[:60],
                    payee=(r.payee_name, r.payee_account, r.payee_bank))
            for r in refunds]


def _refund_pay(line, reference, paid_on, acting_user) -> None:
    refund_services.refund_mark_paid(refund=Refund.objects.get(pk=line.source_id), reference=reference,
                                     paid_on=paid_on, acting_user=acting_user)


def _refund_fail(line, reason, reference, acting_user) -> None:
    refund_services.refund_payment_failed(refund=Refund.objects.get(pk=line.source_id),
                                          reason=f"银行支付失败（{reference}）：{reason}"[:500],
                                          acting_user=acting_user)


SOURCES: dict[str, SourceType] = {
    SourceKind.CLAIM: SourceType(label="理赔", payables=_claim_payables, pay=_claim_pay,
                                 fail=_claim_fail, paid_kind=Journal.Kind.CLAIM_PAID),
    SourceKind.REFUND: SourceType(label="退费", payables=_refund_payables, pay=_refund_pay,
                                  fail=_refund_fail, paid_kind=Journal.Kind.REFUND_PAID),
}


# --------------------------------------------------------------------------- helpers


def _check(acting_user, perm: str, batch_or_scheme=None) -> None:
    if acting_user is None:
        return
    if not acting_user.has_perm(perm):
        raise PermissionDenied("您没有执行此操作的权限")
    if batch_or_scheme is not None and not user_can_access(acting_user, batch_or_scheme, "region"):
        raise PermissionDenied("该支付批次不属于您负责的统筹区")


LISTED = 20
"""At most this many left-out documents are named in a message (then a count)."""


def _listed(items: list[str]) -> str:
    shown = "；".join(items[:LISTED])
    return shown + (f"；另有 {len(items) - LISTED} 笔" if len(items) > LISTED else "")


def _missing_payee(payable: Payable) -> str:
    missing = [label for label, value in zip(("账户名", "银行账号", "开户银行"), payable.payee_fields(),
                                             strict=True) if not value]
    return "、".join(missing)


def _next_number(region: Region, today) -> str:
    prefix = f"ZF{region.code}{today:%Y%m%d}"
    taken = PaymentBatch.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


@dataclass
class BatchCreated:
    batch: PaymentBatch
    left_out: list[str]

    @property
    def message(self) -> str:
        totals = batch_totals(self.batch)["total"]
        text_ = f"已生成支付批次“{self.batch.number}”：{totals['count']} 笔，合计 {totals['amount']:,.2f} 元"
        if self.left_out:
            text_ += (f"；以下 {len(self.left_out)} 笔未纳入（参保人银行信息不全，请补录后再生成）："
                      + _listed(self.left_out))
        return text_


# --------------------------------------------------------------------------- create


@transaction.atomic
def batch_create(*, scheme, bank: str, acting_user, source_ids=None,
                 source_kind: str = SourceKind.CLAIM, note: str = "") -> BatchCreated:
    """A new batch of ``scheme`` (a region's fund) for ``bank`` with every payable document
    of ``source_kind`` (or those of ``source_ids``) not already in an open line."""
    _check(acting_user, "finance.add_paymentbatch", scheme)
    bank = (bank or "").strip()
    if not bank:
        raise ValidationError({"bank": "请填写代发银行"})
    region = Region.objects.select_for_update().get(pk=scheme.region_id)
    source = SOURCES[source_kind]
    payables = source.payables(scheme, source_ids)
    taken = set(PaymentLine.objects.filter(
        source_kind=source_kind, scheme=scheme, status=PaymentLine.Status.PENDING,
        source_id__in=[p.source_id for p in payables]).values_list("source_id", flat=True))
    lines, left_out = [], []
    for payable in payables:
        if payable.source_id in taken:
            continue
        missing = _missing_payee(payable)
        if missing:
            left_out.append(f"{source.label}“{payable.label}”（{payable.person.name}）缺少{missing}")
            continue
        lines.append(payable)
    if not lines:
        text_ = f"{scheme}没有可支付的{source.label}（已审核、尚有应付待遇且不在待回盘批次中）"
        if left_out:
            text_ += f"；{len(left_out)} 笔银行信息不全未能纳入：" + _listed(left_out)
        raise ValidationError(text_, code="nothing_to_pay")
    today = timezone.localdate()
    batch = PaymentBatch(number=_next_number(region, today), scheme=scheme, region=region, bank=bank[:60],
                         note=note[:200], created_by=acting_user)
    batch._history_user = acting_user
    batch.save()
    rows = [PaymentLine(batch=batch, seq=seq, scheme=scheme, source_kind=p.source_kind,
                        source_id=p.source_id, source_label=p.label[:80], person=p.person,
                        payee_name=p.payee_fields()[0], account_number=p.payee_fields()[1],
                        bank_name=p.payee_fields()[2], amount=p.amount, purpose=p.purpose)
            for seq, p in enumerate(lines, start=1)]
    try:
        with transaction.atomic():
            PaymentLine.objects.bulk_create(rows)
    except IntegrityError as exc:  # another batch took one of them at the same moment
        raise ValidationError("其他人员正在为相同的单据生成支付批次，请稍后重试", code="concurrent") from exc
    return BatchCreated(batch=batch, left_out=left_out)


@transaction.atomic
def batch_cancel(*, batch: PaymentBatch, acting_user, reason: str) -> PaymentBatch:
    """作废 a draft batch (its file never downloaded): its lines are freed."""
    _check(acting_user, "finance.change_paymentbatch", batch)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"note": "请填写作废原因"})
    locked = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != PaymentBatch.Status.DRAFT:
        raise ValidationError(f"支付批次“{locked.number}”状态为“{locked.get_status_display()}”，"
                              f"银行文件已导出，不能作废；请导入银行回盘", code="invalid_status")
    for line in locked.lines.filter(status=PaymentLine.Status.PENDING):
        line.status = PaymentLine.Status.CANCELLED
        line._history_user = acting_user
        line.save(update_fields=["status"])
    locked.status = PaymentBatch.Status.CANCELLED
    locked.note = f"作废：{reason}"[:200]
    locked._history_user = acting_user
    locked.save(update_fields=["status", "note"])
    return locked


# --------------------------------------------------------------------------- export


def bank_file_name(batch: PaymentBatch, fmt: str) -> str:
    return f"银行代发文件_{batch.number}.{fmt}"


@transaction.atomic
def batch_export(*, batch: PaymentBatch, fmt: str, acting_user, request=None) -> tuple[str, bytes]:
    """The bank file of ``batch`` as ``(file name, content)``; audited (下载)."""
    _check(acting_user, "finance.export_paymentbatch", batch)
    if fmt not in ("xlsx", "csv"):
        raise ValidationError("银行文件只能导出为 xlsx 或 csv")
    locked = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status == PaymentBatch.Status.CANCELLED:
        raise ValidationError(f"支付批次“{locked.number}”已作废，不能导出银行文件")
    rows = bank_file_rows(locked)
    buffer = io.BytesIO()
    write_table(buffer, BANK_FILE_HEADERS, rows, fmt=fmt, title=locked.number)
    name = bank_file_name(locked, fmt)
    if locked.exported_at is None:
        locked.exported_at, locked.exported_by = timezone.now(), acting_user
        locked.status = PaymentBatch.Status.EXPORTED
        locked._history_user = acting_user
        locked.save(update_fields=["exported_at", "exported_by", "status"])
    audit_record(action=Action.DOWNLOAD, user=acting_user, request=request, obj=locked,
                 details={"which": "银行代发文件", "file": name, "rows": len(rows),
                          "amount": f"{sum((r[4] for r in rows), Decimal(0)):.2f}"})
    return name, buffer.getvalue()


# --------------------------------------------------------------------------- returned file


@dataclass
class ReturnImported:
    batch: PaymentBatch
    succeeded: int = 0
    failed: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.succeeded + self.failed

    @property
    def message(self) -> str:
        if not self.changed:
            return (f"回盘文件的 {self.unchanged} 笔结果此前均已导入，本次未作任何修改"
                    f"（支付批次“{self.batch.number}”）")
        text_ = (f"已导入支付批次“{self.batch.number}”的银行回盘：成功 {self.succeeded} 笔，"
                 f"失败 {self.failed} 笔")
        if self.unchanged:
            text_ += f"，{self.unchanged} 笔此前已导入、未变"
        pending = self.batch.lines.filter(status=PaymentLine.Status.PENDING).count()
        if pending:
            text_ += f"；尚有 {pending} 笔待回盘"
        return text_


RETURN_COLUMNS = {"序号": True, "账号": True, "金额": True, "处理结果": True, "失败原因": False,
                  "银行流水号": False}
"""The returned file's columns read (other columns — 户名, 开户行, 用途 — are ignored);
True = required."""


def _columns(sheet: SheetFile) -> dict[str, int]:
    index = {}
    for i, header in enumerate(sheet.headers):
        name = header.replace(" ", "").replace("　", "")
        if name in RETURN_COLUMNS and name not in index:
            index[name] = i
    missing = [name for name, required in RETURN_COLUMNS.items() if required and name not in index]
    if missing:
        raise ValidationError(f"回盘文件缺少列：{'、'.join(missing)}（应有 序号、账号、金额、处理结果，"
                              f"失败时填写失败原因，可填银行流水号）", code="bad_file")
    return index


@dataclass(frozen=True)
class _Answer:
    row: int
    line: PaymentLine
    success: bool
    reason: str
    reference: str


def _read_answers(sheet: SheetFile, lines: dict[int, PaymentLine]) -> tuple[list[_Answer], list[str]]:
    columns = _columns(sheet)
    answers, errors, seen = [], [], {}

    def cell(values, name):
        return values[columns[name]] if name in columns else None

    for number, values in sheet.rows():
        where = f"第 {number} 行"
        try:
            seq = parse_int(cell(values, "序号"))
        except (CellError, TypeError, ValueError):
            errors.append(f"{where}：序号无效（{text(cell(values, '序号') or '')}）")
            continue
        if seq in seen:
            errors.append(f"{where}：序号 {seq} 与第 {seen[seq]} 行重复")
            continue
        seen[seq] = number
        line = lines.get(seq)
        if line is None:
            errors.append(f"{where}：序号 {seq} 不是本批次的明细")
            continue
        problems = []
        try:
            account = number_text(cell(values, "账号"), "账号") if cell(values, "账号") is not None else ""
        except CellError as exc:
            account = ""
            problems.append(str(exc))
        if account != line.account_number:
            problems.append(f"账号与本批次第 {seq} 笔不符")
        raw_amount = cell(values, "金额")
        amount = None
        if raw_amount in (None, ""):
            problems.append("金额未填写")
        else:
            try:
                amount = parse_decimal(raw_amount)
            except CellError as exc:
                problems.append(str(exc))
        if amount is not None and amount != line.amount:
            problems.append(f"金额 {amount:,.2f} 元与本批次第 {seq} 笔的 {line.amount:,.2f} 元不符")
        result = text(cell(values, "处理结果") or "")
        reason = text(cell(values, "失败原因") or "")
        reference = text(cell(values, "银行流水号") or "")[:60]
        if result in SUCCESS_WORDS:
            success = True
        elif result in FAILURE_WORDS:
            success = False
            if not reason:
                problems.append("处理结果为失败时须填写失败原因")
        else:
            success = None
            problems.append(f"处理结果应为“成功”或“失败”，不能是“{result}”" if result else "处理结果未填写")
        if success is not None and line.status in (PaymentLine.Status.SUCCESS, PaymentLine.Status.FAILED):
            before = line.status == PaymentLine.Status.SUCCESS
            if before != success:
                problems.append(f"本批次第 {seq} 笔已于{timezone.localtime(line.answered_at):%Y-%m-%d %H:%M}"
                                f"回盘为“{line.get_status_display()}”，不能改为“{'成功' if success else '失败'}”")
        if problems:
            errors.append(f"{where}：" + "；".join(problems))
            continue
        answers.append(_Answer(row=number, line=line, success=bool(success), reason=reason[:200],
                               reference=reference))
    return answers, errors


@transaction.atomic
def batch_return_import(*, batch: PaymentBatch, path, name: str, acting_user) -> ReturnImported:
    """Import the bank's returned file of ``batch`` (all or nothing; idempotent)."""
    _check(acting_user, "finance.import_bank_return", batch)
    locked = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    refusal = separation_refusal(DutySeparation.Act.BANK_RETURN_IMPORT, acting_user,
                                 {DutySeparation.Prior.BATCH_CREATE: locked.created_by_id})
    if refusal:
        raise ValidationError(refusal, code="duty_separation")
    if locked.status == PaymentBatch.Status.DRAFT:
        raise ValidationError(f"支付批次“{locked.number}”的银行文件尚未导出，不能导入回盘")
    if locked.status == PaymentBatch.Status.CANCELLED:
        raise ValidationError(f"支付批次“{locked.number}”已作废，不能导入回盘")
    try:
        sheet = SheetFile(path, name=name)
    except FileError as exc:
        raise ValidationError(exc.message, code="bad_file") from exc
    lines = {line.seq: line for line in
             locked.lines.select_for_update().exclude(status=PaymentLine.Status.CANCELLED)}
    try:
        answers, errors = _read_answers(sheet, lines)
    except FileError as exc:
        raise ValidationError(exc.message, code="bad_file") from exc
    if errors:
        raise ValidationError(errors, code="bad_rows")
    if not answers:
        raise ValidationError("回盘文件中没有数据行", code="bad_file")
    result = ReturnImported(batch=locked)
    now, today = timezone.now(), timezone.localdate()
    for answer in answers:
        line = answer.line
        if line.status != PaymentLine.Status.PENDING:
            result.unchanged += 1
            continue
        reference = line_reference(locked.number, line.seq)
        source = SOURCES[line.source_kind]
        try:
            if answer.success:
                source.pay(line, reference, today, acting_user)
            else:
                source.fail(line, answer.reason, reference, acting_user)
        except (ValidationError, PermissionDenied) as exc:
            text_ = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise ValidationError([f"第 {answer.row} 行（第 {line.seq} 笔）：{text_}"], code="bad_rows") from exc
        line.status = PaymentLine.Status.SUCCESS if answer.success else PaymentLine.Status.FAILED
        line.failure_reason = "" if answer.success else answer.reason
        line.bank_reference = answer.reference
        line.answered_at = now
        line._history_user = acting_user
        line.save(update_fields=["status", "failure_reason", "bank_reference", "answered_at"])
        if answer.success:
            result.succeeded += 1
        else:
            result.failed += 1
    if result.changed:
        statuses = set(locked.lines.exclude(status=PaymentLine.Status.CANCELLED)
                       .values_list("status", flat=True))
        if PaymentLine.Status.PENDING not in statuses:
            locked.status = (PaymentBatch.Status.RETURNED if statuses == {PaymentLine.Status.SUCCESS}
                             else PaymentBatch.Status.FAILED if statuses == {PaymentLine.Status.FAILED}
                             else PaymentBatch.Status.PARTLY_FAILED)
        locked.returned_at, locked.returned_by, locked.return_file = now, acting_user, name[:200]
        locked._history_user = acting_user
        locked.save(update_fields=["status", "returned_at", "returned_by", "return_file"])
    audit_record(action=Action.IMPORT, user=acting_user, obj=locked,
                 details={"operation": "导入银行回盘", "file": name, "succeeded": result.succeeded,
                          "failed": result.failed, "unchanged": result.unchanged})
    return result
