"""Reads of the enrollment app (HackSoft selectors): the plan-year rows the contribution
rules need, as a ``ContributionPlan`` (``insurance_rules.enrollment.plan``), and the facts about a
stored person (identities, basic coverage, relations) that the rules take as input.

Plan-year status (trial-calc ``--plan-status``), as the engine's ``policies.selectors``:
``active`` reads the plan year in force (``active``, else ``closed``); ``draft`` reads the
``draft`` plan year and falls back to the in-force one when the scheme has no draft.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Sum
from django.db.models.functions import Coalesce

from enrollment.models import Enrollment, FamilyRelation, Payment, Person, PersonRegion
from enrollment.models.person import INVERSE_RELATION
from insurance_rules.enrollment.contribution import Quote, quote
from insurance_rules.enrollment.eligibility import check_eligibility
from insurance_rules.enrollment.payment import PaidSoFar, payment_figures
from insurance_rules.enrollment.plan import ContributionPlan
from insurance_rules.enrollment.vocab import BASIC_KINDS
from insurance_rules.errors import CaseError, InvalidInput, MissingRule, UnknownCode
from insurance_rules.facts import HeldIdentity, HeldRegistration, PersonFacts
from insurance_rules.params import table_fields
from policies import codes
from policies import models as pm
from policies.access import user_region_ids, user_sees_all_regions
from policies.selectors import STATUS_PREFERENCE, RowKeyedCache, param_rows, pooling_region  # noqa: F401  (pooling_region: part of this surface)

PLAN_STATUSES = STATUS_PREFERENCE
STATUS_NAMES = {"active": "生效或已关闭", "draft": "草稿、生效或已关闭"}


# --------------------------------------------------------------------------- plan rows


def region_scheme(region: pm.Region, kind) -> pm.Scheme:
    if not isinstance(kind, str) or not kind:
        raise InvalidInput("缺少字段“scheme”（险种类别）")
    if kind not in codes.SchemeKind.values:
        raise UnknownCode(f"未知的险种类别“scheme”：{kind}")
    scheme = pm.Scheme.objects.select_related("region").filter(region=region, kind=kind).first()
    if scheme is None:
        raise UnknownCode(f"未知的险种“scheme”：{kind}（{region.name}没有此险种）")
    return scheme


def plan_year_of(scheme: pm.Scheme, year: int, plan_status: str = "active", *,
                 missing_ok: bool = False) -> pm.PlanYear | None:
    """The scheme's plan year of ``year`` visible under ``plan_status``; when there is none,
    ``MissingRule`` (or None with ``missing_ok``: the registration assessment words its own)."""
    if plan_status not in PLAN_STATUSES:
        raise InvalidInput(f"未知的年度方案状态：{plan_status}（active 或 draft）")
    by_status = {py.status: py for py in pm.PlanYear.objects.select_related("scheme__region")
                 .filter(scheme=scheme, year=year)}
    plan_year = next((by_status[s] for s in PLAN_STATUSES[plan_status] if s in by_status), None)
    if plan_year is None and not missing_ok:
        raise MissingRule(f"{scheme.region.name}{scheme.name}没有状态为“{STATUS_NAMES[plan_status]}”"
                          f"的 {year} 年度方案")
    return plan_year


_CONTRIBUTION_PLANS = RowKeyedCache(size=256)  # one slot per plan year, kept per process


def contribution_plan(plan_year: pm.PlanYear) -> ContributionPlan:
    """The contribution rows of ``plan_year`` as a ``ContributionPlan`` (each table read as
    its row dataclass declares, ``policies.selectors.param_rows``).

    Built once per process and plan year and reused while the plan year's
    ``rules_version`` (read fresh: one query instead of one per rule table; a write of any
    of its rule rows or of the plan year changes it, ``policies.rules_version``) and the
    scheme's and region's values taken from the given objects are the same."""
    scheme = plan_year.scheme
    region = scheme.region
    fields = dict(region=region.pooling_region.code, region_name=region.name, kind=scheme.kind,
                  scheme_name=scheme.name, year=plan_year.year, has_tiers=scheme.has_tiers,
                  plan_year_id=plan_year.pk, status=plan_year.status, formula=scheme.formula,
                  province=region.province)

    def build() -> ContributionPlan:
        rows = {name: tuple(param_rows(row_cls, [plan_year.pk]).get(plan_year.pk, ()))
                for name, row_cls in table_fields(ContributionPlan).items()}
        return ContributionPlan(**fields, **rows)

    version = pm.PlanYear.objects.filter(pk=plan_year.pk).values_list("rules_version", flat=True).first()
    if version is None:
        return build()
    return _CONTRIBUTION_PLANS.get((plan_year.pk,), (version, *fields.values()), build)


def identity_codes() -> frozenset[str]:
    return frozenset(pm.Identity.objects.values_list("code", flat=True))


def identity_names() -> dict[str, str]:
    return dict(pm.Identity.objects.values_list("code", "name"))


# --------------------------------------------------------------------------- persons


def persons_visible_to(user, queryset=None):
    """Persons ``user`` may see: 户籍 or 常住地 in one of the user's regions (sub-regions
    included), or an enrollment in one of them; a superuser sees all (docs/access.md).

    Read from the visibility rows (``PersonRegion``: one per 户籍, 常住地 and enrolled
    region, kept by ``enrollment.services.visibility``) as an indexed semi-join,
    ``EXISTS (… person_id = person.id AND region_id IN (…))``."""
    queryset = Person.objects.all() if queryset is None else queryset
    if user_sees_all_regions(user):
        return queryset
    ids = user_region_ids(user)
    if not ids:
        return queryset.none()
    return queryset.filter(Exists(PersonRegion.objects.filter(person_id=OuterRef("pk"),
                                                              region_id__in=sorted(ids))))


def in_region(region: pm.Region | None, pooling: pm.Region) -> bool:
    return region is not None and region.pooling_region.pk == pooling.pk


def person_is_local(person: Person, pooling: pm.Region) -> bool | None:
    """True when the person's 户籍 or 常住地 is in ``pooling``; False when both are known
    and outside; None when unknown (not checked)."""
    known = [r for r in (person.hukou_region, person.residence_region) if r is not None]
    if not known:
        return None
    return any(in_region(r, pooling) for r in known)


def load_home_regions(person: Person) -> None:
    """Read the person's 户籍 and 常住地 regions not loaded yet (with their parents, which
    ``pooling_region`` reads) in one query: ``person_is_local`` and ``admission_facts``
    then read no more (a person read with its enrollment's row lock, which cannot join
    these optional regions, would else read each region by itself)."""
    fields = [f for f in (Person.hukou_region.field, Person.residence_region.field)
              if getattr(person, f.attname) is not None and not f.is_cached(person)]
    if not fields:
        return
    regions = pm.Region.objects.select_related("parent").in_bulk(
        {getattr(person, f.attname) for f in fields})
    for field in fields:
        if getattr(person, field.attname) in regions:
            field.set_cached_value(person, regions[getattr(person, field.attname)])


def admission_facts(person: Person, pooling: pm.Region) -> dict[str, bool]:
    """What a scheme that admits more than the region's basic insured reads of the person
    (``insurance_rules.admission``; 三明普惠医联保): ``lives_in_region`` — a 新市民 living
    long-term at a 常住地 in ``pooling``; ``hk_macao_taiwan``; ``basic_insured_in_province`` —
    basic insurance in the province of the 常住地, which is ``pooling``'s province."""
    residence = person.residence_region if (person.long_term_resident
                                            or person.basic_insured_in_province) else None
    return {
        "lives_in_region": bool(person.long_term_resident and in_region(residence, pooling)),
        "hk_macao_taiwan": bool(person.hk_macao_taiwan),
        "basic_insured_in_province": bool(person.basic_insured_in_province and residence is not None
                                          and residence.province == pooling.province),
    }


