"""Hand-built parameters and facts for the pure engine tests (no database).

Row builders take the spec's numbers as arguments; ``dianjiang_plans()``,
``leshan_plans()``, ``sanming_plans()`` and ``liaocheng_plans()`` assemble the 2024 plan
years of the seed systems with the numbers of the spec files, the way the fixtures do.
"""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from insurance_rules.facts import (
    ClaimFacts,
    Coverage,
    GivenLayer,
    HeldIdentity,
    Hospital,
    Period,
    PersonFacts,
)
from insurance_rules.params import (
    Adjustment,
    Applicable,
    Benefit,
    DrugRatio,
    IdentityRatio,
    Incentive,
    LevelSub,
    Limit,
    OopCap,
    PlanParams,
    PreExisting,
    ResponsibilityRule,
    Segment,
)

_ids = itertools.count(1)


def D(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _opt(value):
    return None if value is None else D(value)


# --------------------------------------------------------------------------- rows


def benefit(claim_type, *, level=0, tier=0, deductible=0, ratio=None, mode="per_claim", pool="",
            fixed=None, floor=None, delivery_mode="", fee_class=0, admin_level="", location="",
            priority=0) -> Benefit:
    return Benefit(id=next(_ids), claim_type=claim_type, delivery_mode=delivery_mode, level=level,
                   fee_class=fee_class, admin_level=admin_level, location=location, tier=tier,
                   priority=priority, deductible=D(deductible), deductible_mode=mode, ratio=_opt(ratio),
                   limit_pool=pool, fixed_amount=_opt(fixed), floor_amount=_opt(floor))


def limit(pool, amount, *, tier=0, identity=None) -> Limit:
    return Limit(id=next(_ids), pool=pool, tier=tier, identity=identity, amount=_opt(amount))


def applicable(claim_type, *, chronic_class=0, special_b_only=False, rules_in_seed=True,
               delivery_mode="") -> Applicable:
    return Applicable(id=next(_ids), claim_type=claim_type, chronic_class=chronic_class,
                      special_b_only=special_b_only, rules_in_seed=rules_in_seed,
                      delivery_mode=delivery_mode)


def adjustment(code, claim_type, points, *, max_age=None, shift=0, min_level=0, location="",
               delivery_mode="", shift_location="") -> Adjustment:
    return Adjustment(id=next(_ids), code=code, claim_type=claim_type, delivery_mode=delivery_mode,
                      points=D(points), max_age=max_age, deductible_level_shift=shift,
                      min_level=min_level, location=location, deductible_shift_location=shift_location)


def level_sub(claim_type, from_level, to_level, *, children_only=True, max_age=None) -> LevelSub:
    return LevelSub(id=next(_ids), claim_type=claim_type, from_level=from_level, to_level=to_level,
                    children_hospital_only=children_only, max_age=max_age)


def segment(threshold, ratio, *, seq=1, identity=None, base="cumulative") -> Segment:
    return Segment(id=next(_ids), identity=identity, seq=seq, threshold=D(threshold), ratio=D(ratio),
                   base=base)


def responsibility(code, claim_type, basis, *, deductible=0, ratio=None, ratio_pre=None,
                   pre_covered=True, sum_insured=None, sum_pre=None, location="", min_level=0,
                   public_only=False, min_admin_level="", drug_list="", special_b_only=False, seq=0,
                   drug_ratios=(), identity_ratios=(), incentives=(), name=None) -> ResponsibilityRule:
    return ResponsibilityRule(
        id=next(_ids), code=code, name=name or code, seq=seq, claim_type=claim_type, location=location,
        min_level=min_level, public_only=public_only, min_admin_level=min_admin_level,
        drug_list=drug_list, special_b_only=special_b_only, basis=basis, deductible=D(deductible),
        ratio_healthy=_opt(ratio), ratio_pre_existing=_opt(ratio_pre), pre_existing_covered=pre_covered,
        sum_insured=_opt(sum_insured), sum_insured_pre_existing=_opt(sum_pre),
        drug_ratios=tuple(DrugRatio(id=next(_ids), drug_class=c, ratio=D(r)) for c, r in drug_ratios),
        identity_ratios=tuple(IdentityRatio(id=next(_ids), identity=i, ratio_pre_existing=D(r))
                              for i, r in identity_ratios),
        incentives=tuple(Incentive(id=next(_ids), min_years=y, ratio=D(r)) for y, r in incentives),
    )


def oop_cap(rate, cap, *, claim_type="inpatient", location="in_region") -> OopCap:
    return OopCap(id=next(_ids), min_participation_rate=D(rate), personal_cap=D(cap),
                  claim_type=claim_type, location=location)


def plan(kind, formula, *, region="500231", year=2024, has_tiers=False, order=1, name=None,
         region_name="", province="", **tables) -> PlanParams:
    return PlanParams(region=region, province=province, kind=kind, scheme_name=name or kind, formula=formula,
                      settlement_order=order, has_tiers=has_tiers, year=year, plan_year_id=next(_ids),
                      status="active", region_name=region_name, **{k: tuple(v) for k, v in tables.items()})


# --------------------------------------------------------------------------- facts


def person(birth="1980-06-15", *, category="resident", identities=(), pre_existing=(), years=0,
           resettled=False, basic=True, lives_in_region=False, hk_macao_taiwan=False,
           basic_in_province=False) -> PersonFacts:
    held = []
    for item in identities:
        if isinstance(item, str):
            held.append(HeldIdentity(item))
        else:
            code, start, end = item
            held.append(HeldIdentity(code, _day(start), _day(end)))
    return PersonFacts(birth_date=_day(birth), category=category, identities=tuple(held),
                       pre_existing=tuple(pre_existing), continuous_years=years, resettled=resettled,
                       basic_insured_in_region=basic, lives_in_region=lives_in_region,
                       hk_macao_taiwan=hk_macao_taiwan, basic_insured_in_province=basic_in_province)


def _day(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def coverage(kind, *, tier=0, start="2024-01-01", end="2024-12-31", suspended=()) -> Coverage:
    return Coverage(scheme=kind, start=_day(start), end=_day(end), tier=tier,
                    suspended=tuple(Period(_day(a), _day(b)) for a, b in suspended))


def hospital(level=3, *, location="in_region", tcm=False, children=False, public=True, grade="A",
             admin_level="city", cdrg=True) -> Hospital:
    return Hospital(level=level, grade=grade, admin_level=admin_level, location=location, tcm=tcm,
                    children=children, public=public, cdrg=cdrg)


def claim(type_="inpatient", day="2024-05-10", total=0, *, ooc=0, b_copay=0, hosp=None, given=None,
          **kw) -> ClaimFacts:
    total, ooc, b_copay = D(total), D(ooc), D(b_copay)
    if hosp is None and type_ in ("inpatient", "outpatient", "delivery", "chronic_outpatient"):
        hosp = hospital()
    for key in ("tcm_compliant", "special_drug", "drug_class_a", "drug_class_b", "out_of_catalog_controlled"):
        if key in kw:
            kw[key] = D(kw[key])
    layers = {k: GivenLayer(paid=D(v[0]), deductible=D(v[1] if len(v) > 1 else 0),
                            over_cap=D(v[2] if len(v) > 2 else 0)) for k, v in (given or {}).items()}
    return ClaimFacts(type=type_, date=_day(day), total=total, hospital=hosp, out_of_catalog=ooc,
                      class_b_copay=b_copay, compliant=total - ooc - b_copay, given=layers, **kw)


# --------------------------------------------------------------------------- seed systems (spec numbers)


def dianjiang_plans() -> dict[str, PlanParams]:
    """垫江 2024 (dianjiang.md): resident_basic (tiers) and critical_illness."""
    inpatient = [benefit("inpatient", level=lvl, tier=tier, deductible=ded, ratio=r, pool="basic_fund")
                 for lvl, ded, r1, r2 in ((1, 100, 80, 85), (2, 300, 70, 75), (3, 800, 50, 55))
                 for tier, r in ((1, r1), (2, r2))]
    outpatient = [benefit("outpatient", level=lvl, tier=tier, deductible=ded, ratio=r, mode="annual",
                          pool="outpatient")
                  for lvl, ded, r in ((1, 0, 60), (2, 200, 40)) for tier in (1, 2)]
    maternity = [benefit("prenatal", ratio=100, pool="prenatal"),
                 benefit("delivery", delivery_mode="vaginal", fixed=600),
                 benefit("delivery", delivery_mode="cesarean", ratio=100, floor=600)]
    resident = plan(
        "resident_basic", "chongqing_resident", has_tiers=True, order=1, name="垫江县城乡居民基本医疗保险",
        applicable=[applicable(t) for t in ("inpatient", "outpatient", "prenatal", "delivery")],
        benefits=inpatient + outpatient + maternity,
        limits=[limit("basic_fund", 80000, tier=1), limit("basic_fund", 120000, tier=2),
                limit("outpatient", 300, tier=1), limit("outpatient", 500, tier=2),
                limit("prenatal", 300)],
        adjustments=[adjustment("minor", "inpatient", 5, max_age=18),
                     adjustment("minor", "delivery", 5, max_age=18, delivery_mode="cesarean"),
                     adjustment("tcm", "inpatient", 10, shift=1, shift_location="within_province")],
        level_subs=[level_sub("outpatient", 3, 2, children_only=True, max_age=18)],
    )
    poor = ("tekun", "dibao", "poverty_return")
    critical = plan(
        "critical_illness", "chongqing_critical", order=2, name="垫江县城乡居民大病保险",
        applicable=[applicable("inpatient"), applicable("delivery", delivery_mode="cesarean")],
        segments=[segment(17833, 60)] + [segment("8916.50", 65, identity=i) for i in poor],
        limits=[limit("scheme_total", 200000)] + [limit("scheme_total", None, identity=i) for i in poor],
    )
    return {"resident_basic": resident, "critical_illness": critical}


def leshan_plans() -> dict[str, PlanParams]:
    """乐山 2024 (leshan.md): employee_basic given only, employee_supplementary."""
    basic = plan("employee_basic", "given_only", region="511100", order=1, name="乐山市职工基本医疗保险",
                 applicable=[applicable(t, rules_in_seed=False) for t in
                             ("inpatient", "outpatient", "chronic_outpatient")])
    supplementary = plan(
        "employee_supplementary", "leshan_supplementary", region="511100", order=2,
        name="乐山市职工补充医疗保险",
        applicable=[applicable("inpatient"), applicable("chronic_outpatient", special_b_only=True)],
        responsibilities=[
            responsibility("BAND", "inpatient", "band", ratio=90, location="in_region", seq=1),
            responsibility("BAND_OUT", "inpatient", "band", ratio=78, location="not_in_region", seq=2),
            responsibility("HIGH", "inpatient", "over_cap", ratio=90, seq=3, incentives=((6, 92), (10, 93))),
        ],
        adjustments=[adjustment("major_disease", "inpatient", 5),
                     adjustment("major_disease", "chronic_outpatient", 5)],
        limits=[limit("scheme_total", 300000)],
    )
    return {"employee_basic": basic, "employee_supplementary": supplementary}


ASSISTANCE_TARGETS = ("tekun", "orphan", "de_facto_orphan", "dibao", "dibao_edge", "illness_poverty",
                      "poverty_return", "poverty_unstable", "edge_poverty", "sudden_hardship")


def sanming_plans(rate=None) -> dict[str, PlanParams]:
    """三明 2024 (sanming.md): basic layers given only, 普惠医联保 R1–R4B and 兜底."""
    def given_only(kind, order, types=("inpatient", "outpatient", "chronic_outpatient", "special_drug")):
        return plan(kind, "given_only", region="350400", order=order,
                    applicable=[applicable(t, rules_in_seed=False) for t in types])
    inclusive = plan(
        "inclusive_commercial", "sanming_inclusive", region="350400", order=5, name="三明普惠医联保",
        region_name="三明市", province="福建省",
        applicable=[applicable(t) for t in ("inpatient", "chronic_outpatient", "special_drug")],
        pre_existing=[PreExisting(id=next(_ids), group=g, name=g)
                      for g in ("tumor", "liver_kidney", "cardio_metabolic", "lung", "other")],
        responsibilities=[
            responsibility("R1", "inpatient", "total_after_upstream", location="in_region", min_level=2,
                           public_only=True, deductible=5000, ratio=100, ratio_pre=50,
                           sum_insured=1500000, sum_pre=1500000, seq=1,
                           identity_ratios=[(i, 100) for i in ASSISTANCE_TARGETS]),
            responsibility("R2", "inpatient", "compliant_after_upstream", location="not_in_region",
                           min_level=2, public_only=True, deductible=20000, ratio=70, ratio_pre=30,
                           sum_insured=1500000, sum_pre=1500000, seq=2,
                           identity_ratios=[(i, 80) for i in ASSISTANCE_TARGETS]),
            responsibility("R3", "chronic_outpatient", "compliant_after_upstream", location="in_region",
                           deductible=5000, ratio=70, pre_covered=False, sum_insured=30000, seq=3),
            responsibility("R4A", "special_drug", "total_after_upstream", drug_list="sm_cancer",
                           location="in_region", min_level=2, public_only=True, deductible=20000, sum_insured=1000000, sum_pre=4500, seq=4,
                           drug_ratios=(("A", 70), ("B", 50), ("C", 30))),
            responsibility("R4B", "special_drug", "total_after_upstream", drug_list="sm_rare",
                           location="in_region", min_level=2, public_only=True, deductible=20000, ratio=50, pre_covered=False, sum_insured=500000, seq=5),
        ],
        oop_caps=[oop_cap(20, 120000), oop_cap(30, 100000)],
    )
    if rate is not None:
        from dataclasses import replace

        inclusive = replace(inclusive, official_participation_rate=D(rate))
    return {"resident_basic": given_only("resident_basic", 1),
            "critical_illness": given_only("critical_illness", 2, ("inpatient", "chronic_outpatient")),
            "inclusive_commercial": inclusive}


def liaocheng_plans() -> dict[str, PlanParams]:
    """聊城 2024 (liaocheng.md): basic layers given only, 聊惠保 R1–R4."""
    def given_only(kind, order, types=("inpatient", "outpatient", "chronic_outpatient", "special_drug")):
        return plan(kind, "given_only", region="371500", order=order,
                    applicable=[applicable(t, rules_in_seed=False) for t in types])
    inclusive = plan(
        "inclusive_commercial", "liaocheng_inclusive", region="371500", order=5, name="聊惠保",
        applicable=[applicable(t) for t in ("inpatient", "special_drug")],
        responsibilities=[
            responsibility("R1", "inpatient", "compliant_after_upstream", deductible=16000, ratio=80,
                           sum_insured=1000000, seq=1),
            responsibility("R2", "inpatient", "out_of_scope", deductible=16000, ratio=10,
                           sum_insured=1000000, seq=2),
            responsibility("R3", "special_drug", "total_after_upstream", drug_list="lc_high_cost",
                           min_admin_level="county", deductible=16000, ratio=80, sum_insured=1000000, seq=3),
            responsibility("R4", "special_drug", "total_after_upstream", drug_list="lc_special_efficacy",
                           deductible=10000, ratio=80, sum_insured=300000, seq=4),
        ],
    )
    return {"resident_basic": given_only("resident_basic", 1),
            "critical_illness": given_only("critical_illness", 2, ("inpatient", "chronic_outpatient")),
            "inclusive_commercial": inclusive}
