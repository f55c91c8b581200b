"""Reads of the claims app (HackSoft selectors): the engine's facts of stored rows (a
claim, an enrollment's coverage, a person, a stored result line) — which ``claims.fetch``
reads in bulk and hands to the engine — the claim's location, its settlement versions,
the documents checklist rules and the offline-review calendar (spec README §3–§4,
leshan.md claim documents, liaocheng.md 7-working-day review).

History (README §4.4): the YTD figures of a claim are evaluated over the person's claims
of the same pooling region and plan year that are already settled (status settled,
approved or paid) — every one of them, whatever its service date, so that two claims
settled in any order never exceed an annual limit together — ordered by service date,
then id. Each is rebuilt from its stored *current* ``ClaimLayer`` rows (``layer_result``;
never recomputed: a settled claim keeps the result it was settled with, README §4.8);
``claims.fetch`` reads them.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q

from enrollment import selectors as enrollment_selectors
from enrollment.models import Enrollment, Person
from insurance_rules.claim_amounts import class_b_copay_of
from insurance_rules.enrollment.vocab import BASIC_KINDS
from insurance_rules.facts import ClaimFacts, Coverage, Hospital, Period, PersonFacts
from insurance_rules.money import ZERO, q2
from insurance_rules.results import ItemResult, LayerResult, ParamRef
from policies import models as pm
from policies import selectors as policy_selectors
from policies.access import scope_queryset
from policies.masking import shown_name

from .models import Claim, ClaimLayer

SUPPLEMENTARY_KINDS = ("employee_supplementary", "inclusive_commercial")
FAR_FUTURE = date(9999, 12, 31)


# --------------------------------------------------------------------------- location


def derive_location(hospital, region: pm.Region) -> str:
    """``in_region`` / ``in_province`` / ``out_of_province`` of a hospital relative to the
    claim's pooling region (codes.md: location is derived)."""
    if hospital.region_id is not None and hospital.region.pooling_region.pk == region.pk:
        return "in_region"
    province = hospital.province_name
    if province and province == region.province:
        return "in_province"
    return "out_of_province"


def claim_location(claim: Claim) -> str:
    if claim.location:
        return claim.location
    if claim.hospital_id is None:
        return "in_region"
    return derive_location(claim.hospital, claim.region)


# --------------------------------------------------------------------------- facts


def hospital_facts(claim: Claim) -> Hospital | None:
    h = claim.hospital
    if h is None:
        return None
    return Hospital(level=h.level, grade=h.grade, admin_level=h.admin_level,
                    location=claim_location(claim), tcm=h.tcm, children=h.children,
                    public=h.public, cdrg=h.cdrg)


_UNSET = object()


def claim_facts(claim: Claim, *, given: dict, hospital=_UNSET) -> ClaimFacts:
    """The engine's view of a stored claim; ``given``: its carried-in layers (scheme kind
    → engine ``GivenLayer``, ``fetch.given_layers``); ``hospital``: its ``hospital_facts``
    when already built (``fetch.RegionYear.claim_facts``)."""
    return ClaimFacts(
        type=claim.claim_type, date=claim.service_date, total=claim.total,
        hospital=hospital_facts(claim) if hospital is _UNSET else hospital,
        out_of_catalog=claim.out_of_catalog,
        class_b_copay=claim.class_b_copay, compliant=claim.compliant,
        tcm_compliant=claim.tcm_compliant, special_drug=claim.special_drug, filed=claim.filed,
        major_disease=claim.major_disease or None,
        disease=claim.disease.code if claim.disease_id else None, special_b=claim.special_b,
        drug_class_a=claim.drug_class_a, drug_class_b=claim.drug_class_b,
        class_b_items=claim.class_b_items, delivery_mode=claim.delivery_mode or None,
        drug_list=claim.drug_list or None, drug_class=claim.drug_class or None,
        out_of_catalog_controlled=claim.out_of_catalog_controlled, given=given,
        ref=f"理赔 {claim.settlement_no}",
    )