@dataclass(frozen=True)
class YearEnrollments:
    """The person's non-terminated enrollments of one year, any scheme and region, read
    in one query, and what the rules ask of them: the basic ones of a pooling region
    (employee_basic / resident_basic) and whether an employee_basic one is held anywhere
    (an enrollment check or a payment asks both)."""

    rows: tuple[Enrollment, ...]

    @classmethod
    def read(cls, person: Person, year: int) -> YearEnrollments:
        return cls(tuple(Enrollment.objects.filter(person=person, plan_year__year=year)
                         .exclude(status=Enrollment.Status.TERMINATED)
                         .select_related("plan_year__scheme")))

    def basic(self, pooling: pm.Region) -> list[Enrollment]:
        """The basic ones of the pooling region."""
        return [e for e in self.rows if e.plan_year.scheme.kind in BASIC_KINDS
                and e.plan_year.scheme.region_id == pooling.pk]

    def first_basic(self, pooling: pm.Region) -> Enrollment | None:
        """The first basic one of the pooling region: paid ones first, then by id."""
        return min(self.basic(pooling), key=lambda e: (e.coverage_start is None, e.pk), default=None)

    @property
    def holds_employee_basic(self) -> bool:
        """An employee_basic one, any region."""
        return any(e.plan_year.scheme.kind == "employee_basic" for e in self.rows)


def basic_enrollment(person: Person, pooling: pm.Region, year: int) -> Enrollment | None:
    """The person's basic enrollment of the year in the region (paid ones first)."""
    return YearEnrollments.read(person, year).first_basic(pooling)


