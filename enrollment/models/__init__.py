"""Models of the enrollment app, one module per area (spec README §2).

``person``: insured persons, special identities, family relations.
``enrollment``: enrollments, suspensions, pre-existing declarations, payments.
``refund``: refunds (退费) of payments' self-paid parts.
``registration``: the chronic-disease registrations.
``visibility``: the person → region rows of region scoping (``PersonRegion``).
"""
from .enrollment import Enrollment, Payment, PreExistingDeclaration, Suspension
from .person import FamilyRelation, Person, PersonIdentity
from .refund import Refund
from .registration import (
    BloodPressureReading,
    PendingRegistration,
    Registration,
    RegistrationTransition,
)
from .visibility import PersonRegion

__all__ = [
    "Enrollment", "FamilyRelation", "Payment", "Person", "PersonIdentity",
    "PersonRegion", "PreExistingDeclaration", "Refund", "Suspension",
    "BloodPressureReading", "PendingRegistration", "Registration", "RegistrationTransition",
]
