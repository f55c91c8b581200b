"""Reads of the claims app (HackSoft selectors): the engine's facts for a stored claim,
the person's year-to-date history rebuilt from the stored result lines, the YTD panel,
the documents checklist rules and the offline-review calendar (spec README §3–§4,
leshan.md claim documents, liaocheng.md 7-working-day review).

History (README §4.4): the YTD figures of a claim are evaluated over the person's claims
of the same pooling region and plan year that are already settled (status settled,
approved or paid) — every one of them, whatever its service date, so that two claims
settled in any order never exceed an annual limit together — ordered by service date,
then id. Each is rebuilt from its stored *current* ``ClaimLayer`` rows (never
recomputed: a settled claim keeps the result it was settled with, README §4.8).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q

from enrollment import selectors as enrollment_selectors
from enrollment.models import Enrollment, Person
from enrollment.selectors.registrations import approved_registrations
from insurance_rules.claim_amounts import class_b_copay_of
from insurance_rules.common import annual_limit
from insurance_rules.enrollment.vocab import BASIC_KINDS
from insurance_rules.facts import ClaimFacts, Coverage, GivenLayer, Hospital, Period, PersonFacts
from insurance_rules.money import ZERO, q2
from insurance_rules.params import PlanParams
from insurance_rules.results import ItemResult, LayerResult, ParamRef, SettledClaim
from insurance_rules.vocab import POOL_NAMES, claim_type_name
from policies import models as pm
from policies import selectors as policy_selectors
from policies.access import scope_queryset

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


def claim_facts(claim: Claim, *, given: dict | None = None) -> ClaimFacts:
    """The engine's view of a stored claim (``given``: overrides the stored given layers,
    e.g. from an unsaved form)."""
    if given is None:
        given = {g.scheme_kind: GivenLayer(paid=g.paid, deductible=g.deductible, over_cap=g.over_cap)
                 for g in claim.given_layers.all()}
    return ClaimFacts(
        type=claim.claim_type, date=claim.service_date, total=claim.total,
        hospital=hospital_facts(claim), out_of_catalog=claim.out_of_catalog,
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


def region_enrollments(person: Person, region: pm.Region, year: int):
    """The person's enrollments of ``year`` in the schemes of the pooling region."""
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


def coverages_for(person: Person, region: pm.Region, year: int) -> tuple[Coverage, ...]:
    return coverages_from(region_enrollments(person, region, year))


def person_region(person: Person, year: int) -> pm.Region:
    """The pooling region of the person's enrollments of ``year`` (exactly one), else a
    ValidationError naming the field to fill."""
    regions = {e.plan_year.scheme.region.pooling_region for e in person.enrollments.filter(
        plan_year__year=year).select_related("plan_year__scheme__region__parent")}
    if len(regions) == 1:
        return regions.pop()
    if regions:
        raise ValidationError({"region": "请选择参保统筹区（参保人在多个统筹区有参保登记）"})
    raise ValidationError({"person": f"参保人{person.name}没有 {year} 年度的参保登记"
                                     "（请核对就诊/入院日期，或先登记参保）"})


def person_facts_from(person: Person, region: pm.Region, year: int, enrollments, *,
                      identities=None, registrations=None, pre_existing=None) -> PersonFacts:
    """``enrollment.selectors.person_facts`` plus the approved registrations, from the
    person's enrollments of the year in the region (``region_enrollments``, in settlement
    order). The supplementary/commercial enrollment of the year carries the pre-existing
    groups (三明) and the continuous years (乐山); its ``basic_confirmed`` stands for a
    basic insurance administered elsewhere; otherwise the person is basic-insured in the
    region when a basic enrollment of the year is not terminated. ``identities``,
    ``registrations`` and ``pre_existing`` (enrollment id → groups): already read by the
    caller (batch settlement), else read here."""
    extra = next((e for e in enrollments if e.plan_year.scheme.kind in SUPPLEMENTARY_KINDS), None)
    if extra is not None and extra.basic_confirmed:
        basic = True
    else:
        basic = any(e.plan_year.scheme.kind in BASIC_KINDS and e.status != Enrollment.Status.TERMINATED
                    for e in enrollments)
    facts = enrollment_selectors.person_facts(person, pooling=region, year=year,
                                              basic_insured_in_region=basic, enrollment=extra,
                                              identities=identities,
                                              pre_existing=None if pre_existing is None or extra is None
                                              else tuple(pre_existing.get(extra.pk, ())))
    if registrations is None:
        registrations = approved_registrations(person)
    return replace(facts, registrations=registrations)


