"""Models of the enrollment app, one module per area (spec README §2).

``person``: insured persons, special identities, family relations.
``enrollment``: enrollments, suspensions, pre-existing declarations, payments.
(The chronic-disease registrations will live in ``registration``.)
"""
from .enrollment import Enrollment, Payment, PreExistingDeclaration, Suspension
from .person import FamilyRelation, Person, PersonIdentity
from .registration import (
    BloodPressureReading,
    PendingRegistration,
    Registration,
    RegistrationTransition,
)

__all__ = [
    "Enrollment", "FamilyRelation", "Payment", "Person", "PersonIdentity",
    "PreExistingDeclaration", "Suspension",
    "BloodPressureReading", "PendingRegistration", "Registration", "RegistrationTransition",
]
