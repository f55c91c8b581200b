"""Refunds of contributions (退费; issue 16 §2, docs/money.md §退费), HackSoft services:
keyword-only, ``acting_user``, one transaction each, the enrollment's row locked first
(the lock ``payment_record`` takes too), so that two refunds of one enrollment, or a
refund and a payment, never decide on the same figures at once.

- ``refund_request`` (经办员 登记退费): only the self-paid part of one payment is
  refundable, less its refunds not rejected; 待复核.
- ``refund_approve`` (复核通过, a second person: ``policies.duties``): refused while the
  ledger holds 待遇支出 of the person in the enrollment's region and plan year; books
  退费核定 (缴费收入 debit, 应退缴费 credit) on the payment's fund; 待支付; ends the
  coverage when the refund says so (``selectors.ends_coverage``).
- ``refund_reject`` (驳回, with the reason).
- ``refund_mark_paid`` / ``refund_payment_failed``: the bank's answer for a 待支付 refund
  (the payment batches of ``finance`` call them): 退费支付 booked and 已支付, or the
  failure reason recorded and still 待支付. Marking paid again with the same reference
  changes nothing (a re-imported returned file).

Refusals are ``ValidationError`` keyed by field with a Chinese message; a user without
the permission or outside the region gets ``PermissionDenied``.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from enrollment import selectors
from enrollment.models import Enrollment, Payment, Refund
from ledger import postings
from ledger import services as ledger
from policies.access import user_can_access
from policies.duties import Act, Prior, separation_refusal

from .enrollments import _check, _save, terminate_locked

REFUND_REGION = selectors.refunds.REFUND_REGION
APPROVE_PERMISSION = "enrollment.approve_refund"


def _locked(refund: Refund) -> tuple[Enrollment, Refund]:
    """Lock the refund's enrollment, then the refund; both fresh from the database."""
    enrollment_id = (Payment.objects.filter(pk=refund.payment_id)
                     .values_list("enrollment_id", flat=True).get())
    enrollment = (Enrollment.objects.select_for_update()
                  .select_related("person", "plan_year__scheme__region").get(pk=enrollment_id))
    locked = (Refund.objects.select_for_update()
              .select_related("payment__enrollment__plan_year__scheme", "payment__scheme")
              .get(pk=refund.pk))
    return enrollment, locked


def _status_refusal(refund: Refund, wanted: str, act: str) -> ValidationError:
    return ValidationError(
        {"status": f"{refund}当前为“{refund.get_status_display()}”，只有“{Refund.Status(wanted).label}”"
                   f"的退费才能{act}"}, code="status")


def _in_region(acting_user, refund: Refund) -> None:
    if acting_user is not None and not user_can_access(acting_user, refund, REFUND_REGION):
        raise PermissionDenied("该记录不属于您负责的统筹区")


def _fund(refund: Refund) -> dict:
    """The ledger coordinates of the refund: the payment's fund, region, year, person."""
    payment = refund.payment
    return {"refund_id": refund.pk, "scheme_id": payment.scheme_id,
            "region_id": payment.scheme.region_id, "year": payment.enrollment.plan_year.year,
            "person_id": payment.enrollment.person_id, "amount": refund.amount}


@transaction.atomic
def refund_request(*, payment: Payment, amount: Decimal, reason: str, acting_user,
                   reason_note: str = "", terminate_on: date | None = None,
                   payee_name: str | None = None, payee_account: str | None = None,
                   payee_bank: str | None = None) -> Refund:
    """登记退费 of ``amount`` of ``payment``'s self-paid part (待复核). The payee defaults
    to the person's bank fields (``bank_account_name``, ``bank_account_number``,
    ``bank_name``)."""
    _check(acting_user, "enrollment.add_refund", payment, "scheme__region")
    enrollment = (Enrollment.objects.select_for_update()
                  .select_related("person", "plan_year__scheme").get(pk=payment.enrollment_id))
    payment = Payment.objects.select_related("enrollment__plan_year__scheme").get(pk=payment.pk)
    defaults = selectors.payee_defaults(enrollment.person)
    fields = {
        "reason_note": (reason_note or "").strip(), "terminate_on": terminate_on,
        "payee_name": (payee_name if payee_name is not None else defaults["payee_name"]).strip(),
        "payee_account": (payee_account if payee_account is not None
                          else defaults["payee_account"]).strip().replace(" ", ""),
        "payee_bank": (payee_bank if payee_bank is not None else defaults["payee_bank"]).strip(),
    }
    refusals = selectors.refund_refusals(payment=payment, amount=amount, reason=reason, **fields)
    if refusals:
        raise ValidationError(refusals)
    refund = Refund(payment=payment, amount=postings.money(amount), reason=reason,
                    recorded_by=acting_user if getattr(acting_user, "pk", None) else None,
                    **fields)
    refund.full_clean()
    return _save(refund, acting_user)


