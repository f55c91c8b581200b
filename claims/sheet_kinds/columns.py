"""Code tables, given-layer headers and cell parsers shared by the claims sheet kinds
(hospitals, claims)."""
from __future__ import annotations

from decimal import Decimal

from claims.models import Claim
from policies import codes
from sheets.parsing import CodeTable, number_text

ZERO = Decimal("0.00")
CHANGE_REASON = "表格导入"

# --------------------------------------------------------------------------- code tables

LEVELS = CodeTable("医院级别", codes.HospitalLevel.choices, {
    "一级": 1, "一级医院": 1, "乡镇卫生院": 1, "社区卫生服务中心": 1, "未定级": 1,
    "二级医院": 2, "三级医院": 3})
GRADES = CodeTable("等次", codes.HospitalGrade.choices, {"甲": "A", "乙": "B", "未定": "-", "无": "-"})
ADMIN_LEVELS = CodeTable("行政级别", codes.AdminLevel.choices, {"乡镇": "township", "乡镇卫生院": "township",
                                                            "社区卫生服务中心": "township",
                                                            "县": "county", "区县级": "county",
                                                            "市": "city", "地市级": "city",
                                                            "省": "province"})
CLAIM_TYPES = CodeTable("就医类型", codes.ClaimType.choices, {
    "普通门诊": "outpatient", "门诊统筹": "outpatient", "门诊": "outpatient",
    "慢特病": "chronic_outpatient", "门诊慢性病": "chronic_outpatient", "门诊特殊病": "chronic_outpatient",
    "两病": "two_diseases", "两病门诊用药": "two_diseases", "产检": "prenatal",
    "分娩": "delivery", "特药": "special_drug", "特定药品": "special_drug"})
LOCATIONS = CodeTable("就医地", codes.Location.choices, {"本地": "in_region", "统筹区外省内": "in_province",
                                                      "省外": "out_of_province", "跨省异地": "out_of_province"})
MAJOR_DISEASES = CodeTable("三类大病", codes.MajorDisease.choices, {
    "器官移植": "organ_transplant", "恶性肿瘤": "malignant_tumor", "透析": "dialysis"})
DELIVERY_MODES = CodeTable("分娩方式", codes.DeliveryMode.choices)
DRUG_CLASSES = CodeTable("药品类别", codes.DrugClass.choices)
STATUSES = dict(Claim.Status.choices)

# Short names of the schemes in the given-layer headers (带入·<简称>支付 …).
GIVEN_NAMES = {
    "employee_basic": "职工基本医保", "resident_basic": "居民基本医保", "critical_illness": "大病保险",
    "employee_large": "职工大额补助", "employee_supplementary": "职工补充医保",
    "medical_assistance": "医疗救助", "inclusive_commercial": "普惠商业保险",
}
GIVEN_PARTS = {"paid": "支付", "deductible": "起付线", "over_cap": "超封顶线"}
GIVEN_PART_ALIASES = {"paid": ("本层支付", "基金支付"), "deductible": (), "over_cap": ("超封顶线合规费用",)}


def given_key(kind: str, part: str) -> str:
    return f"given:{kind}:{part}"


def given_header(kind: str, part: str) -> str:
    return f"带入·{GIVEN_NAMES[kind]}{GIVEN_PARTS[part]}"


def given_value(kind: str, part: str):
    """The exported cell of a given-layer column: the claim's layer of that scheme kind."""
    def value(claim, _resource):
        for layer in claim.given_layers.all():  # prefetched by the export queryset
            if layer.scheme_kind == kind:
                return getattr(layer, part)
        return ""

    return value


AMOUNTS = ("total", "out_of_catalog", "class_b_copay", "compliant", "tcm_compliant", "special_drug",
           "drug_class_a", "drug_class_b", "class_b_items", "out_of_catalog_controlled")
# claim fields compared when a settlement number is already recorded (re-import)
COMPARED = ("claim_type", "service_date", "discharge_date", "location", "filed", *AMOUNTS,
            "major_disease", "special_b", "delivery_mode", "drug_list", "drug_class",
            "offline_review", "note")


def code_cell(value) -> str:
    return number_text(value, "机构编码")


def settlement_no_cell(value) -> str:
    return number_text(value, "医院结算单号")
