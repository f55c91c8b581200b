"""Reads of the policy rows as the engine's resolved parameters (``insurance_rules.params``).

``region_plans`` / ``plan_params_for`` build a frozen ``PlanParams`` per scheme from the
rule tables with one query per table for all the region's plan years together.

Plan-year status (trial-calc ``--plan-status``):
- ``active`` (the default) reads the plan year in force: ``active``, else a ``closed``
  one (claims of a closed year are still settled with its rules);
- ``draft`` reads the ``draft`` plan year and, for a scheme that has no draft for that
  year, falls back to its active (else closed) plan year — so a policy officer can
  evaluate a draft of one scheme against the in-force rows of the region's other
  layers.
A scheme of the region without any plan year of that status for the year maps to None.
"""
from __future__ import annotations

from collections import defaultdict

from insurance_rules.errors import InvalidInput, UnknownCode
from insurance_rules.params import (
    Adjustment,
    Applicable,
    AssistanceRow,
    Benefit,
    ChronicRule,
    Criterion,
    Disease,
    DocumentReq,
    DrugRatio,
    FeeClass,
    Figure,
    IdentityRatio,
    Incentive,
    LevelSub,
    Limit,
    OopCap,
    PlanParams,
    PreExisting,
    ResponsibilityRule,
    Segment,
    Standard,
    Subsidy,
    TwoDiseaseRule,
    Window,
)

from . import models as pm

STATUS_PREFERENCE = {
    "active": (pm.PlanYear.Status.ACTIVE, pm.PlanYear.Status.CLOSED),
    "draft": (pm.PlanYear.Status.DRAFT, pm.PlanYear.Status.ACTIVE, pm.PlanYear.Status.CLOSED),
}


def pooling_region(region_code) -> pm.Region:
    """The 统筹区 of a region code (a sub-region maps to its pooling region)."""
    if not isinstance(region_code, str) or not region_code:
        raise InvalidInput("缺少字段“region”（统筹区代码）")
    region = pm.Region.objects.select_related("parent__parent").filter(code=region_code).first()
    if region is None:
        raise UnknownCode(f"未知的统筹区代码“region”：{region_code}")
    return region.pooling_region


def _choose(plan_years, plan_status: str) -> pm.PlanYear | None:
    if plan_status not in STATUS_PREFERENCE:
        raise InvalidInput(f"未知的年度方案状态：{plan_status}（active 或 draft）")
    by_status = {py.status: py for py in plan_years}
    for status in STATUS_PREFERENCE[plan_status]:
        if status in by_status:
            return by_status[status]
    return None


def region_plans(*, region_code: str, year: int, plan_status: str = "active") -> dict[str, PlanParams | None]:
    """The region's schemes in settlement order → the plan year's parameters (or None)."""
    region = pooling_region(region_code)
    schemes = list(pm.Scheme.objects.filter(region=region).order_by("settlement_order"))
    plan_years = defaultdict(list)
    for py in pm.PlanYear.objects.filter(scheme__in=schemes, year=year):
        plan_years[py.scheme_id].append(py)
    chosen = {s.pk: _choose(plan_years[s.pk], plan_status) for s in schemes}
    built = build_params(region, schemes, [py for py in chosen.values() if py is not None])
    return {s.kind: built.get(chosen[s.pk].pk) if chosen[s.pk] else None for s in schemes}


def plan_params_for(*, region_code: str, kind: str, year: int,
                    plan_status: str = "active") -> PlanParams | None:
    """One scheme's parameters for a year (None when the region has the scheme but no
    plan year of that status); ``UnknownCode`` when the region has no such scheme."""
    plans = region_plans(region_code=region_code, year=year, plan_status=plan_status)
    if kind not in plans:
        raise UnknownCode(f"未知的险种“{kind}”：统筹区 {region_code} 没有此险种")
    return plans[kind]


def scheme_names(region_code: str) -> dict[str, str]:
    region = pooling_region(region_code)
    return dict(pm.Scheme.objects.filter(region=region).values_list("kind", "name"))


def _by_plan(qs):
    out = defaultdict(list)
    for row in qs:
        out[row.plan_year_id].append(row)
    return out


def _disease(d: pm.ChronicDisease) -> Disease:
    return Disease(id=d.pk, code=d.code, name=d.name, kind=d.kind, disease_class=d.disease_class,
                   closed_from=d.closed_from, excluded_by=d.excluded_by.code if d.excluded_by_id else None)


def _code(identity) -> str | None:
    return identity.code if identity is not None else None


