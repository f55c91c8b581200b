"""Writes of chronic-disease / 两病 registrations (spec README §2 门诊慢特病登记;
changzhi.md admission criteria; docs/registrations.md).

Workflow: ``registration_submit`` (申报) → ``registration_start_review`` (审核中) →
``registration_approve`` (已批准) or ``registration_reject`` (已驳回, reason required);
``registration_terminate`` (已终止, reason required) ends an approved registration.
Rejected and terminated are terminal. Review, approval, rejection and termination need
the permission ``enrollment.approve_registration``. Approval runs the admission criteria
(``insurance_rules.enrollment.registration``) and refuses when any criterion fails.

Every service runs in ``transaction.atomic``, locks the person row and the registration
row (``select_for_update``: two decisions for the same person are serialised, so an HBP
and a CZ18 approval cannot both pass the exclusion check), and records the transition
twice: django-simple-history (with the acting user) and a ``RegistrationTransition`` row.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from enrollment.models import (
    BloodPressureReading,
    Person,
    Registration,
    RegistrationTransition,
)
from enrollment.selectors import registrations as sel
from insurance_rules.errors import CaseError

APPROVE_PERMISSION = "enrollment.approve_registration"
EVIDENCE_FIELDS = ("hba1c", "fasting_glucose", "random_glucose", "ogtt_2h", "symptoms",
                   "type1_confirmed", "needs_medication", "management_record")
S = Registration.Status


def _require_permission(user, action: str) -> None:
    if user is None or not user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied(f"您没有{action}门诊慢特病/两病登记的权限（须具备“可审批门诊慢特病/两病登记”权限）")


def _lock(registration: Registration) -> Registration:
    """Lock the person, then the registration (always in this order), and re-read it."""
    Person.objects.select_for_update().filter(pk=registration.person_id).first()
    return (Registration.objects.select_for_update(of=("self",))
            .select_related("person", "scheme__region", "disease__excluded_by")
            .get(pk=registration.pk))


def _save(registration: Registration, user) -> None:
    registration._history_user = user
    registration.full_clean()
    registration.save()


def _move(registration: Registration, to: str, user, reason: str = "") -> None:
    frm = registration.status
    if not registration.can_move_to(to):
        terminal = "（已是终结状态）" if not Registration.TRANSITIONS.get(frm) else ""
        raise ValidationError(f"登记状态为“{S(frm).label}”{terminal}，不能变更为“{S(to).label}”")
    registration.status = to
    _save(registration, user)
    RegistrationTransition.objects.create(registration=registration, from_status=frm,
                                          to_status=to, by=user, reason=reason)


def _assessment(registration: Registration, on_date: date | None = None):
    try:
        return sel.assess_registration(registration, on_date=on_date)
    except CaseError as exc:
        raise ValidationError(f"无法审核登记：{exc.message}") from exc


def _reading_values(item) -> tuple:
    if isinstance(item, Mapping):
        return item.get("date"), item.get("systolic"), item.get("diastolic")
    return tuple(item)


def registration_duplicate_check(*, person: Person, disease, application_date: date) -> None:
    """The duplicate rule of ``registration_submit`` (writes nothing; also used by the
    registrations sheet import): refused when the person has a pending application or a
    registration valid on the application date for the same disease."""
    duplicate = (Registration.objects.filter(person=person, disease=disease)
                 .filter(Q(status__in=Registration.PENDING)
                         | Q(status__in=Registration.HELD, valid_from__lte=application_date,
                             valid_to__isnull=True)
                         | Q(status__in=Registration.HELD, valid_from__lte=application_date,
                             valid_to__gte=application_date))
                 .first())
    if duplicate is not None:
        raise ValidationError(f"该参保人已有病种 {disease} 的登记（{duplicate.get_status_display()}，"
                              f"申请日期 {duplicate.application_date.isoformat()}），不能重复申报")


@transaction.atomic
def registration_submit(*, person: Person, scheme, disease, application_date: date, acting_user,
                        institution: str = "", bp_readings: Iterable = (), documents: str = "",
                        **evidence) -> Registration:
    """申报: record an application with its evidence (``hba1c``, ``fasting_glucose``,
    ``random_glucose``, ``ogtt_2h``, ``symptoms``, ``type1_confirmed``,
    ``needs_medication``, ``management_record``) and blood-pressure readings
    (``(date, systolic, diastolic)`` tuples or dicts). Refused when the person already
    has a pending application or a registration valid on the application date for the
    same disease."""
    unknown = set(evidence) - set(EVIDENCE_FIELDS)
    if unknown:
        raise ValidationError(f"未知的证明材料字段：{'、'.join(sorted(unknown))}")
    Person.objects.select_for_update().filter(pk=person.pk).first()
    registration_duplicate_check(person=person, disease=disease, application_date=application_date)
    registration = Registration(person=person, scheme=scheme, disease=disease,
                                application_date=application_date, institution=institution,
                                documents=documents, created_by=acting_user, **evidence)
    _save(registration, acting_user)
    for i, item in enumerate(bp_readings, start=1):
        day, systolic, diastolic = _reading_values(item)
        reading = BloodPressureReading(registration=registration, date=day, systolic=systolic,
                                       diastolic=diastolic)
        try:
            reading.full_clean()
        except ValidationError as exc:
            raise ValidationError({f"血压读数第 {i} 行": exc.messages}) from exc
        reading._history_user = acting_user
        reading.save()
    RegistrationTransition.objects.create(registration=registration, from_status="",
                                          to_status=S.SUBMITTED, by=acting_user, reason="申报")
    return registration


@transaction.atomic
def registration_start_review(*, registration: Registration, acting_user) -> Registration:
    """申报 → 审核中; the acting user becomes the reviewer."""
    _require_permission(acting_user, "审核")
    registration = _lock(registration)
    registration.reviewer = acting_user
    _move(registration, S.IN_REVIEW, acting_user, "开始审核")
    return registration


@transaction.atomic
def registration_approve(*, registration: Registration, acting_user,
                         valid_from: date | None = None, valid_to: date | None = None,
                         decision_date: date | None = None) -> Registration:
    """审核中 → 已批准 when every admission criterion passes (else ``ValidationError``
    listing the failed criteria). ``valid_from`` defaults to the decision date (today);
    ``valid_to`` empty = valid until terminated."""
    _require_permission(acting_user, "审批")
    registration = _lock(registration)
    if registration.status != S.IN_REVIEW:
        raise ValidationError(f"登记状态为“{registration.get_status_display()}”，只有“审核中”的登记"
                              "可以批准")
    decision_date = decision_date or timezone.localdate()
    valid_from = valid_from or decision_date
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError(f"有效期止 {valid_to.isoformat()} 不能早于有效期起 "
                              f"{valid_from.isoformat()}")
    result = _assessment(registration, on_date=valid_from)
    if not result.admitted:
        raise ValidationError(f"不符合准入条件，不能批准：{result.reason}")
    registration.reviewer = acting_user
    registration.decision_date = decision_date
    registration.valid_from, registration.valid_to = valid_from, valid_to
    registration.assessment = result.as_list()
    registration.reason = ""
    _move(registration, S.APPROVED, acting_user, "；".join(result.lines))
    audit_record(action=Action.REVIEW, user=acting_user, obj=registration, details={"operation": "批准"})
    return registration


@transaction.atomic
def registration_reject(*, registration: Registration, acting_user, reason: str,
                        decision_date: date | None = None) -> Registration:
    """审核中 → 已驳回 with a reason (required)."""
    _require_permission(acting_user, "驳回")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "驳回必须填写原因"})
    registration = _lock(registration)
    if registration.status != S.IN_REVIEW:
        raise ValidationError(f"登记状态为“{registration.get_status_display()}”，只有“审核中”的登记"
                              "可以驳回")
    try:
        registration.assessment = sel.assess_registration(registration).as_list()
    except CaseError:
        registration.assessment = []  # rows missing: the reviewer's reason stands alone
    registration.reviewer = acting_user
    registration.decision_date = decision_date or timezone.localdate()
    registration.reason = reason
    _move(registration, S.REJECTED, acting_user, reason)
    audit_record(action=Action.REVIEW, user=acting_user, obj=registration, details={"operation": "驳回", "reason": reason})
    return registration


@transaction.atomic
def registration_decide(*, registration: Registration, decision: str, acting_user,
                        reason: str = "") -> Registration:
    """The reviewer's decision in one step: a 申报 registration is taken into review
    (``registration_start_review``), then approved (``decision`` "approve") or rejected
    ("reject", with ``reason``). A refused approval or rejection writes nothing: the
    registration stays 申报."""
    if registration.status == S.SUBMITTED:
        registration = registration_start_review(registration=registration, acting_user=acting_user)
    if decision == "approve":
        return registration_approve(registration=registration, acting_user=acting_user)
    if decision == "reject":
        return registration_reject(registration=registration, acting_user=acting_user, reason=reason)
    raise ValueError(f"unknown decision {decision!r}")


@transaction.atomic
def registration_terminate(*, registration: Registration, acting_user, reason: str,
                           end_date: date | None = None) -> Registration:
    """已批准 → 已终止 with a reason (required): the registration stays valid up to and
    including ``end_date`` (default today; never later than its current ``valid_to``)."""
    _require_permission(acting_user, "终止")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "终止必须填写原因"})
    registration = _lock(registration)
    end_date = end_date or timezone.localdate()
    if registration.status == S.APPROVED and end_date < registration.valid_from:
        raise ValidationError(f"终止日期 {end_date.isoformat()} 不能早于有效期起 "
                              f"{registration.valid_from.isoformat()}")
    if registration.status == S.APPROVED and (registration.valid_to is None
                                              or end_date < registration.valid_to):
        registration.valid_to = end_date
    registration.reason = reason
    _move(registration, S.TERMINATED, acting_user, reason)
    audit_record(action=Action.REVIEW, user=acting_user, obj=registration, details={"operation": "终止", "reason": reason})
    return registration
