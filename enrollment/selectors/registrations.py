"""Reads for chronic-disease / 两病 registrations (spec changzhi.md, trial-calc.md
``registration``): the region's catalogue, the plan year's benefit and
admission-criterion rows (as ``insurance_rules.params`` dataclasses for the pure rules in
``insurance_rules.enrollment.registration``), and — once the models exist — the registrations a
person holds.

The scheme's plan year under a plan-year status (trial-calc ``--plan-status``) is
``enrollments.plan_year_of`` (``missing_ok=True``: the assessment words its own refusal).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import F, Q

from insurance_rules.enrollment.registration import (
    Assessment,
    BloodPressure,
    Evidence,
    assess,
    exclusion_check,
    gate_checks,
)
from insurance_rules.errors import InvalidInput, MissingRule, UnknownCode
from insurance_rules.facts import HeldRegistration
from insurance_rules.params import ChronicRule, Criterion, Disease, TwoDiseaseRule
from policies import models as pm
from sheets.bulk_sql import InArray, PreparedValues

from .enrollments import plan_year_of


def disease_facts(disease: pm.ChronicDisease) -> Disease:
    return Disease(
        id=disease.pk, code=disease.code, name=disease.name, kind=disease.kind,
        disease_class=disease.disease_class, closed_from=disease.closed_from,
        excluded_by=disease.excluded_by.code if disease.excluded_by_id else None,
    )


def catalogue_disease(region: pm.Region, code) -> pm.ChronicDisease:
    """A disease of the region's catalogue; unknown → UnknownCode."""
    if not isinstance(code, str) or not code:
        raise InvalidInput("缺少字段“disease”（病种代码）")
    disease = (pm.ChronicDisease.objects.select_related("excluded_by")
               .filter(region=region, code=code).first())
    if disease is None:
        raise UnknownCode(f"未知的病种代码“disease”：{code}（{region.name}病种目录中没有此病种）")
    return disease


def catalogue_names(region: pm.Region) -> dict[str, str]:
    return dict(pm.ChronicDisease.objects.filter(region=region).values_list("code", "name"))


def plan_label(scheme: pm.Scheme, year: int) -> str:
    return f"{scheme.region.name} {scheme.name} {year} 年度方案"


def benefit_for(plan_year: pm.PlanYear, disease: pm.ChronicDisease
                ) -> ChronicRule | TwoDiseaseRule | None:
    """The benefit row of the disease in the plan year (两病 or 门诊慢特病), or None."""
    facts = disease_facts(disease)
    if disease.kind == pm.ChronicDisease.Kind.TWO_DISEASES:
        row = pm.TwoDiseaseBenefit.objects.filter(plan_year=plan_year, disease=disease).first()
        if row is None:
            return None
        return TwoDiseaseRule(id=row.pk, disease=facts, deductible=row.deductible,
                              ratio_class_a=row.ratio_class_a, ratio_class_b=row.ratio_class_b,
                              annual_limit=row.annual_limit)
    row = pm.ChronicBenefit.objects.filter(plan_year=plan_year, disease=disease).first()
    if row is None:
        return None
    return ChronicRule(id=row.pk, disease=facts, monthly_limit=row.monthly_limit, ratio=row.ratio,
                       deductible=row.deductible, shares_pool=row.shares_pool)


def criteria_for(plan_year: pm.PlanYear, disease: pm.ChronicDisease) -> tuple[Criterion, ...]:
    rows = pm.AdmissionCriterion.objects.filter(plan_year=plan_year, disease=disease).order_by("id")
    return tuple(Criterion(id=r.pk, disease=disease.code, code=r.code, value=r.value) for r in rows)


# --------------------------------------------------------------------------- registrations


def held_facts(registration) -> HeldRegistration:
    return held_fact(registration.disease.code, registration.valid_from, registration.valid_to)


def held_fact(disease_code: str, valid_from: date, valid_to: date | None) -> HeldRegistration:
    """A held registration as the engine reads it: approved from its ``valid_from``."""
    return HeldRegistration(disease=disease_code, approved=valid_from, valid_to=valid_to)


def approved_registrations(person, on_date: date | None = None, *, exclude=None
                           ) -> tuple[HeldRegistration, ...]:
    """The registrations ``person`` holds, as the settlement engine reads them
    (``PersonFacts.registrations``): approved ones, and terminated ones for the period they
    were valid (termination sets ``valid_to``). With ``on_date``: only those valid that day.
    ``exclude``: a registration id left out (the one being decided)."""
    from enrollment.models import Registration

    qs = (Registration.objects.select_related("disease")
          .filter(person=person, status__in=Registration.HELD, valid_from__isnull=False)
          .order_by("valid_from", "id"))
    if on_date is not None:
        qs = qs.filter(valid_from__lte=on_date).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=on_date))
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return tuple(held_facts(r) for r in qs)


