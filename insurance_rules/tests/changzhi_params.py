"""长治 (140400) 2024 plan years as ``PlanParams`` rows with ids, built by hand from the
numbers of spec changzhi.md (pure: no database). Used by the engine tests; the row
conventions are the ones documented in docs/changzhi-decisions.md (the fixtures use the
same).

Each builder accepts keyword overrides of ``PlanParams`` fields (e.g. ``benefits=()``)
so a test can remove or replace a table.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal

from insurance_rules.params import (
    Adjustment,
    Applicable,
    AssistanceRow,
    Benefit,
    ChronicRule,
    Disease,
    FeeClass,
    Figure,
    Limit,
    PlanParams,
    Segment,
    TwoDiseaseRule,
)

YEAR = 2024
REGION = "140400"
D = Decimal
_ids = itertools.count(1)


def _id() -> int:
    return next(_ids)


# --------------------------------------------------------------------------- catalogue

# code, name, class, employee monthly limit, resident monthly limit (None = 一类 / not covered)
CATALOGUE = [
    ("CZ01", "恶性肿瘤门诊治疗", 1, None, None),
    ("CZ02", "器官移植抗排异治疗", 1, None, None),
    ("CZ03", "尿毒症透析", 1, None, None),
    ("CZ04", "血友病", 1, None, None),
    ("CZ05", "再生障碍性贫血（慢性）", 1, None, None),
    ("CZ06", "真性红细胞增多症", 1, None, None),
    ("CZ07", "原发性血小板增多症", 1, None, None),
    ("CZ08", "系统性硬化症", 1, None, None),
    ("CZ09", "干燥综合征（舍格伦）", 1, None, None),
    ("CZ10", "肾病综合症（原发性）", 2, "520", "460"),
    ("CZ11", "慢性肾功能不全", 2, "1000", "440"),
    ("CZ12", "肺源性心脏病", 2, "330", "300"),
    ("CZ13", "心脏瓣膜病（器质性）", 2, "210", "190"),
    ("CZ14", "慢性心力衰竭", 2, "270", "240"),
    ("CZ15", "慢性阻塞性肺疾病", 2, "400", "400"),
    ("CZ16", "冠心病", 2, "430", "280"),
    ("CZ16S", "冠心病（血管支架植入）", 2, "640", "640"),
    ("CZ17", "股骨头坏死", 2, "250", "250"),
    ("CZ18", "高血压3级（极高危）", 2, "340", "260"),
    ("CZ19", "中枢神经系统脱髓鞘疾病", 2, "510", "460"),
    ("CZ20", "支气管哮喘", 2, "240", "210"),
    ("CZ21", "膝关节骨性关节炎", 2, "220", "200"),
    ("CZ22", "慢性骨髓炎（化脓性）", 2, "320", "290"),
    ("CZ23", "强直性脊柱炎", 2, "300", "225"),
    ("CZ24", "白癜风", 2, "390", "350"),
    ("CZ25", "银屑病", 2, "380", "340"),
    ("CZ26", "脉管炎", 2, "220", "200"),
    ("CZ27", "病毒性肝炎（慢性）", 2, "700", "270"),
    ("CZ28", "肝硬化（失代偿期）", 2, "530", "480"),
    ("CZ29", "类风湿性关节炎", 2, "440", "400"),
    ("CZ30", "炎症性肠病", 2, "650", "590"),
    ("CZ31", "重性精神疾病", 2, "330", "300"),
    ("CZ32", "脑血管病后遗症", 2, "300", "250"),
    ("CZ33", "帕金森病", 2, "450", "260"),
    ("CZ34", "癫痫", 2, "280", "250"),
    ("CZ35", "糖尿病（合并严重并发症）", 2, "400", "290"),
    ("CZ36", "甲状腺功能减退症或甲状腺功能亢进症", 2, "110", "100"),
    ("CZ37", "免疫性血小板减少症（原发性）", 2, "500", "450"),
    ("CZ38", "重症肌无力", 2, "410", "410"),
    ("CZ39", "结核（活动性）", 2, "300", "200"),
    ("CZ39M", "耐多药肺结核", 2, "4200", "4200"),
    ("CZ40", "阿尔茨海默症", 2, "495", "495"),
    ("CZ41", "系统性红斑狼疮", 2, "610", "550"),
    ("CZ42", "原发性骨髓纤维化", 2, "380", "340"),
    ("CZ43", "氟骨症", 2, "190", "170"),
    ("CZ44", "大骨节病", 2, "170", "150"),
    ("CZ45", "克山病", 2, "330", "300"),
    ("CZ46", "碘缺乏症", 3, None, "45"),
    ("CZ47", "布鲁氏杆菌病", 3, None, "300"),
    ("CZ48", "终末期肾病", 3, None, "440"),
    ("CZ49", "风湿性心脏病", 3, None, "280"),
    ("CZ50", "心脏病并发心功能不全", 3, None, "280"),
    ("CZ51", "血管支架植入术后", 3, None, "280"),
]
THIRD_CLASS_CLOSED = date(2021, 4, 1)

DISEASES = {
    code: Disease(_id(), code, name, "chronic", cls, THIRD_CLASS_CLOSED if cls == 3 else None, None)
    for code, name, cls, _e, _r in CATALOGUE
}
DISEASES["HBP"] = Disease(_id(), "HBP", "高血压", "two_diseases", 0, None, "CZ18")
DISEASES["DM1"] = Disease(_id(), "DM1", "Ⅰ型糖尿病", "two_diseases", 0, None, "CZ35")
DISEASES["DM2"] = Disease(_id(), "DM2", "其他类型糖尿病", "two_diseases", 0, None, "CZ35")


def _plan(kind: str, formula: str, name: str, order: int, **rows) -> PlanParams:
    return PlanParams(region=REGION, province="山西省", kind=kind, scheme_name=name, formula=formula,
                      settlement_order=order, has_tiers=False, year=YEAR, plan_year_id=_id(),
                      status="active", **rows)


def _limit(pool: str, amount: str | None, identity: str | None = None) -> Limit:
    return Limit(_id(), pool, 0, identity, None if amount is None else D(amount))


def _benefit(claim_type: str, *, ratio: str | None = None, deductible: str = "0",
             mode: str = "per_claim", level: int = 0, fee_class: int = 0, admin_level: str = "",
             location: str = "", priority: int = 0, pool: str = "", fixed: str | None = None,
             delivery_mode: str = "") -> Benefit:
    return Benefit(_id(), claim_type, delivery_mode, level, fee_class, admin_level, location, 0,
                   priority, D(deductible), mode, None if ratio is None else D(ratio), pool,
                   None if fixed is None else D(fixed), None)


def _adjustment(code: str, claim_type: str, points: str, location: str = "") -> Adjustment:
    return Adjustment(_id(), code, claim_type, "", D(points), None, 0, 0, location)


def _applicable(*types: str, given: tuple[str, ...] = (), class1: tuple[str, ...] = ()) -> tuple:
    return tuple(Applicable(_id(), t, 1 if t in class1 else 0, False, t not in given) for t in types)


# --------------------------------------------------------------------------- resident basic

FEE_CLASSES = tuple(FeeClass(_id(), level, grade, fee) for level, grade, fee in [
    (3, "A", 1), (3, "B", 2), (3, "-", 2), (2, "A", 2), (2, "B", 3), (2, "-", 3),
    (1, "A", 3), (1, "B", 3), (1, "-", 3),
])

RESIDENT_BENEFITS = (
    # 普通门诊统筹: by level; level 3 annual cumulative deductible 80; one 300 limit
    _benefit("outpatient", level=3, deductible="80", mode="annual", ratio="45", pool="outpatient"),
    _benefit("outpatient", level=2, mode="annual", ratio="55", pool="outpatient"),
    _benefit("outpatient", level=1, mode="annual", ratio="60", pool="outpatient"),
    # 住院: by fee class / admin level; 省外 has priority
    _benefit("inpatient", fee_class=3, admin_level="county", deductible="100", ratio="85",
             pool="basic_fund"),
    _benefit("inpatient", fee_class=3, deductible="400", ratio="75", pool="basic_fund"),  # 省市级
    _benefit("inpatient", fee_class=2, deductible="500", ratio="70", pool="basic_fund"),
    _benefit("inpatient", fee_class=1, deductible="1000", ratio="60", pool="basic_fund"),
    _benefit("inpatient", location="out_of_province", priority=10, deductible="1500", ratio="55",
             pool="basic_fund"),
    # 生育: fixed amounts
    _benefit("delivery", delivery_mode="vaginal", fixed="1500"),
    _benefit("delivery", delivery_mode="cesarean", fixed="3000"),
)


def _chronic_rules(employee: bool) -> tuple[ChronicRule, ...]:
    out = []
    for code, _name, cls, emp, res in CATALOGUE:
        if employee and cls == 3:
            continue  # 三类: residents only
        monthly = emp if employee else res
        ratio = ("85" if cls == 1 else "75") if employee else "70"
        out.append(ChronicRule(_id(), DISEASES[code], None if monthly is None else D(monthly), D(ratio),
                               D("0"), "basic_fund" if cls == 1 else ""))
    return tuple(out)


RESIDENT_CHRONIC = _chronic_rules(employee=False)
EMPLOYEE_CHRONIC = _chronic_rules(employee=True)

TWO_DISEASES = tuple(TwoDiseaseRule(_id(), DISEASES[code], D("0"), D("60"), D("50"), D(limit))
                     for code, limit in [("HBP", "260"), ("DM1", "480"), ("DM2", "360")])


def resident_plan(**changes) -> PlanParams:
    plan = _plan(
        "resident_basic", "changzhi_resident", "城乡居民基本医疗保险", 20,
        figures=(Figure(_id(), "class_b_copay_rate", D("5")),),
        limits=(_limit("outpatient", "300"), _limit("basic_fund", "70000")),
        applicable=_applicable("outpatient", "two_diseases", "chronic_outpatient", "inpatient",
                               "delivery", "special_drug", given=("special_drug",)),
        fee_classes=FEE_CLASSES,
        benefits=RESIDENT_BENEFITS,
        adjustments=(_adjustment("cross_province", "outpatient", "-10", "out_of_province"),
                     _adjustment("not_filed", "inpatient", "-10", "not_in_region")),
        chronic=RESIDENT_CHRONIC,
        two_diseases=TWO_DISEASES,
    )
    return replace(plan, **changes)


# --------------------------------------------------------------------------- employee


def employee_basic_plan(**changes) -> PlanParams:
    plan = _plan(
        "employee_basic", "changzhi_employee_basic", "职工基本医疗保险", 10,
        limits=(_limit("basic_fund", "80000"),),
        applicable=_applicable("inpatient", "outpatient", "chronic_outpatient", "special_drug",
                               given=("inpatient", "outpatient", "special_drug")),
        adjustments=(_adjustment("not_filed", "inpatient", "-15", "not_in_region"),),
        chronic=EMPLOYEE_CHRONIC,
        note="职工住院、门诊统筹待遇表在种子文件中为图片，未录入；理赔须带入本层结算结果",
    )
    return replace(plan, **changes)


def employee_large_plan(**changes) -> PlanParams:
    plan = _plan(
        "employee_large", "changzhi_employee_large", "职工大额医疗费用补助", 40,
        limits=(_limit("scheme_total", "500000"),),
        applicable=_applicable("inpatient", "chronic_outpatient",
                               given=("inpatient", "chronic_outpatient"), class1=("chronic_outpatient",)),
    )
    return replace(plan, **changes)


# --------------------------------------------------------------------------- critical illness

POOR = ("tekun", "dibao", "poverty_return")


def critical_plan(**changes) -> PlanParams:
    segments = [Segment(_id(), None, 1, D("10000"), D("75"), "cumulative"),
                Segment(_id(), None, 2, D("50000"), D("50"), "after_previous")]
    for identity in POOR:
        segments += [Segment(_id(), identity, 1, D("5000"), D("80"), "cumulative"),
                     Segment(_id(), identity, 2, D("50000"), D("50"), "after_previous")]
    plan = _plan(
        "critical_illness", "changzhi_critical", "城乡居民大病保险", 30,
        limits=(_limit("scheme_total", "400000"),) + tuple(_limit("scheme_total", None, i) for i in POOR),
        applicable=_applicable("inpatient", "chronic_outpatient"),
        adjustments=(_adjustment("referral_not_approved", "inpatient", "-10", "not_in_region"),
                     _adjustment("referral_not_approved", "chronic_outpatient", "-10", "not_in_region")),
        segments=tuple(segments),
    )
    return replace(plan, **changes)


# --------------------------------------------------------------------------- medical assistance


def _assist(identity: str | None, kind: str, ratio: str, *, threshold: str = "0",
            limit: str | None = None, top_up: str | None = None, top_up_location: str = "",
            ooc: str | None = None, requires_filed: bool = False, location: str = "") -> AssistanceRow:
    return AssistanceRow(_id(), identity, kind, D(threshold), D(ratio),
                         None if limit is None else D(limit), None if top_up is None else D(top_up),
                         top_up_location, None if ooc is None else D(ooc), requires_filed, location)


ASSISTANCE_ROWS = (
    _assist("tekun", "inpatient", "100"),
    _assist("tekun", "chronic_outpatient", "60"),
    _assist("tekun", "special_drug", "20"),
    # 孤儿 / 事实无人抚养儿童 follow the 特困 row (changzhi.md 城乡医疗救助)
    *(_assist(who, kind, ratio) for who in ("orphan", "de_facto_orphan")
      for kind, ratio in (("inpatient", "100"), ("chronic_outpatient", "60"), ("special_drug", "20"))),
    _assist("dibao", "inpatient", "70", limit="60000"),
    _assist("dibao", "chronic_outpatient", "30"),
    _assist("dibao", "special_drug", "10"),
    _assist("poverty_return", "inpatient", "70", top_up="90", top_up_location="within_province",
            ooc="85"),
    _assist("poverty_unstable", "inpatient", "70", threshold="3092", limit="60000"),
    _assist("edge_poverty", "inpatient", "70", threshold="3092", limit="60000"),
    _assist("sudden_hardship", "inpatient", "70", threshold="3092", limit="60000"),
    _assist("dibao_edge", "inpatient", "60", threshold="3092", limit="40000"),
    _assist("illness_poverty", "inpatient", "60", threshold="7731", limit="40000"),
    _assist(None, "tilt", "70", threshold="15460", limit="30000", requires_filed=True,
            location="within_province"),
)


def assistance_plan(**changes) -> PlanParams:
    plan = _plan(
        "medical_assistance", "changzhi_assistance", "城乡医疗救助", 60,
        figures=(Figure(_id(), "province_income", D("30920")),),
        applicable=_applicable("inpatient", "chronic_outpatient", "special_drug"),
        assistance=ASSISTANCE_ROWS,
    )
    return replace(plan, **changes)


def region_plans() -> dict[str, PlanParams]:
    """Every 长治 plan year of 2024, in settlement order (for ``settle_claim``)."""
    plans = [employee_basic_plan(), resident_plan(), critical_plan(), employee_large_plan(),
             assistance_plan()]
    return {p.kind: p for p in sorted(plans, key=lambda p: p.settlement_order)}
