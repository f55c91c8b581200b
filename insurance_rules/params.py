"""Resolved parameters of one plan year, as frozen dataclasses (no Django).

One dataclass per rule table of ``policies.models``, with the same field names plus the
row ``id`` (for the explanation's parameter references). Each declares, as plain class
data (``source``), the table it is read from and which of its fields hold a related
row's code; ``table_fields`` lists the fields of a plan (``PlanParams``) read from a table. From these
``policies.selectors.build_params`` builds a ``PlanParams`` from the database (and the
system checks know which table a formula needs); tests build them by hand. Conventions as in the
models: ``tier == 0`` / ``level == 0`` / ``fee_class == 0`` / ``""`` mean "any";
ratios and points are percent; ``None`` amount limits mean "no limit".
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import cache
from typing import ClassVar, get_args, get_type_hints

from .frozen import cache_of
from .results import ParamRef


@dataclass(frozen=True)
class Source:
    """Where a parameter row is read from: ``model``, the rule table (a model class of
    ``policies.models``, by name); ``codes``, the fields that hold the ``code`` of the
    related row the table points to (None when it points to none); ``parent``, for a row
    nested in another row (a responsibility's drug ratios), the field pointing to that
    row. A field typed as another ``Row`` is that related row, built the same way; a
    ``tuple`` of rows with a ``parent`` holds the rows pointing to this one."""

    model: str
    codes: tuple[str, ...] = ()
    parent: str = ""


@dataclass(frozen=True)
class Row:
    id: int | None
    source: ClassVar[Source | None] = None

    def ref(self, table: str, **values) -> ParamRef:
        """The ``ParamRef`` of this row with ``values`` (the row's own fields): built once
        per row and values and then reused, so a plan year's references are built once
        while its parameters are cached (``policies.selectors.region_year_params``), not
        once per settled claim."""
        key = (table, *values.items())
        refs = cache_of(self, "_refs")
        found = refs.get(key)
        if found is None:
            found = refs[key] = ParamRef(table, self.id, tuple((k, str(v)) for k, v in values.items()))
        return found


@dataclass(frozen=True)
class Figure(Row):
    source = Source("PlanFigure")

    code: str
    value: Decimal


@dataclass(frozen=True)
class Window(Row):
    source = Source("EnrollmentWindow", codes=("identity",))

    code: str
    name: str
    pay_from: date | None
    pay_to: date | None
    person_group: str  # all / newborn / identity
    identity: str | None
    newborn_max_days: int | None
    coverage_rule: str  # fixed / next_day / after_days / from_birth / as_basic
    coverage_start: date | None
    waiting_days: int
    coverage_end: date
    priority: int = 0


@dataclass(frozen=True)
class Standard(Row):
    source = Source("ContributionStandard", codes=("window",))

    window: str  # window code
    tier: int
    amount: Decimal
    plus_figure: str = ""


@dataclass(frozen=True)
class Subsidy(Row):
    source = Source("SubsidyRule", codes=("identity",))

    identity: str
    tier: int
    amount: Decimal | None
    full: bool = False


@dataclass(frozen=True)
class Limit(Row):
    source = Source("AnnualLimit", codes=("identity",))

    pool: str
    tier: int
    identity: str | None
    amount: Decimal | None  # None = 不设封顶线


@dataclass(frozen=True)
class Applicable(Row):
    source = Source("ApplicableClaimType")

    claim_type: str
    chronic_class: int = 0
    special_b_only: bool = False
    rules_in_seed: bool = True
    delivery_mode: str = ""  # "" = every delivery mode (delivery claims only)


@dataclass(frozen=True)
class FeeClass(Row):
    source = Source("HospitalFeeClass")

    level: int
    grade: str
    fee_class: int


@dataclass(frozen=True)
class Benefit(Row):
    source = Source("BenefitRule")

    claim_type: str
    delivery_mode: str
    level: int
    fee_class: int
    admin_level: str
    location: str
    tier: int
    priority: int
    deductible: Decimal
    deductible_mode: str  # per_claim / annual
    ratio: Decimal | None
    limit_pool: str
    fixed_amount: Decimal | None
    floor_amount: Decimal | None


@dataclass(frozen=True)
class LevelSub(Row):
    source = Source("LevelSubstitution")

    claim_type: str
    from_level: int
    to_level: int
    children_hospital_only: bool
    max_age: int | None


@dataclass(frozen=True)
class Adjustment(Row):
    source = Source("RatioAdjustment")

    code: str
    claim_type: str
    delivery_mode: str
    points: Decimal
    max_age: int | None
    deductible_level_shift: int
    min_level: int
    location: str
    deductible_shift_location: str = ""  # "" = the deductible shift applies anywhere


@dataclass(frozen=True)
class Segment(Row):
    source = Source("CumulativeSegment", codes=("identity",))

    identity: str | None
    seq: int
    threshold: Decimal
    ratio: Decimal
    base: str  # cumulative / after_previous


@dataclass(frozen=True)
class Disease(Row):
    source = Source("ChronicDisease", codes=("excluded_by",))

    code: str
    name: str
    kind: str  # chronic / two_diseases
    disease_class: int
    closed_from: date | None
    excluded_by: str | None


@dataclass(frozen=True)
class ChronicRule(Row):
    source = Source("ChronicBenefit")

    disease: Disease
    monthly_limit: Decimal | None
    ratio: Decimal
    deductible: Decimal
    shares_pool: str


@dataclass(frozen=True)
class TwoDiseaseRule(Row):
    source = Source("TwoDiseaseBenefit")

    disease: Disease
    deductible: Decimal
    ratio_class_a: Decimal
    ratio_class_b: Decimal
    annual_limit: Decimal


@dataclass(frozen=True)
class Criterion(Row):
    source = Source("AdmissionCriterion", codes=("disease",))

    disease: str
    code: str
    value: Decimal


@dataclass(frozen=True)
class PreExisting(Row):
    source = Source("PreExistingCondition")

    group: str
    name: str


@dataclass(frozen=True)
class DrugRatio(Row):
    source = Source("ResponsibilityDrugRatio", parent="responsibility")

    drug_class: str
    ratio: Decimal


@dataclass(frozen=True)
class IdentityRatio(Row):
    source = Source("ResponsibilityIdentityRatio", codes=("identity",), parent="responsibility")

    identity: str
    ratio_pre_existing: Decimal


@dataclass(frozen=True)
class Incentive(Row):
    source = Source("IncentiveRule", parent="responsibility")

    min_years: int
    ratio: Decimal


@dataclass(frozen=True)
class ResponsibilityRule(Row):
    source = Source("Responsibility")

    code: str
    name: str
    seq: int
    claim_type: str
    location: str
    min_level: int
    public_only: bool
    min_admin_level: str
    drug_list: str
    special_b_only: bool
    basis: str
    deductible: Decimal
    ratio_healthy: Decimal | None
    ratio_pre_existing: Decimal | None
    pre_existing_covered: bool
    sum_insured: Decimal | None
    sum_insured_pre_existing: Decimal | None
    drug_ratios: tuple[DrugRatio, ...] = ()
    identity_ratios: tuple[IdentityRatio, ...] = ()
    incentives: tuple[Incentive, ...] = ()


@dataclass(frozen=True)
class OopCap(Row):
    source = Source("OutOfPocketCap")

    min_participation_rate: Decimal
    personal_cap: Decimal
    claim_type: str
    location: str


@dataclass(frozen=True)
class AssistanceRow(Row):
    source = Source("AssistanceRule", codes=("identity",))

    identity: str | None
    kind: str  # inpatient / chronic_outpatient / special_drug / tilt
    threshold: Decimal
    ratio: Decimal
    annual_limit: Decimal | None
    top_up_ratio: Decimal | None
    top_up_location: str
    ooc_controlled_ratio: Decimal | None
    requires_filed: bool
    location: str


@dataclass(frozen=True)
class DocumentReq(Row):
    source = Source("DocumentRule")

    code: str
    name: str
    scope: str  # local / out_of_region / any
    condition: str  # always / paid_gte / total_gte
    threshold: Decimal | None
    copies: int
    seq: int


@dataclass(frozen=True)
class PlanParams:
    """Everything of one plan year of one scheme, resolved from the database."""

    region: str  # pooling region code
    province: str
    kind: str  # scheme kind
    scheme_name: str
    formula: str
    settlement_order: int
    has_tiers: bool
    year: int
    plan_year_id: int | None
    status: str
    official_participation_rate: Decimal | None = None
    note: str = ""
    region_name: str = ""  # e.g. 三明市 (for explanations in the region's own words)
    figures: tuple[Figure, ...] = ()
    windows: tuple[Window, ...] = ()
    standards: tuple[Standard, ...] = ()
    subsidies: tuple[Subsidy, ...] = ()
    limits: tuple[Limit, ...] = ()
    applicable: tuple[Applicable, ...] = ()
    fee_classes: tuple[FeeClass, ...] = ()
    benefits: tuple[Benefit, ...] = ()
    level_subs: tuple[LevelSub, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    segments: tuple[Segment, ...] = ()
    chronic: tuple[ChronicRule, ...] = ()
    two_diseases: tuple[TwoDiseaseRule, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    pre_existing: tuple[PreExisting, ...] = ()
    responsibilities: tuple[ResponsibilityRule, ...] = ()
    oop_caps: tuple[OopCap, ...] = ()
    assistance: tuple[AssistanceRow, ...] = ()
    documents: tuple[DocumentReq, ...] = ()

    def figure(self, code: str) -> Figure | None:
        for f in self.figures:
            if f.code == code:
                return f
        return None

    def applicable_row(self, claim_type: str, delivery_mode: str | None = None) -> Applicable | None:
        """The ``ApplicableClaimType`` row of a claim: of its claim type, the row naming
        the claim's delivery mode, else the row for every mode (blank); a row naming
        another mode does not apply."""
        found = None
        for a in self.applicable:
            if a.claim_type != claim_type:
                continue
            if a.delivery_mode and a.delivery_mode == (delivery_mode or ""):
                return a
            if not a.delivery_mode:
                found = a
        return found

    def applicable_modes(self, claim_type: str) -> tuple[str, ...]:
        """The delivery modes named by the claim type's rows (blank rows excluded)."""
        return tuple(a.delivery_mode for a in self.applicable
                     if a.claim_type == claim_type and a.delivery_mode)


@cache
def table_fields(plan: type = PlanParams) -> dict[str, type[Row]]:
    """The fields of ``plan`` (``PlanParams``, or another plan dataclass such as the
    enrollment rules' ``ContributionPlan``) read from a rule table → their row dataclass
    (the table is the row's ``source``), in declaration order."""
    hints = get_type_hints(plan)
    out = {}
    for f in fields(plan):
        args = get_args(hints[f.name])
        if args and isinstance(args[0], type) and issubclass(args[0], Row) and args[0].source:
            out[f.name] = args[0]
    return out
