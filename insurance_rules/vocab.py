"""Chinese names of the code vocabulary the engine writes into its messages (spec codes.md).

The engine is pure Python (no Django), so it cannot read ``policies.codes``; these are
the same codes with the names used in explanations and error messages. They are
vocabulary, not policy numbers.
"""

SCHEME_KIND_NAMES = {
    "employee_basic": "职工基本医疗保险",
    "resident_basic": "城乡居民基本医疗保险",
    "critical_illness": "城乡居民大病保险",
    "employee_large": "职工大额医疗费用补助",
    "employee_supplementary": "职工补充医疗保险",
    "medical_assistance": "城乡医疗救助",
    "inclusive_commercial": "普惠型商业补充医疗保险",
}

CLAIM_TYPE_NAMES = {
    "inpatient": "住院",
    "outpatient": "普通门诊",
    "chronic_outpatient": "门诊慢特病",
    "two_diseases": "“两病”门诊用药",
    "prenatal": "产前检查",
    "delivery": "住院分娩",
    "special_drug": "特定药品",
}

DELIVERY_MODE_NAMES = {"vaginal": "顺产", "cesarean": "剖宫产"}

LEVEL_NAMES = {0: "不限级别", 1: "一级及以下医院", 2: "二级医院", 3: "三级医院"}

TIER_NAMES = {0: "", 1: "一档", 2: "二档"}

LOCATION_NAMES = {
    "in_region": "统筹区内",
    "in_province": "省内异地",
    "out_of_province": "跨省",
    "not_in_region": "统筹区外",
    "within_province": "省内",
    "": "不限就医地",
}

ADMIN_LEVEL_NAMES = {"township": "乡镇级", "county": "县级", "city": "市级", "province": "省级"}

POOL_NAMES = {
    "basic_fund": "统筹基金年度支付限额",
    "outpatient": "普通门诊统筹年度限额",
    "prenatal": "产前检查补助限额",
    "scheme_total": "本险种年度累计赔付限额",
}

ADJUSTMENT_NAMES = {
    "minor": "未成年人",
    "tcm": "中医医疗机构/中药",
    "not_filed": "异地就医未备案",
    "cross_province": "跨省临时外出就医",
    "major_disease": "三类大病",
    "referral_not_approved": "未办理转院审批",
}

REASON_NAMES = {
    "not_covered": "不在待遇享受期内",
    "not_applicable": "本层不适用于该就医类型",
    "level_not_covered": "该级别医院不纳入本项待遇",
    "not_registered": "未办理该病种的门诊慢特病/两病登记",
    "hospital_not_designated": "非指定医疗机构",
    "pre_existing_not_covered": "特定既往症人群不在本项保障范围",
    "rate_not_set": "官方参保率未设定",
    "rate_below_threshold": "参保率未达到兜底保障标准",
    "limit_reached": "已达支付限额",
    "below_threshold": "未超过起付标准",
}

DRUG_CLASS_NAMES = {"A": "A类", "B": "B类", "C": "C类"}


def scheme_kind_name(kind: str) -> str:
    return SCHEME_KIND_NAMES.get(kind, kind)


def claim_type_name(claim_type: str) -> str:
    return CLAIM_TYPE_NAMES.get(claim_type, claim_type)