def holds_employee_basic(person: Person, year: int) -> bool:
    """An employee_basic enrollment of ``year`` (any region) that is not terminated."""
    return YearEnrollments.read(person, year).holds_employee_basic


def held_identities(person: Person) -> tuple[HeldIdentity, ...]:
    return tuple(HeldIdentity(pi.identity.code, pi.valid_from, pi.valid_to)
                 for pi in person.identities.select_related("identity"))


def person_facts(person: Person, *, pooling: pm.Region, year: int,
                 basic_insured_in_region: bool | None = None,
                 enrollment: Enrollment | None = None,
                 identities: tuple[HeldIdentity, ...] | None = None,
                 pre_existing: tuple[str, ...] | None = None,
                 registrations: tuple[HeldRegistration, ...] = ()) -> PersonFacts:
    """The rules' view of a stored person for a plan year of a region.

    ``basic_insured_in_region``: None = derived from the person's basic enrollments of the
    year in the region; True/False = as confirmed by the caller (e.g. checked in the
    bureau's core system for a basic insurance not administered here). ``identities``
    and ``pre_existing`` (the enrollment's declared groups): already read by the caller
    (batch settlement), else read here. ``registrations``: the held chronic-disease
    registrations the settlement reads (``claims.selectors.person_facts_from``).
    """
    if basic_insured_in_region is None:
        basic_insured_in_region = bool(YearEnrollments.read(person, year).basic(pooling))
    continuous = 0
    if enrollment is not None:
        if pre_existing is None:
            pre_existing = tuple(d.group for d in enrollment.pre_existing.all())
        continuous = enrollment.continuous_years
    else:
        pre_existing = ()
    if identities is None:
        identities = held_identities(person)
    return PersonFacts(birth_date=person.birth_date, category=person.category,
                       identities=identities, pre_existing=pre_existing,
                       continuous_years=continuous, resettled=person.resettled,
                       basic_insured_in_region=basic_insured_in_region, registrations=registrations,
                       **admission_facts(person, pooling))


def relation_to_payer(person: Person, payer: Person | None) -> str | None:
    """The person's relation to ``payer`` (the account holder): ``self``, a code of
    ``codes.Relation`` from the recorded family relations (either direction), or None
    when none is recorded."""
    if payer is None or payer.pk == person.pk:
        return "self"
    row = FamilyRelation.objects.filter(person=payer, relative=person).first()
    if row is not None:
        return row.relation
    row = FamilyRelation.objects.filter(person=person, relative=payer).first()
    if row is not None:
        return INVERSE_RELATION.get(row.relation)
    return None


def parents_of(person: Person) -> list[Person]:
    """Persons recorded as the person's parents (either direction of the relation)."""
    ids = set(FamilyRelation.objects.filter(relative=person, relation="child")
              .values_list("person_id", flat=True))
    ids |= set(FamilyRelation.objects.filter(person=person, relation="parent")
               .values_list("relative_id", flat=True))
    return list(Person.objects.filter(pk__in=ids))


def paid_total(enrollment: Enrollment):
    """Σ subsidy, Σ self-paid of the enrollment's payments."""
    agg = Payment.objects.filter(enrollment=enrollment).aggregate(
        subsidy=Coalesce(Sum("subsidy"), 0, output_field=Payment._meta.get_field("subsidy")),
        self_paid=Coalesce(Sum("self_paid"), 0, output_field=Payment._meta.get_field("self_paid")))
    return agg["subsidy"], agg["self_paid"]


def enrollment_in_force(enrollment: Enrollment, day: date) -> bool:
    """Coverage stored, ``day`` inside it, not terminated before it, not suspended."""
    if enrollment.coverage_start is None or enrollment.coverage_end is None:
        return False
    if not enrollment.coverage_start <= day <= enrollment.coverage_end:
        return False
    return not enrollment.suspensions.filter(date_from__lte=day).exclude(date_to__lt=day).exists()


def enrollment_refusal(person: Person, plan_year: pm.PlanYear, *,
                       basic_insured_in_region: bool | None = None) -> CaseError | None:
    """Why ``person`` may not enroll in ``plan_year`` (the eligibility rule of the scheme
    kind), or None. ``basic_insured_in_region`` as in ``person_facts``."""
    pooling = plan_year.scheme.region.pooling_region
    year = YearEnrollments.read(person, plan_year.year)
    if basic_insured_in_region is None:
        basic_insured_in_region = bool(year.basic(pooling))
    facts = person_facts(person, pooling=pooling, year=plan_year.year,
                         basic_insured_in_region=basic_insured_in_region)
    try:
        check_eligibility(contribution_plan(plan_year), facts,
                          holds_employee_basic=year.holds_employee_basic,
                          local=person_is_local(person, pooling))
    except CaseError as exc:
        return exc
    return None


