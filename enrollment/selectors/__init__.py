"""Reads of the enrollment app (no writes).

Public surface: enrollments (scheme and plan-year lookups, the resolved contribution plan,
the person's facts for the pure rules, payment previews) and registrations (the chronic
disease catalogue, held registrations and their assessment) and refunds (what a payment can
still refund, the request checks, the benefits booked for the period, 待支付 refunds)."""

from .enrollments import (  # noqa: F401
    PLAN_STATUSES,
    STATUS_NAMES,
    PaymentFacts,
    PaymentPreview,
    admission_facts,
    basic_enrollment,
    contribution_plan,
    enrollment_in_force,
    enrollment_refusal,
    held_identities,
    holds_employee_basic,
    identity_codes,
    identity_names,
    in_region,
    paid_total,
    parents_of,
    payment_facts,
    payment_preview,
    person_facts,
    person_is_local,
    persons_visible_to,
    plan_year_of,
    pooling_region,
    region_scheme,
    relation_to_payer,
    relation_to_payer_of,
    window_name,
)
from .refunds import (  # noqa: F401
    benefits_booked,
    benefits_refusal,
    ends_coverage,
    payee_defaults,
    refund_refusals,
    refundable,
    refunded,
    refunds_payable,
    refunds_visible_to,
    with_refunded,
)
from .registrations import (  # noqa: F401
    approved_registrations,
    assess_registration,
    benefit_for,
    catalogue_disease,
    catalogue_names,
    conflicting_registrations,
    criteria_for,
    disease_facts,
    health_status,
    held_facts,
    held_registrations_by_person,
    plan_label,
    pre_existing_groups,
    registration_evidence,
)