def person_facts_for(person: Person, region: pm.Region, year: int) -> PersonFacts:
    return person_facts_from(person, region, year, list(region_enrollments(person, region, year)))


def region_plans(claim: Claim, plan_status: str = "active") -> dict[str, PlanParams | None]:
    return policy_selectors.region_plans(region_code=claim.region.code, year=claim.year,
                                         plan_status=plan_status)


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


def counted_claims(person, region, year: int, *, exclude=None):
    """The person's settled (settled/approved/paid) claims of the region and plan year,
    in history order (service date, then id)."""
    qs = (Claim.objects.filter(person=person, region=region, year=year, status__in=Claim.COUNTED)
          .select_related("hospital__region__parent", "region", "disease")
          .prefetch_related("given_layers")
          .order_by("service_date", "id"))
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk if hasattr(exclude, "pk") else exclude)
    return qs


def settled_history(claims, *, given=None) -> list[SettledClaim]:
    """Counted claims (in history order) rebuilt as the engine's ``SettledClaim``s from
    their current stored result lines (one query for the lines). ``given``: claim id →
    its given layers (engine facts), when already read (batch)."""
    claims = list(claims)
    lines: dict[int, list[ClaimLayer]] = {}
    for row in ClaimLayer.objects.filter(claim__in=[c.pk for c in claims], is_current=True).order_by(
            "claim_id", "seq"):
        lines.setdefault(row.claim_id, []).append(row)
    return [SettledClaim(claim=claim_facts(c, given=None if given is None else given.get(c.pk, {})),
                         layers=tuple(layer_result(r) for r in lines.get(c.pk, ())))
            for c in claims]


def ytd_history(person, region, year: int, *, exclude=None) -> tuple[SettledClaim, ...]:
    """The engine's history (``settle_claim(history=...)``): every counted claim rebuilt
    from its current stored result lines, in order (service date, then id)."""
    return tuple(settled_history(counted_claims(person, region, year, exclude=exclude)))


def claim_history(claim: Claim) -> tuple[SettledClaim, ...]:
    return ytd_history(claim.person, claim.region, claim.year, exclude=claim)


def layer_versions(claim: Claim) -> list[tuple[int, bool, list[ClaimLayer]]]:
    """Every settlement version of the claim, newest first: (version, current, lines)."""
    out: dict[int, list[ClaimLayer]] = {}
    for row in claim.layers.order_by("-version", "seq"):
        out.setdefault(row.version, []).append(row)
    return [(v, rows[0].is_current, rows) for v, rows in out.items()]


# --------------------------------------------------------------------------- YTD panel


@dataclass
class PanelLine:
    label: str
    limit: Decimal | None  # None = 不设封顶 / no threshold
    used: Decimal
    kind: str = "limit"  # limit / deductible / basis

    @property
    def left(self) -> Decimal | None:
        return None if self.limit is None else max(self.limit - self.used, ZERO)


@dataclass
class PanelScheme:
    kind: str
    name: str
    paid: Decimal = ZERO
    deductible: Decimal = ZERO
    lines: list[PanelLine] = field(default_factory=list)


@dataclass
class YtdPanel:
    year: int
    claims: int
    fund_total: Decimal
    personal: Decimal
    schemes: list[PanelScheme]


def _tier_of(person, region, year) -> dict[str, int]:
    return {e.plan_year.scheme.kind: e.tier for e in region_enrollments(person, region, year)}