def region_enrollments(person: Person, region: pm.Region, year: int, read=None):
    """The person's enrollments of ``year`` in the schemes of the pooling region.
    ``read``: the person's enrollments of ``year`` already read (``fetch.enrollments_of_years``),
    then nothing is queried."""
    if read is not None:
        return sorted((e for e in read if e.plan_year.scheme.region_id == region.pk),
                      key=lambda e: e.plan_year.scheme.settlement_order)
    return (Enrollment.objects.filter(person=person, plan_year__year=year,
                                      plan_year__scheme__region=region)
            .select_related("plan_year__scheme").prefetch_related("suspensions", "pre_existing")
            .order_by("plan_year__scheme__settlement_order"))


def coverage_of(enrollment: Enrollment, suspensions=None) -> Coverage | None:
    """The engine's coverage of an enrollment (None while the coverage is not stored,
    i.e. not fully paid: the person holds no coverage in that scheme yet).
    ``suspensions``: the enrollment's suspensions when already read (batch)."""
    if enrollment.coverage_start is None or enrollment.coverage_end is None:
        return None
    if suspensions is None:
        suspensions = enrollment.suspensions.all()
    suspended = tuple(Period(s.date_from, s.date_to or FAR_FUTURE) for s in suspensions)
    return Coverage(scheme=enrollment.plan_year.scheme.kind, start=enrollment.coverage_start,
                    end=enrollment.coverage_end, tier=enrollment.tier, suspended=suspended)


def coverages_from(enrollments, suspensions=None) -> tuple[Coverage, ...]:
    """The coverages of a person's enrollments of a year (those with a stored coverage);
    ``suspensions``: enrollment id → its suspensions, when already read (batch)."""
    found = (coverage_of(e, None if suspensions is None else suspensions.get(e.pk, ()))
             for e in enrollments)
    return tuple(c for c in found if c is not None)


def person_region(person: Person, year: int, read=None) -> pm.Region:
    """The pooling region of the person's enrollments of ``year`` (exactly one), else a
    ValidationError naming the field to fill. ``read``: those enrollments already read
    (``fetch.enrollments_of_years``)."""
    if read is None:
        read = person.enrollments.filter(plan_year__year=year).select_related("plan_year__scheme__region__parent")
    regions = {e.plan_year.scheme.region.pooling_region for e in read}
    if len(regions) == 1:
        return regions.pop()
    if regions:
        raise ValidationError({"region": "请选择参保统筹区（参保人在多个统筹区有参保登记）"})
    raise ValidationError({"person": f"参保人{shown_name(person.name)}没有 {year} 年度的参保登记"
                                     "（请核对就诊/入院日期，或先登记参保）"})


def person_facts_from(person: Person, region: pm.Region, year: int, enrollments, *,
                      identities, registrations, pre_existing) -> PersonFacts:
    """``enrollment.selectors.person_facts`` plus the approved registrations, from the
    person's enrollments of the year in the region (``region_enrollments``, in settlement
    order). The supplementary/commercial enrollment of the year carries the pre-existing
    groups (三明) and the continuous years (乐山); its ``basic_confirmed`` stands for a
    basic insurance administered elsewhere; otherwise the person is basic-insured in the
    region when a basic enrollment of the year is not terminated. ``identities``,
    ``registrations`` (held, ``approved_registrations``) and ``pre_existing`` (enrollment
    id → groups): read in bulk by ``claims.fetch``."""
    extra = next((e for e in enrollments if e.plan_year.scheme.kind in SUPPLEMENTARY_KINDS), None)
    if extra is not None and extra.basic_confirmed:
        basic = True
    else:
        basic = any(e.plan_year.scheme.kind in BASIC_KINDS and e.status != Enrollment.Status.TERMINATED
                    for e in enrollments)
    return enrollment_selectors.person_facts(person, pooling=region, year=year,
                                             basic_insured_in_region=basic, enrollment=extra,
                                             identities=identities,
                                             pre_existing=None if extra is None
                                             else tuple(pre_existing.get(extra.pk, ())),
                                             registrations=tuple(registrations))


