"""Facts about a person and a claim, as frozen dataclasses (spec README §3, trial-calc.md).

These are the engine's inputs besides the resolved parameters: plain values, no Django.
The trial-calc command parses its JSON into them; the database settlement builds them
from the models.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .money import ZERO

_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HeldIdentity:
    """A special identity held from ``valid_from`` to ``valid_to`` (inclusive; None = open)."""

    code: str
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class HeldRegistration:
    """An approved chronic-disease / two-disease registration."""

    disease: str
    approved: date
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.approved <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class PersonFacts:
    birth_date: date
    category: str
    identities: tuple[HeldIdentity, ...] = ()
    pre_existing: tuple[str, ...] = ()
    continuous_years: int = 0
    resettled: bool = False
    registrations: tuple[HeldRegistration, ...] = ()
    basic_insured_in_region: bool = True
    lives_in_region: bool = False  # 新市民: insured elsewhere, living in the region long-term
    hk_macao_taiwan: bool = False  # 港澳台同胞
    basic_insured_in_province: bool = False  # holds basic insurance in the region's province

    def age_on(self, day: date) -> int:
        """Full years of age on ``day`` (周岁)."""
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    def identity_codes_on(self, day: date) -> frozenset[str]:
        if not self.identities:  # most persons: no special identity
            return _NONE
        return frozenset(i.code for i in self.identities if i.valid_on(day))

    def registration_on(self, disease: str, day: date) -> HeldRegistration | None:
        for reg in self.registrations:
            if reg.disease == disease and reg.valid_on(day):
                return reg
        return None

    @property
    def is_employee(self) -> bool:
        """在职职工 and 退休人员 hold the region's employee_basic by definition."""
        return self.category in ("employee_active", "employee_retired")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Coverage:
    """The person's enrollment in one scheme for the plan year."""

    scheme: str  # scheme kind code
    start: date
    end: date
    tier: int = 0
    suspended: tuple[Period, ...] = ()

    def in_force_on(self, day: date) -> bool:
        return self.start <= day <= self.end and not any(p.contains(day) for p in self.suspended)


@dataclass(frozen=True)
class Hospital:
    level: int = 1
    grade: str = "-"
    admin_level: str = "county"
    location: str = "in_region"
    tcm: bool = False
    children: bool = False
    public: bool = True
    cdrg: bool = True  # 按C-DRG收付费 (三明 责任一)


@dataclass(frozen=True)
class GivenLayer:
    """A layer's result taken from the hospital's settlement system (README §4.7)."""

    paid: Decimal
    deductible: Decimal = ZERO
    over_cap: Decimal = ZERO


@dataclass(frozen=True)
class ClaimFacts:
    """One claim's settlement-sheet amounts and flags (README §3)."""

    type: str
    date: date
    total: Decimal
    hospital: Hospital | None = None
    out_of_catalog: Decimal = ZERO
    class_b_copay: Decimal = ZERO
    compliant: Decimal = ZERO
    tcm_compliant: Decimal = ZERO
    special_drug: Decimal = ZERO
    filed: bool = True
    major_disease: str | None = None
    disease: str | None = None
    special_b: bool = False
    drug_class_a: Decimal = ZERO
    drug_class_b: Decimal = ZERO
    class_b_items: Decimal | None = None
    delivery_mode: str | None = None
    drug_list: str | None = None
    drug_class: str | None = None
    out_of_catalog_controlled: Decimal = ZERO
    given: Mapping[str, GivenLayer] = field(default_factory=dict)
    ref: str = ""  # the claim's number, for explanations and YTD references
