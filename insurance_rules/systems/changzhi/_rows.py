"""Row look-ups and names specific to the 长治 formulas (spec changzhi.md; README §4.7).

The generic selectors (benefit-row matching, ratio adjustments, limits, segments) are
in ``insurance_rules.common``; this module holds what only 长治 needs: the disease rows,
the fee-class row (for its parameter reference), the 长治 labels of messages, and the
vocabulary names used in the explanations.
"""
from __future__ import annotations

from dataclasses import replace

from ...common import zero_layer
from ...errors import InvalidInput, MissingRule
from ...facts import ClaimFacts, Hospital
from ...money import ZERO, q2
from ...params import ChronicRule, Disease, FeeClass, PlanParams, TwoDiseaseRule
from ...results import LayerResult, ParamRef
from ...vocab import ADMIN_LEVEL_NAMES, LOCATION_NAMES, claim_type_name, scheme_kind_name

REGION_LABEL = "长治市"
GRADE_NAMES = {"A": "甲等", "B": "乙等", "-": "未定等"}
LEVEL_SHORT = {1: "一级", 2: "二级", 3: "三级"}
FEE_CLASS_NAMES = {1: "一类收费", 2: "二类收费", 3: "三类收费"}
CHRONIC_CLASS_NAMES = {1: "一类", 2: "二类", 3: "三类"}
IDENTITY_NAMES = {
    "tekun": "特困人员",
    "orphan": "孤儿",
    "de_facto_orphan": "事实无人抚养儿童",
    "dibao": "低保对象",
    "dibao_edge": "低保边缘家庭成员",
    "illness_poverty": "因病致贫重病患者",
    "poverty_return": "返贫致贫人口",
    "poverty_unstable": "脱贫不稳定户",
    "edge_poverty": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
}
"""Names of the identity codes (codes.md) used in 长治 explanations (vocabulary)."""


def identity_name(code: str | None) -> str:
    return IDENTITY_NAMES.get(code, code) if code else "普通人员"


def location_name(location: str) -> str:
    return LOCATION_NAMES.get(location, location)


def scheme_label(plan: PlanParams) -> str:
    """长治市 + the scheme's name, for messages (e.g. 长治市职工大额医疗费用补助)."""
    name = plan.scheme_name or scheme_kind_name(plan.kind)
    return name if name.startswith("长治") else f"{REGION_LABEL}{name}"


def missing_rule(plan: PlanParams, what: str) -> MissingRule:
    """``missing_rule`` naming the scheme (with the region), the plan year and the
    missing parameter (README §4.7; same wording as ``common.missing``)."""
    return MissingRule(f"{scheme_label(plan)} {plan.year} 年度方案缺少参数：{what}")


def nothing(plan: PlanParams, reason: str, explanation: str,
            refs: tuple[ParamRef, ...] = ()) -> LayerResult:
    """A layer paying 0.00 for a reason (not an error; README §4.2, §4.7)."""
    return replace(zero_layer(plan.kind, reason, explanation, refs), paid=q2(ZERO))


def require_hospital(claim: ClaimFacts) -> Hospital:
    if claim.hospital is None:
        raise InvalidInput(f"{claim_type_name(claim.type)}理赔缺少字段“claim.hospital”（医院级别、"
                           f"等次、行政级别、就医地）")
    return claim.hospital


def hospital_name(hospital: Hospital) -> str:
    """三级甲等·市级·统筹区内 — a hospital's facts for explanations."""
    return (f"{LEVEL_SHORT.get(hospital.level, hospital.level)}{GRADE_NAMES.get(hospital.grade, '')}"
            f"·{ADMIN_LEVEL_NAMES.get(hospital.admin_level, hospital.admin_level)}"
            f"·{location_name(hospital.location)}")


def fee_class_row(plan: PlanParams, hospital: Hospital) -> FeeClass | None:
    """The HospitalFeeClass row of a hospital's level and grade (for its reference)."""
    for row in plan.fee_classes:
        if row.level == hospital.level and row.grade == hospital.grade:
            return row
    return None


def fee_class_ref(row: FeeClass) -> ParamRef:
    return row.ref("HospitalFeeClass", level=row.level, grade=row.grade, fee_class=row.fee_class)


def chronic_rule(plan: PlanParams, disease: str | None) -> ChronicRule | None:
    for row in plan.chronic:
        if row.disease.code == disease:
            return row
    return None


def two_disease_rule(plan: PlanParams, disease: str | None) -> TwoDiseaseRule | None:
    for row in plan.two_diseases:
        if row.disease.code == disease:
            return row
    return None


def disease_name(disease: Disease) -> str:
    return f"{disease.code} {disease.name}"