# --------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentPreview:
    """What a payment on a date would record (shown by the admin before saving)."""

    quote: Quote
    relation: str
    paid_subsidy: Decimal  # subsidy already recorded on the enrollment
    paid_self: Decimal  # self-payments already recorded
    subsidy_now: Decimal  # subsidy this payment adds (就高: up to the quote's subsidy)
    remaining: Decimal  # self-pay still open after ``subsidy_now``

    @property
    def due(self) -> Decimal:
        return self.quote.due


@dataclass(frozen=True)
class PaymentFacts:
    """The facts of one payment towards a stored enrollment that the pure payment check
    (``insurance_rules.enrollment.payment.check_payment``) takes, read per payment."""

    plan: ContributionPlan
    person: PersonFacts
    tier: int | None
    relation: str
    holds_employee_basic: bool
    local: bool
    basic_start: date | None
    basic_end: date | None
    paid: PaidSoFar

    def rules(self) -> dict:
        """The keyword arguments of ``quote``/``check_payment`` besides date and channel."""
        return dict(tier=self.tier, relation=self.relation,
                    holds_employee_basic=self.holds_employee_basic, local=self.local,
                    basic_start=self.basic_start, basic_end=self.basic_end)


def payment_facts(enrollment: Enrollment, *, relation_to_payer: str | None = None,
                  payer_person: Person | None = None,
                  basic_insured_in_region: bool | None = None) -> PaymentFacts:
    """Read the facts of a payment towards ``enrollment``: the plan, the person, the basic
    coverage and what the enrollment has received so far (``PaidSoFar``)."""
    plan_year = enrollment.plan_year
    pooling = plan_year.scheme.region.pooling_region
    person = enrollment.person
    relation = relation_to_payer or relation_to_payer_of(person, payer_person)
    if basic_insured_in_region is None and enrollment.basic_confirmed:
        basic_insured_in_region = True
    load_home_regions(person)
    year = YearEnrollments.read(person, plan_year.year)
    if basic_insured_in_region is None:
        basic_insured_in_region = bool(year.basic(pooling))
    facts = person_facts(person, pooling=pooling, year=plan_year.year,
                         basic_insured_in_region=basic_insured_in_region, enrollment=enrollment)
    basic = year.first_basic(pooling)
    paid_subsidy, paid_self = paid_total(enrollment)
    last = (Payment.objects.filter(enrollment=enrollment).order_by("-paid_date")
            .values_list("paid_date", flat=True).first())
    return PaymentFacts(
        plan=contribution_plan(plan_year), person=facts, tier=enrollment.tier or None,
        relation=relation, holds_employee_basic=year.holds_employee_basic,
        local=person_is_local(person, pooling),
        basic_start=basic.coverage_start if basic else None,
        basic_end=basic.coverage_end if basic else None,
        paid=PaidSoFar(subsidy=paid_subsidy, self_paid=paid_self, last_paid_date=last,
                       paid_off_date=enrollment.paid_off_date,
                       terminated=enrollment.status == Enrollment.Status.TERMINATED))


def payment_preview(enrollment: Enrollment, *, paid_date: date, channel: str | None = None,
                    relation_to_payer: str | None = None, payer_person: Person | None = None,
                    basic_insured_in_region: bool | None = None) -> PaymentPreview:
    """Quote a payment towards ``enrollment`` with the pure rules (``CaseError`` on refusal).

    The due, the window and the coverage follow the payment date (the date a payment
    completes the due is the 完清 date); the subsidy already recorded counts towards the
    quote's subsidy, so a subsidy is never recorded twice (``payment_figures``).
    """
    facts = payment_facts(enrollment, relation_to_payer=relation_to_payer, payer_person=payer_person,
                          basic_insured_in_region=basic_insured_in_region)
    result = quote(facts.plan, facts.person, paid_date=paid_date, channel=channel, **facts.rules())
    figures = payment_figures(result, facts.paid)
    return PaymentPreview(quote=result, relation=facts.relation, paid_subsidy=figures.paid_subsidy,
                          paid_self=figures.paid_self, subsidy_now=figures.subsidy_now,
                          remaining=figures.remaining)


def relation_to_payer_of(person: Person, payer: Person | None) -> str:
    """``relation_to_payer`` with ``other`` when no family relation is recorded."""
    return relation_to_payer(person, payer) or "other"


def window_name(plan_year_id, code: str) -> str:
    """The name of the plan year's 缴费期 stored by its code on an enrollment or payment
    (the code itself when the window is gone)."""
    if not code:
        return ""
    return (pm.EnrollmentWindow.objects.filter(plan_year_id=plan_year_id, code=code)
            .values_list("name", flat=True).first() or code)
