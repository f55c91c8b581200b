"""Payments of the enrollment app (HackSoft service: keyword-only, ``acting_user``, one
transaction). Spec README §2 参保登记和缴费 (receipt number unique per scheme, subsidy
就高不就低 recorded once, coverage from the date the due is paid off), §6 concurrent
payments.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from enrollment import selectors
from enrollment.models import Enrollment, Payment, Person
from insurance_rules.errors import CaseError
from insurance_rules.money import fmt
from policies import models as pm

from .enrollments import ENROLLMENT_REGION, _check, _check_plan_year_open, _refusal, _save


@transaction.atomic
def payment_record(*, enrollment: Enrollment, paid_date: date, channel: str, receipt_no: str,
                   acting_user, self_paid: Decimal | None = None, payer_name: str = "",
                   payer_person: Person | None = None, relation_to_payer: str | None = None,
                   subsidy_payer: str = Payment.SubsidyPayer.GOVERNMENT,
                   basic_insured_in_region: bool | None = None) -> Payment:
    """Record a payment towards ``enrollment``.

    The enrollment row is locked (``select_for_update``) so that concurrent payments
    are serialised: due, subsidy (就高不就低, recorded once), self-pay and coverage come
    from the same pure rules as the trial calculation, for this payment's date; the
    amount already paid counts, and no payment may exceed what is still open. When the
    due is fully covered (完清) the coverage computed from this (last) payment's date is
    stored on the enrollment. ``self_paid`` defaults to everything still open. A receipt
    number already recorded for the scheme is refused (re-importing never double counts).
    """
    _check(acting_user, "enrollment.add_payment", enrollment, ENROLLMENT_REGION)
    receipt_no = (receipt_no or "").strip()
    if not receipt_no:
        raise ValidationError({"receipt_no": "请填写票据/流水号"})
    locked = (Enrollment.objects.select_for_update()
              .select_related("person", "plan_year__scheme__region").get(pk=enrollment.pk))
    scheme = locked.plan_year.scheme
    duplicate = (Payment.objects.filter(scheme=scheme, receipt_no=receipt_no)
                 .select_related("enrollment__person").first())
    if duplicate is not None:
        raise ValidationError({"receipt_no": (
            f"票据/流水号“{receipt_no}”已在{scheme.region.name}{scheme.name}登记（参保人 "
            f"{duplicate.enrollment.person.name}，缴费日期 {duplicate.paid_date.isoformat()}），"
            f"不能重复登记")}, code="duplicate_receipt")
    _check_plan_year_open(locked.plan_year, "enrollment")
    if locked.status == Enrollment.Status.TERMINATED:
        raise ValidationError({"enrollment": "该参保登记已终止，不能再缴费"})
    if locked.paid_off_date is not None:
        raise ValidationError({"enrollment": f"该参保登记已于 {locked.paid_off_date.isoformat()} "
                                             f"缴清，不能重复缴费"}, code="already_paid")
    last = locked.payments.order_by("-paid_date").first()
    if last is not None and paid_date < last.paid_date:
        raise ValidationError({"paid_date": f"缴费日期 {paid_date.isoformat()} 早于本参保登记已有缴费的"
                                            f"最后日期 {last.paid_date.isoformat()}，请按缴费日期先后登记"})
    try:
        preview = selectors.payment_preview(
            locked, paid_date=paid_date, channel=channel, relation_to_payer=relation_to_payer,
            payer_person=payer_person, basic_insured_in_region=basic_insured_in_region)
    except CaseError as exc:
        raise _refusal(exc, "paid_date" if exc.code == "window_closed" else None) from exc
    if self_paid is None:
        self_paid = preview.remaining
    self_paid = Decimal(self_paid)
    if self_paid < 0:
        raise ValidationError({"self_paid": "个人缴费不能为负数"})
    if self_paid > preview.remaining:
        raise ValidationError({"self_paid": (
            f"个人缴费 {fmt(self_paid)} 超过应缴未缴金额 {fmt(preview.remaining)}（应缴 "
            f"{fmt(preview.due)}，已资助 {fmt(preview.paid_subsidy)}，已个人缴费 "
            f"{fmt(preview.paid_self)}，本次资助 {fmt(preview.subsidy_now)}）")},
            code="over_payment")
    if self_paid == 0 and preview.subsidy_now == 0:
        raise ValidationError({"self_paid": "本次缴费金额为 0，无需登记"})
    identity = None
    if preview.subsidy_now > 0 and preview.quote.subsidy_identity:
        identity = pm.Identity.objects.get(code=preview.quote.subsidy_identity)
    completes = preview.paid_subsidy + preview.paid_self + preview.subsidy_now + self_paid \
        >= preview.due
    payment = Payment(
        enrollment=locked, scheme=scheme, amount_due=preview.due, subsidy=preview.subsidy_now,
        subsidy_identity=identity, subsidy_payer=subsidy_payer if preview.subsidy_now else "",
        self_paid=self_paid, paid_date=paid_date, channel=channel, payer_name=payer_name,
        payer_person=payer_person, relation_to_payer=preview.relation, receipt_no=receipt_no,
        window_code=preview.quote.window.code, completes=completes)
    payment.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            _save(payment, acting_user)
    except IntegrityError as exc:  # a concurrent insert of the same receipt number
        raise ValidationError({"receipt_no": f"票据/流水号“{receipt_no}”已登记，不能重复登记"},
                              code="duplicate_receipt") from exc
    if completes:
        locked.coverage_start = preview.quote.coverage_start
        locked.coverage_end = preview.quote.coverage_end
        locked.paid_off_date = paid_date
        locked.window_code = preview.quote.window.code
        _save(locked, acting_user)
    return payment