def _held_by_person(person_ids):
    from enrollment.models import Registration

    return (Registration.objects.filter(InArray(F("person_id"), person_ids), status__in=Registration.HELD,
                                        valid_from__isnull=False)
            .order_by("person_id", "valid_from", "id")
            .values_list("person_id", "disease__code", "valid_from", "valid_to"))


_HELD_BY_PERSON = PreparedValues(_held_by_person)  # compiled once per process (every settlement)


def held_registrations_by_person(person_ids) -> dict[int, tuple[HeldRegistration, ...]]:
    """``approved_registrations`` of many persons at once (settlement): person id → the
    registrations held, in the same order (the ids as one array parameter: ``InArray``),
    read as values by SQL compiled once per process (``PreparedValues``)."""
    out: dict[int, list[HeldRegistration]] = {}
    for person_id, code, valid_from, valid_to in _HELD_BY_PERSON.rows(list(person_ids)):
        out.setdefault(person_id, []).append(held_fact(code, valid_from, valid_to))
    return {pid: tuple(rows) for pid, rows in out.items()}


def registration_evidence(registration) -> Evidence:
    """The typed evidence of a stored registration, for the pure rules."""
    readings = tuple(BloodPressure(r.date, Decimal(r.systolic), Decimal(r.diastolic))
                     for r in registration.bp_readings.all())
    return Evidence(
        bp=readings, hba1c=registration.hba1c, fasting_glucose=registration.fasting_glucose,
        random_glucose=registration.random_glucose, ogtt_2h=registration.ogtt_2h,
        symptoms=registration.symptoms, type1_confirmed=registration.type1_confirmed,
        needs_medication=registration.needs_medication,
        management_record=registration.management_record,
    )


def assess_registration(registration, *, on_date: date | None = None,
                        plan_status: str = "active") -> Assessment:
    """Every admission check of a stored registration against the rows of its scheme's
    plan year of the application year. Exclusion is checked on the application date and,
    when given (the validity start of an approval), on ``on_date`` too. Raises
    ``MissingRule`` when the plan year or a required criterion row is missing."""
    disease, scheme = registration.disease, registration.scheme
    region = scheme.region
    day = registration.application_date
    facts = disease_facts(disease)
    names = catalogue_names(region)
    held = approved_registrations(registration.person, exclude=registration.pk)
    plan_year = plan_year_of(scheme, day.year, plan_status, missing_ok=True)
    label = plan_label(scheme, day.year)
    if plan_year is None:
        gates = gate_checks(facts, day, held, names)
        if all(c.passed for c in gates):
            raise MissingRule(f"缺少{label}（生效）：无法判断病种 {facts.code} 的待遇与准入标准")
        result = Assessment(facts.code, gates)
    else:
        result = assess(disease=facts, application_date=day,
                        evidence=registration_evidence(registration), held=held,
                        benefit=benefit_for(plan_year, disease),
                        criteria=criteria_for(plan_year, disease), plan_label=label, names=names)
    if on_date is not None and on_date != day:
        later = exclusion_check(facts, on_date, held, names)
        if later is not None and not later.passed:
            result = Assessment(result.disease, result.checks + (later,))
    return result


def conflicting_registrations(registration):
    """Held registrations of the same person whose disease is excluded by this one's
    (e.g. a valid HBP registration when CZ18 is approved), valid on its ``valid_from``."""
    from enrollment.models import Registration

    if registration.valid_from is None:
        return Registration.objects.none()
    return (Registration.objects.select_related("disease")
            .filter(person=registration.person, status=Registration.Status.APPROVED,
                    disease__excluded_by=registration.disease,
                    valid_from__lte=registration.valid_from)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=registration.valid_from)))


# --------------------------------------------------------------------------- 三明 health status


def pre_existing_groups(enrollment) -> tuple[str, ...]:
    """The 特定既往症 groups declared on the enrollment (三明, sanming.md), sorted."""
    from enrollment.models import PreExistingDeclaration

    groups = PreExistingDeclaration.objects.filter(enrollment=enrollment).values_list(
        "group", flat=True).distinct()
    return tuple(sorted(set(groups)))


def health_status(enrollment) -> str:
    """``pre_existing`` when any 特定既往症 is declared on the enrollment, else ``healthy``
    (sanming.md "Health status of the person for the year")."""
    return "pre_existing" if pre_existing_groups(enrollment) else "healthy"
