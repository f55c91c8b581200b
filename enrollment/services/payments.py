"""Payments of the enrollment app (HackSoft service: keyword-only, ``acting_user``, one
transaction). Spec README §2 参保登记和缴费 (receipt number unique per scheme, subsidy
就高不就低 recorded once, coverage from the date the due is paid off), §6 concurrent
payments.

``payment_record`` reads the facts of one payment under the enrollment's row lock
(``selectors.payment_facts``) and decides with the pure check
``insurance_rules.enrollment.payment.check_payment`` — the one the ``payments`` sheet
kind runs on facts loaded in bulk. Refusals are ``ValidationError`` keyed by field (a
rule refusal keeps the trial-calc code as the error ``code``).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from enrollment import selectors
from enrollment.models import Enrollment, Payment, Person
from insurance_rules.enrollment.payment import RecordedPayment, Refusal, check_payment, duplicate_receipt
from insurance_rules.errors import CaseError
from ledger import services as ledger
from policies import models as pm
from policies.dashboard import dashboard_figures_changed
from policies.masking import mask_for_user_or_system

from .enrollments import ENROLLMENT_REGION, _check, _check_plan_year_open, _refusal, _save

RULE_CODES = frozenset({"invalid_input", "unknown_code", "missing_rule", "not_eligible", "window_closed"})


def _refused(refusal: Refusal) -> ValidationError:
    """A refusal of ``check_payment`` as the service has always raised it: a rule refusal
    on ``paid_date`` when the window is closed, else on no field; the payment's own on its
    field."""
    if refusal.code in RULE_CODES:
        return _refusal(CaseError(refusal.code, refusal.message),
                        "paid_date" if refusal.code == "window_closed" else None)
    return ValidationError({refusal.field: refusal.message}, code=refusal.code)


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
        refusal = duplicate_receipt(RecordedPayment(
            receipt_no, mask_for_user_or_system(acting_user, "name", duplicate.enrollment.person.name),
            duplicate.paid_date, duplicate.amount_due),
            f"{scheme.region.name}{scheme.name}")
        raise ValidationError({"receipt_no": refusal.message}, code=refusal.code)
    _check_plan_year_open(locked.plan_year, "enrollment")
    try:
        facts = selectors.payment_facts(locked, relation_to_payer=relation_to_payer,
                                        payer_person=payer_person,
                                        basic_insured_in_region=basic_insured_in_region)
    except CaseError as exc:
        raise _refusal(exc, "paid_date" if exc.code == "window_closed" else None) from exc
    decision = check_payment(facts.plan, facts.person, paid=facts.paid, paid_date=paid_date,
                             channel=channel, self_paid=None if self_paid is None else Decimal(self_paid),
                             **facts.rules())
    if decision.refusals:
        raise _refused(decision.refusals[0])
    result, figures, self_paid = decision.quote, decision.figures, decision.self_paid
    identity = None
    if figures.subsidy_now > 0 and result.subsidy_identity:
        identity = pm.Identity.objects.get(code=result.subsidy_identity)
    completes = decision.completes
    payment = Payment(
        enrollment=locked, scheme=scheme, amount_due=figures.due, subsidy=figures.subsidy_now,
        subsidy_identity=identity, subsidy_payer=subsidy_payer if figures.subsidy_now else "",
        self_paid=self_paid, paid_date=paid_date, channel=channel, payer_name=payer_name,
        payer_person=payer_person, relation_to_payer=facts.relation, receipt_no=receipt_no,
        window_code=result.window.code, completes=completes)
    payment.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            _save(payment, acting_user)
    except IntegrityError as exc:  # a concurrent insert of the same receipt number
        raise ValidationError({"receipt_no": f"票据/流水号“{receipt_no}”已登记，不能重复登记"},
                              code="duplicate_receipt") from exc
    ledger.contribution_post(payment=payment, acting_user=acting_user)  # 缴费到账
    if completes:
        locked.coverage_start = result.coverage_start
        locked.coverage_end = result.coverage_end
        locked.paid_off_date = paid_date
        locked.window_code = result.window.code
        _save(locked, acting_user)
    dashboard_figures_changed(plan_year_id=locked.plan_year_id)  # 缴费收入, 参保率 (after commit)
    return payment