def ytd_panel(person, region, year: int, *, on: date | None = None, exclude=None) -> YtdPanel:
    """Year-to-date figures of the person in the region's plan year, from the stored
    current lines of the counted claims and the plan rows: per scheme the amount paid,
    the deductible absorbed, each annual-limit pool (limit, used, left), each
    responsibility's annual deductible and sum insured, and cumulative bases (大病 S)."""
    history = ytd_history(person, region, year, exclude=exclude)
    plans = policy_selectors.region_plans(region_code=region.code, year=year)
    names = policy_selectors.scheme_names(region.code)
    tiers = _tier_of(person, region, year)
    day = on or (history[-1].claim.date if history else date(year, 1, 1))
    facts = person_facts_for(person, region, year)
    fund = sum((sc.fund_total for sc in history), ZERO)
    total = sum((sc.claim.total for sc in history), ZERO)
    schemes = []
    for kind, plan in plans.items():
        if kind not in tiers:
            continue
        layers = [lr for sc in history for lr in sc.layers if lr.scheme == kind]
        panel = PanelScheme(kind=kind, name=names.get(kind, kind),
                            paid=sum((lr.paid for lr in layers), ZERO),
                            deductible=sum((lr.deductible for lr in layers), ZERO))
        if plan is not None:
            _pool_lines(panel, plan, layers, tiers[kind], facts, day)
            _responsibility_lines(panel, plan, layers, facts)
        basis = sum((lr.extra_value("ytd_basis") for lr in layers), ZERO)
        if basis:
            first = min((s.threshold for s in plan.segments), default=None) if plan else None
            panel.lines.append(PanelLine("累计计算基数（起付标准）", first, basis, kind="basis"))
        schemes.append(panel)
    return YtdPanel(year=year, claims=len(history), fund_total=fund, personal=total - fund,
                    schemes=schemes)


def _pool_lines(panel: PanelScheme, plan: PlanParams, layers, tier: int, facts, day) -> None:
    for pool in dict.fromkeys(r.pool for r in plan.limits):
        row = annual_limit(plan, pool, tier=tier, person=facts, day=day)
        if row is None:
            continue
        used = sum((lr.paid for lr in layers if lr.extra_text("limit_pool") == pool), ZERO)
        panel.lines.append(PanelLine(POOL_NAMES.get(pool, pool), row.amount, used))
    pools = {}
    for lr in layers:
        pool = lr.extra_text("deductible_pool")
        if pool:
            pools[pool] = pools.get(pool, ZERO) + lr.deductible
    for pool, used in pools.items():
        rows = [b for b in plan.benefits if b.claim_type == pool and b.deductible_mode == "annual"
                and b.tier in (0, tier)]
        limit = max((b.deductible for b in rows), default=None)
        panel.lines.append(PanelLine(f"{claim_type_name(pool)}年度累计起付线", limit, used, kind="deductible"))


def _responsibility_lines(panel: PanelScheme, plan: PlanParams, layers, facts) -> None:
    listed = {p.group for p in plan.pre_existing}
    pre = any(g in listed for g in facts.pre_existing)
    for row in sorted(plan.responsibilities, key=lambda r: r.seq):
        paid = sum((it.paid for lr in layers for it in lr.items if it.code == row.code), ZERO)
        absorbed = sum((it.deductible for lr in layers for it in lr.items if it.code == row.code), ZERO)
        insured = row.sum_insured_pre_existing if pre and row.sum_insured_pre_existing is not None \
            else row.sum_insured
        panel.lines.append(PanelLine(f"{row.code} {row.name} 年度保额", insured, paid))
        if row.deductible:
            panel.lines.append(PanelLine(f"{row.code} 年度免赔额", row.deductible, absorbed,
                                         kind="deductible"))


# --------------------------------------------------------------------------- documents


def document_scope(claim: Claim) -> str:
    """``local`` for treatment in the region, ``out_of_region`` elsewhere (leshan.md)."""
    return "local" if claim_location(claim) == "in_region" else "out_of_region"


def document_rules(region: pm.Region, year: int) -> list[pm.DocumentRule]:
    """The DocumentRule rows of the region's plan years of ``year`` (not drafts), in
    settlement order."""
    return list(pm.DocumentRule.objects.filter(plan_year__scheme__region=region, plan_year__year=year)
                .exclude(plan_year__status=pm.PlanYear.Status.DRAFT)
                .select_related("plan_year__scheme").order_by("plan_year__scheme__settlement_order", "seq"))


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