# --------------------------------------------------------------------------- history


def _dec(value, default=None):
    return default if value in (None, "") else Decimal(str(value))


def layer_result(row: ClaimLayer) -> LayerResult:
    """A stored result line as the engine's ``LayerResult`` (exact values)."""
    items = tuple(ItemResult(
        code=i["code"], paid=_dec(i.get("paid"), ZERO), deductible=_dec(i.get("deductible"), ZERO),
        ratio=_dec(i.get("ratio")), basis=_dec(i.get("basis")), capped=_dec(i.get("capped"), ZERO),
        reason=i.get("reason", ""), explanation=i.get("explanation", "")) for i in row.items or ())
    refs = tuple(ParamRef(r.get("table", ""), r.get("id"), tuple((k, str(v)) for k, v in
                                                                 (r.get("values") or {}).items()))
                 for r in row.param_refs or ())
    return LayerResult(
        scheme=row.scheme_kind, paid=row.paid, deductible=row.deductible, ratio=row.ratio,
        capped=row.capped, basis=row.basis, reason=row.reason, explanation=row.explanation,
        refs=refs, items=items, given=row.given,
        extra=tuple((k, str(v)) for k, v in (row.extra or {}).items()))


def layer_versions(claim: Claim) -> list[tuple[int, bool, list[ClaimLayer]]]:
    """Every settlement version of the claim, newest first: (version, current, lines)."""
    out: dict[int, list[ClaimLayer]] = {}
    for row in claim.layers.order_by("-version", "seq"):
        out.setdefault(row.version, []).append(row)
    return [(v, rows[0].is_current, rows) for v, rows in out.items()]


# --------------------------------------------------------------------------- documents


def document_scope(claim: Claim) -> str:
    """``local`` for treatment in the region, ``out_of_region`` elsewhere (leshan.md)."""
    return "local" if claim_location(claim) == "in_region" else "out_of_region"


_DOCUMENT_RULES = policy_selectors.RowKeyedCache(size=64)  # (region, year) slots per process


def document_rules(region: pm.Region, year: int, *, plan_years=None) -> list[pm.DocumentRule]:
    """The DocumentRule rows of the region's plan years of ``year`` (not drafts), in
    settlement order. ``plan_years``: the region's plan years of the year, just read (id →
    row with its scheme, ``fetch.RegionYear.plan_years``): the rows are then kept by the
    process while none of those plan years (their ``rules_version`` changes with any of
    their rule rows, ``policies.rules_version``) or their schemes change."""
    def read():
        return list(pm.DocumentRule.objects.filter(plan_year__scheme__region=region, plan_year__year=year)
                    .exclude(plan_year__status=pm.PlanYear.Status.DRAFT)
                    .select_related("plan_year__scheme").order_by("plan_year__scheme__settlement_order", "seq"))

    if plan_years is None:
        return read()
    key = tuple(sorted((policy_selectors.row_key(py), policy_selectors.row_key(py.scheme))
                       for py in plan_years.values()))
    return _DOCUMENT_RULES.get((region.pk, year), key, read)


def paid_by_scheme(rows) -> dict[str, Decimal]:
    """Scheme kind → amount paid, of stored result lines (``ClaimLayer`` rows); the
    engine's result has its own ``SettledClaim.paid_by_scheme``."""
    return {row.scheme_kind: row.paid for row in rows}


def required_documents(claim: Claim, paid, rules=None) -> list[tuple[str, pm.DocumentRule]]:
    """(scheme kind, ``DocumentRule``) of the items the claim needs: for every layer that
    pays (``paid``: scheme kind → paid, ``paid_by_scheme``; paid > 0), the rows of its plan
    year whose scope is the claim's (or any) and whose condition holds (always; layer
    paid ≥ threshold; total ≥ threshold). ``rules``: ``document_rules`` of the claim's
    region and year, when already read."""
    scope = document_scope(claim)
    paid = {kind: amount for kind, amount in paid.items() if amount > 0}
    if not paid:
        return []
    if rules is None:
        rules = document_rules(claim.region, claim.year)
    out = []
    for rule in rules:
        kind = rule.plan_year.scheme.kind
        if kind not in paid or rule.scope not in (scope, "any"):
            continue
        if rule.condition == "paid_gte" and paid[kind] < rule.threshold:
            continue
        if rule.condition == "total_gte" and claim.total < rule.threshold:
            continue
        out.append((kind, rule))
    return out