def build_params(region: pm.Region, schemes, plan_years) -> dict[int, PlanParams]:
    """``PlanParams`` of each plan year (by id), one query per rule table."""
    ids = [py.pk for py in plan_years]
    if not ids:
        return {}
    q = {"plan_year_id__in": ids}
    figures = _by_plan(pm.PlanFigure.objects.filter(**q))
    windows = _by_plan(pm.EnrollmentWindow.objects.filter(**q).select_related("identity"))
    standards = _by_plan(pm.ContributionStandard.objects.filter(**q).select_related("window"))
    subsidies = _by_plan(pm.SubsidyRule.objects.filter(**q).select_related("identity"))
    limits = _by_plan(pm.AnnualLimit.objects.filter(**q).select_related("identity"))
    applicable = _by_plan(pm.ApplicableClaimType.objects.filter(**q))
    fee_classes = _by_plan(pm.HospitalFeeClass.objects.filter(**q))
    benefits = _by_plan(pm.BenefitRule.objects.filter(**q))
    level_subs = _by_plan(pm.LevelSubstitution.objects.filter(**q))
    adjustments = _by_plan(pm.RatioAdjustment.objects.filter(**q))
    segments = _by_plan(pm.CumulativeSegment.objects.filter(**q).select_related("identity"))
    chronic = _by_plan(pm.ChronicBenefit.objects.filter(**q).select_related("disease__excluded_by"))
    two = _by_plan(pm.TwoDiseaseBenefit.objects.filter(**q).select_related("disease__excluded_by"))
    criteria = _by_plan(pm.AdmissionCriterion.objects.filter(**q).select_related("disease"))
    pre_existing = _by_plan(pm.PreExistingCondition.objects.filter(**q))
    responsibilities = _by_plan(pm.Responsibility.objects.filter(**q))
    drug_ratios = defaultdict(list)
    for r in pm.ResponsibilityDrugRatio.objects.filter(**q):
        drug_ratios[r.responsibility_id].append(DrugRatio(id=r.pk, drug_class=r.drug_class, ratio=r.ratio))
    identity_ratios = defaultdict(list)
    for r in pm.ResponsibilityIdentityRatio.objects.filter(**q).select_related("identity"):
        identity_ratios[r.responsibility_id].append(
            IdentityRatio(id=r.pk, identity=r.identity.code, ratio_pre_existing=r.ratio_pre_existing))
    incentives = defaultdict(list)
    for r in pm.IncentiveRule.objects.filter(**q):
        incentives[r.responsibility_id].append(Incentive(id=r.pk, min_years=r.min_years, ratio=r.ratio))
    oop_caps = _by_plan(pm.OutOfPocketCap.objects.filter(**q))
    assistance = _by_plan(pm.AssistanceRule.objects.filter(**q).select_related("identity"))
    documents = _by_plan(pm.DocumentRule.objects.filter(**q))

    scheme_by_id = {s.pk: s for s in schemes}
    out = {}
    for py in plan_years:
        s = scheme_by_id[py.scheme_id]
        k = py.pk
        out[k] = PlanParams(
            region=region.code, province=region.province, region_name=region.name, kind=s.kind,
            scheme_name=s.name,
            formula=s.formula, settlement_order=s.settlement_order, has_tiers=s.has_tiers,
            year=py.year, plan_year_id=py.pk, status=py.status,
            official_participation_rate=py.official_participation_rate, note=py.note,
            figures=tuple(Figure(id=f.pk, code=f.code, value=f.value) for f in figures[k]),
            windows=tuple(Window(
                id=w.pk, code=w.code, name=w.name, pay_from=w.pay_from, pay_to=w.pay_to,
                person_group=w.person_group, identity=_code(w.identity),
                newborn_max_days=w.newborn_max_days, coverage_rule=w.coverage_rule,
                coverage_start=w.coverage_start, waiting_days=w.waiting_days,
                coverage_end=w.coverage_end, priority=w.priority) for w in windows[k]),
            standards=tuple(Standard(id=r.pk, window=r.window.code, tier=r.tier, amount=r.amount,
                                     plus_figure=r.plus_figure) for r in standards[k]),
            subsidies=tuple(Subsidy(id=r.pk, identity=r.identity.code, tier=r.tier, amount=r.amount,
                                    full=r.full) for r in subsidies[k]),
            limits=tuple(Limit(id=r.pk, pool=r.pool, tier=r.tier, identity=_code(r.identity),
                               amount=r.amount) for r in limits[k]),
            applicable=tuple(Applicable(id=r.pk, claim_type=r.claim_type, chronic_class=r.chronic_class,
                                        special_b_only=r.special_b_only, rules_in_seed=r.rules_in_seed,
                                        delivery_mode=r.delivery_mode)
                             for r in applicable[k]),
            fee_classes=tuple(FeeClass(id=r.pk, level=r.level, grade=r.grade, fee_class=r.fee_class)
                              for r in fee_classes[k]),
            benefits=tuple(Benefit(
                id=r.pk, claim_type=r.claim_type, delivery_mode=r.delivery_mode, level=r.level,
                fee_class=r.fee_class, admin_level=r.admin_level, location=r.location, tier=r.tier,
                priority=r.priority, deductible=r.deductible, deductible_mode=r.deductible_mode,
                ratio=r.ratio, limit_pool=r.limit_pool, fixed_amount=r.fixed_amount,
                floor_amount=r.floor_amount) for r in benefits[k]),
            level_subs=tuple(LevelSub(id=r.pk, claim_type=r.claim_type, from_level=r.from_level,
                                      to_level=r.to_level, children_hospital_only=r.children_hospital_only,
                                      max_age=r.max_age) for r in level_subs[k]),
            adjustments=tuple(Adjustment(
                id=r.pk, code=r.code, claim_type=r.claim_type, delivery_mode=r.delivery_mode,
                points=r.points, max_age=r.max_age, deductible_level_shift=r.deductible_level_shift,
                min_level=r.min_level, location=r.location,
                deductible_shift_location=r.deductible_shift_location) for r in adjustments[k]),
            segments=tuple(Segment(id=r.pk, identity=_code(r.identity), seq=r.seq, threshold=r.threshold,
                                   ratio=r.ratio, base=r.base) for r in segments[k]),
            chronic=tuple(ChronicRule(id=r.pk, disease=_disease(r.disease), monthly_limit=r.monthly_limit,
                                      ratio=r.ratio, deductible=r.deductible, shares_pool=r.shares_pool)
                          for r in chronic[k]),
            two_diseases=tuple(TwoDiseaseRule(
                id=r.pk, disease=_disease(r.disease), deductible=r.deductible,
                ratio_class_a=r.ratio_class_a, ratio_class_b=r.ratio_class_b,
                annual_limit=r.annual_limit) for r in two[k]),
            criteria=tuple(Criterion(id=r.pk, disease=r.disease.code, code=r.code, value=r.value)
                           for r in criteria[k]),
            pre_existing=tuple(PreExisting(id=r.pk, group=r.group, name=r.name) for r in pre_existing[k]),
            responsibilities=tuple(ResponsibilityRule(
                id=r.pk, code=r.code, name=r.name, seq=r.seq, claim_type=r.claim_type,
                location=r.location, min_level=r.min_level, public_only=r.public_only,
                min_admin_level=r.min_admin_level, drug_list=r.drug_list,
                special_b_only=r.special_b_only, basis=r.basis, deductible=r.deductible,
                ratio_healthy=r.ratio_healthy, ratio_pre_existing=r.ratio_pre_existing,
                pre_existing_covered=r.pre_existing_covered, sum_insured=r.sum_insured,
                sum_insured_pre_existing=r.sum_insured_pre_existing,
                drug_ratios=tuple(drug_ratios[r.pk]), identity_ratios=tuple(identity_ratios[r.pk]),
                incentives=tuple(incentives[r.pk])) for r in responsibilities[k]),
            oop_caps=tuple(OopCap(id=r.pk, min_participation_rate=r.min_participation_rate,
                                  personal_cap=r.personal_cap, claim_type=r.claim_type, location=r.location)
                           for r in oop_caps[k]),
            assistance=tuple(AssistanceRow(
                id=r.pk, identity=_code(r.identity), kind=r.kind, threshold=r.threshold, ratio=r.ratio,
                annual_limit=r.annual_limit, top_up_ratio=r.top_up_ratio,
                top_up_location=r.top_up_location, ooc_controlled_ratio=r.ooc_controlled_ratio,
                requires_filed=r.requires_filed, location=r.location) for r in assistance[k]),
            documents=tuple(DocumentReq(id=r.pk, code=r.code, name=r.name, scope=r.scope,
                                        condition=r.condition, threshold=r.threshold, copies=r.copies,
                                        seq=r.seq) for r in documents[k]),
        )
    return out


def disease_codes(region: pm.Region) -> frozenset[str]:
    """Codes of the region's chronic / two-disease catalogue."""
    return frozenset(pm.ChronicDisease.objects.filter(region=region).values_list("code", flat=True))


def identity_codes() -> frozenset[str]:
    return frozenset(pm.Identity.objects.values_list("code", flat=True))