@transaction.atomic
def refund_approve(*, refund: Refund, acting_user) -> Refund:
    """复核通过: a person other than the one who recorded it (``DutySeparation``); refused
    while benefits of the period are booked; books 退费核定 and, when
    ``selectors.ends_coverage``, terminates the enrollment (and the schemes that follow it) from
    ``terminate_on`` — for a full refund from the coverage start, so no day stays
    covered."""
    _check(acting_user, APPROVE_PERMISSION)
    enrollment, locked = _locked(refund)
    _in_region(acting_user, locked)
    if locked.status != Refund.Status.PENDING:
        raise _status_refusal(locked, Refund.Status.PENDING, "复核通过")
    refusal = separation_refusal(Act.REFUND_APPROVE, acting_user,
                                 {Prior.REFUND_RECORD: locked.recorded_by_id})
    if refusal:
        raise ValidationError(refusal, code="duty_separation")
    refusal = selectors.benefits_refusal(enrollment)
    if refusal:
        raise ValidationError(refusal, code="benefits_paid")
    left = locked.payment.self_paid - selectors.refunded(
        locked.payment, statuses=Refund.BOOKED, exclude_pk=locked.pk)
    if locked.amount > left:  # a defect elsewhere: the request checked it under the same lock
        raise ValidationError({"amount": f"退费金额{locked.amount:,.2f}元超过可退金额{left:,.2f}元"})
    now = timezone.now()
    ledger.journals_write([postings.refund(**_fund(locked), booked_on=timezone.localdate(now),
                                           memo=f"退费核定：{locked.get_reason_display()}")],
                          acting_user=acting_user)
    ends = selectors.ends_coverage(enrollment, locked)
    locked.status = Refund.Status.PAYABLE
    locked.approved_by = acting_user if getattr(acting_user, "pk", None) else None
    locked.approved_at = now
    locked.ends_coverage = ends
    _save(locked, acting_user)
    if ends and enrollment.status != Enrollment.Status.TERMINATED:
        day = locked.terminate_on or enrollment.coverage_start or date(enrollment.plan_year.year, 1, 1)
        note = locked.reason_note or ("全额退费" if locked.reason not in Refund.ENDING_REASONS else "")
        terminate_locked(enrollment, terminate_date=day, acting_user=acting_user,
                         reason=f"退费（{locked}，{locked.get_reason_display()}）"
                                + (f"：{note}" if note else ""))
    return locked


@transaction.atomic
def refund_reject(*, refund: Refund, reason: str, acting_user) -> Refund:
    """驳回 a 待复核 refund with ``reason``; nothing is booked and the amount becomes
    refundable again."""
    _check(acting_user, APPROVE_PERMISSION)
    _enrollment, locked = _locked(refund)
    _in_region(acting_user, locked)
    if locked.status != Refund.Status.PENDING:
        raise _status_refusal(locked, Refund.Status.PENDING, "驳回")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reject_reason": "请填写驳回原因"})
    locked.status = Refund.Status.REJECTED
    locked.reject_reason = reason[:200]
    locked.rejected_by = acting_user if getattr(acting_user, "pk", None) else None
    locked.rejected_at = timezone.now()
    return _save(locked, acting_user)


@transaction.atomic
def refund_mark_paid(*, refund: Refund, reference: str, paid_on: date, acting_user) -> Refund:
    """The bank paid a 待支付 refund: books 退费支付 (应退缴费 debit, 基金存款 credit) with
    ``reference`` on ``paid_on``; 已支付. Called again for a refund already paid with the
    same reference (a re-imported returned file) it changes nothing."""
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"paid_reference": "请填写支付流水号"})
    if paid_on is None:
        raise ValidationError({"paid_on": "请填写支付日期"})
    _enrollment, locked = _locked(refund)
    _in_region(acting_user, locked)
    if locked.status == Refund.Status.PAID:
        if locked.paid_reference == reference:
            return locked
        raise ValidationError({"paid_reference": f"{locked}已按支付流水号“{locked.paid_reference}”"
                                                 f"支付，不能再按“{reference}”支付"})
    if locked.status != Refund.Status.PAYABLE:
        raise _status_refusal(locked, Refund.Status.PAYABLE, "登记支付")
    ledger.journals_write([postings.refund_paid(**_fund(locked), booked_on=paid_on,
                                                reference=reference)], acting_user=acting_user)
    locked.status = Refund.Status.PAID
    locked.paid_reference = reference[:80]
    locked.paid_on = paid_on
    locked.failure_reason = ""
    return _save(locked, acting_user)


@transaction.atomic
def refund_payment_failed(*, refund: Refund, reason: str, acting_user) -> Refund:
    """The bank could not pay a 待支付 refund: ``reason`` recorded, it stays 待支付 for
    the next batch (after ``refund_payee_change`` when the account was wrong)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"failure_reason": "请填写支付失败原因"})
    _enrollment, locked = _locked(refund)
    _in_region(acting_user, locked)
    if locked.status != Refund.Status.PAYABLE:
        raise _status_refusal(locked, Refund.Status.PAYABLE, "登记支付失败")
    locked.failure_reason = reason[:200]
    return _save(locked, acting_user)


@transaction.atomic
def refund_payee_change(*, refund: Refund, acting_user, payee_name: str, payee_account: str,
                        payee_bank: str) -> Refund:
    """Correct the payee of a refund not yet paid (e.g. after 支付失败: 账号有误)."""
    _check(acting_user, "enrollment.change_refund")
    _enrollment, locked = _locked(refund)
    _in_region(acting_user, locked)
    if locked.status not in (Refund.Status.PENDING, Refund.Status.PAYABLE):
        raise ValidationError({"status": f"{locked}当前为“{locked.get_status_display()}”，"
                                         f"不能修改收款信息"}, code="status")
    values = {"payee_name": (payee_name or "").strip(),
              "payee_account": (payee_account or "").strip().replace(" ", ""),
              "payee_bank": (payee_bank or "").strip()}
    labels = {"payee_name": "收款户名", "payee_account": "收款银行账号", "payee_bank": "开户银行"}
    errors = {field: f"请填写{labels[field]}" for field, value in values.items() if not value}
    if values["payee_account"] and not values["payee_account"].isdigit():
        errors["payee_account"] = "收款银行账号只能包含数字"
    if errors:
        raise ValidationError(errors)
    for field, value in values.items():
        setattr(locked, field, value)
    return _save(locked, acting_user)
