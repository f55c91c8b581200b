"""Code tables shared by the enrollment sheet kinds (persons, payments,
registrations, identities, relations), and the person-identification helpers they all use."""
from __future__ import annotations

from decimal import Decimal

from enrollment import documents
from enrollment.models import Payment, Person
from insurance_rules.enrollment.vocab import TIER_NAMES
from policies import codes
from sheets.parsing import CodeTable, number_text

ZERO = Decimal("0.00")

# --------------------------------------------------------------------------- code tables

DOCUMENT_TYPES = CodeTable("证件类型", Person.DocumentType.choices, {"身份证": documents.ID_CARD})
SEXES = CodeTable("性别", Person.Sex.choices, {"男性": documents.MALE, "女性": documents.FEMALE})
CATEGORIES = CodeTable("人员类别", codes.PersonCategory.choices, {
    "退休职工": "employee_retired", "灵活就业": "flexible", "居民": "resident",
    "在校学生": "student", "在园幼儿": "student", "学生": "student"})
SCHEME_KINDS = CodeTable("险种类别", codes.SchemeKind.choices, {
    "职工大额医疗费用补助（大额补充医疗保险）": "employee_large", "大额补充医疗保险": "employee_large",
    "普惠型（定制型）商业补充医疗保险": "inclusive_commercial", "职工医保": "employee_basic",
    "居民医保": "resident_basic", "大病保险": "critical_illness", "医疗救助": "medical_assistance"})
CHANNELS = CodeTable("缴费渠道", codes.Channel.choices, {
    "税务APP": "tax_app", "电子税务局": "tax_app", "个人账户代扣": "personal_account",
    "银行": "bank", "银行柜台": "bank", "网银": "bank", "手机银行": "bank",
    "便民服务中心": "service_center", "村(社区)代收": "service_center"})
RELATIONS = CodeTable("关系", codes.Relation.choices)
SUBSIDY_PAYERS = CodeTable("资助方", Payment.SubsidyPayer.choices, {"财政": "government",
                                                                 "慈善": "charity", "单位": "employer"})
TIERS = CodeTable("档次", [(k, v) for k, v in TIER_NAMES.items()], {"第一档": 1, "第二档": 2, "无": 0})

ID_ALIASES = ("身份证号", "身份证号码", "公民身份号码", "证件号")


def document_number_cell(value) -> str:
    if type(value) is str:  # a csv cell: trimmed, letters and digits only (nearly every number)
        number = value.strip()
        if number.isascii() and number.isalnum():  # no formula guard to drop, nothing to remove
            return number.upper()  # = normalise(number_text(value))
    return documents.normalise(number_text(value, "证件号码"))


def phone_cell(value) -> str:
    return number_text(value, "联系电话")


def person_key(document_type, number) -> tuple[str, str]:
    return document_type or documents.ID_CARD, number
