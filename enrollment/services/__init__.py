"""Writes of the enrollment app (HackSoft-style services: keyword-only, acting_user, atomic).

Public surface: enrollments (persons, identities, relations, enrollments, suspension,
termination, newborns, rollover), payments (``payment_record``), refunds (退费: request,
approve, reject, mark paid, payment failed, payee change) and registrations
(慢特病/两病 registrations: submit, review, approve, reject, terminate). Admin pages, sheet kinds and commands call these."""

from .enrollments import (  # noqa: F401
    COVERAGE_FIELDS,
    DEPENDENT_KINDS,
    ENROLLMENT_EDITABLE,
    ENROLLMENT_REGION,
    PERSON_FIELDS,
    coverage_entered_directly,
    enrollment_categories_sync,
    enrollment_create,
    enrollment_resume,
    enrollment_rollover,
    enrollment_suspend,
    enrollment_terminate,
    enrollment_update,
    identity_add,
    newborn_auto_enroll,
    person_create,
    person_scope_refusal,
    person_update,
    pre_existing_declare,
    relation_add,
)
from .payments import payment_record  # noqa: F401
from .refunds import (  # noqa: F401
    refund_approve,
    refund_mark_paid,
    refund_payee_change,
    refund_payment_failed,
    refund_reject,
    refund_request,
)
from .registrations import (  # noqa: F401
    APPROVE_PERMISSION,
    EVIDENCE_FIELDS,
    S,
    registration_approve,
    registration_duplicate_check,
    registration_reject,
    registration_start_review,
    registration_submit,
    registration_terminate,
)