def missing_documents(claim: Claim):
    return claim.documents.filter(received=False).order_by("scheme_kind", "seq")


# --------------------------------------------------------------------------- calendar


def calendar(region: pm.Region, start: date, end: date) -> tuple[set[date], set[date]]:
    """(holidays, 调休 working days) between ``start`` and ``end`` for the region (its
    own rows, its parents' and the national ones)."""
    ids, r = [], region
    while r is not None:
        ids.append(r.pk)
        r = r.parent
    rows = pm.Holiday.objects.filter(date__range=(start, end)).filter(
        Q(region__isnull=True) | Q(region__in=ids))
    holidays = {h.date for h in rows if h.kind == pm.Holiday.Kind.HOLIDAY}
    workdays = {h.date for h in rows if h.kind == pm.Holiday.Kind.WORKDAY}
    return holidays, workdays


def add_working_days(start: date, days: int, holidays: set[date], workdays: set[date]) -> date:
    """The ``days``-th working day after ``start`` (the acceptance day itself not counted).
    Working day: Monday–Friday not a holiday, or a 调休 working day."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if day in workdays or (day.weekday() < 5 and day not in holidays):
            counted += 1
    return day


def review_working_days(region: pm.Region, year: int) -> int | None:
    """The plan-year figure ``review_working_days`` of the region's schemes (the
    in-force plan year; the first scheme in settlement order that sets it)."""
    row = (pm.PlanFigure.objects.filter(
        code=pm.PlanFigure.Code.REVIEW_WORKING_DAYS, plan_year__year=year,
        plan_year__scheme__region=region)
        .exclude(plan_year__status=pm.PlanYear.Status.DRAFT)
        .order_by("plan_year__scheme__settlement_order").first())
    return int(row.value) if row is not None else None


def review_due_date(claim: Claim) -> date | None:
    """Decision deadline of a claim needing offline review (liaocheng.md): the
    ``review_working_days``-th working day after acceptance; None without offline
    review or without the figure."""
    if not claim.offline_review or claim.accepted_on is None:
        return None
    days = review_working_days(claim.region, claim.year)
    if days is None:
        return None
    start = claim.accepted_on
    holidays, workdays = calendar(claim.region, start, start + timedelta(days=days * 3 + 60))
    return add_working_days(start, days, holidays, workdays)


def overdue_claims(*, today: date | None = None, user=None):
    """Claims needing offline review whose deadline has passed and which are not decided
    yet (录入, 已结算 or 退回)."""
    today = today or date.today()
    qs = Claim.objects.filter(offline_review=True, review_due_date__lt=today,
                              status__in=Claim.PENDING_REVIEW)
    if user is not None:
        qs = scope_queryset(qs, user, "region")
    return qs.order_by("review_due_date", "id")


# --------------------------------------------------------------------------- helpers


def class_b_copay_rate(region: pm.Region, year: int) -> Decimal | None:
    row = (pm.PlanFigure.objects.filter(code=pm.PlanFigure.Code.CLASS_B_COPAY_RATE,
                                        plan_year__year=year, plan_year__scheme__region=region)
           .exclude(plan_year__status=pm.PlanYear.Status.DRAFT)
           .order_by("plan_year__scheme__settlement_order").first())
    return row.value if row is not None else None


def derived_class_b_copay(region, year, class_b_items: Decimal) -> Decimal | None:
    rate = class_b_copay_rate(region, year)
    return None if rate is None else q2(class_b_copay_of(class_b_items, rate))


def claims_visible_to(user, queryset=None):
    queryset = Claim.objects.all() if queryset is None else queryset
    return scope_queryset(queryset, user, "region")
