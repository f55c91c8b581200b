"""Parsing of trial-calc JSON values into engine facts (spec trial-calc.md).

Every error is an ``InvalidInput`` with a Chinese message naming the field.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from .errors import InvalidInput, clip
from .facts import HeldIdentity, HeldRegistration, PersonFacts
from .money import amount_refusal, to_decimal

CATEGORIES = ("employee_active", "employee_retired", "flexible", "resident", "student", "newborn")


def parse_date(value, field: str, *, required: bool = True) -> date | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"缺少字段“{field}”（日期，格式 YYYY-MM-DD）")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"字段“{field}”必须是 YYYY-MM-DD 格式的日期")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"字段“{field}”不是有效日期（格式 YYYY-MM-DD）：{value}") from exc


def parse_amount(value, field: str, *, allow_negative: bool = False) -> Decimal:
    """An amount of a case: a string or a number within the bound of amounts
    (``money.amount_refusal``; any number of decimals: the engine rounds per layer)."""
    try:
        amount = to_decimal(value, field)
    except ValueError as exc:
        raise InvalidInput(f"字段“{field}”不是有效金额：{clip(repr(value))}") from exc
    refusal = amount_refusal(amount, places=None)
    if refusal is not None:
        raise InvalidInput(f"字段“{field}”{refusal}：{clip(repr(value))}")
    if amount < 0 and not allow_negative:
        raise InvalidInput(f"字段“{field}”不能为负数：{value}")
    return amount


def parse_bool(value, field: str, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidInput(f"字段“{field}”必须是 true 或 false")
    return value


def parse_int(value, field: str, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"字段“{field}”必须是整数")
    return value


def parse_person(data, known_identities=None) -> PersonFacts:
    """``person`` object of a case. ``known_identities``: codes accepted (else unknown_code
    is the caller's to raise; here an unknown identity raises only when a set is given)."""
    from .errors import UnknownCode

    if not isinstance(data, dict):
        raise InvalidInput("缺少字段“person”（参保人信息）")
    birth = parse_date(data.get("birth_date"), "person.birth_date")
    category = data.get("category")
    if not category:
        raise InvalidInput("缺少字段“person.category”（人员类别）")
    if category not in CATEGORIES:
        raise UnknownCode(f"未知的人员类别“person.category”：{category}")
    identities = []
    for i, item in enumerate(data.get("identities") or []):
        field = f"person.identities[{i}]"
        if isinstance(item, str):
            code, valid_from, valid_to = item, None, None
        elif isinstance(item, dict):
            code = item.get("code")
            valid_from = parse_date(item.get("from"), f"{field}.from", required=False)
            valid_to = parse_date(item.get("to"), f"{field}.to", required=False)
            if valid_from and valid_to and valid_from > valid_to:
                raise InvalidInput(f"字段“{field}”的起始日期晚于终止日期")
        else:
            raise InvalidInput(f"字段“{field}”必须是身份代码或对象")
        if not code or not isinstance(code, str):
            raise InvalidInput(f"字段“{field}.code”缺少身份代码")
        if known_identities is not None and code not in known_identities:
            raise UnknownCode(f"未知的特殊身份代码“{field}”：{code}")
        identities.append(HeldIdentity(code, valid_from, valid_to))
    registrations = []
    for i, item in enumerate(data.get("registrations") or []):
        field = f"person.registrations[{i}]"
        if not isinstance(item, dict) or not item.get("disease"):
            raise InvalidInput(f"字段“{field}”必须包含病种代码 disease")
        registrations.append(HeldRegistration(
            disease=item["disease"],
            approved=parse_date(item.get("approved"), f"{field}.approved"),
            valid_to=parse_date(item.get("valid_to"), f"{field}.valid_to", required=False),
        ))
    pre_existing = data.get("pre_existing") or []
    if not isinstance(pre_existing, list) or not all(isinstance(p, str) for p in pre_existing):
        raise InvalidInput("字段“person.pre_existing”必须是既往症类别代码的列表")
    years = parse_int(data.get("continuous_years"), "person.continuous_years")
    if years < 0:
        raise InvalidInput("字段“person.continuous_years”不能为负数")
    return PersonFacts(
        birth_date=birth,
        category=category,
        identities=tuple(identities),
        pre_existing=tuple(pre_existing),
        continuous_years=years,
        resettled=parse_bool(data.get("resettled"), "person.resettled"),
        registrations=tuple(registrations),
        basic_insured_in_region=parse_bool(data.get("basic_insured_in_region"),
                                           "person.basic_insured_in_region", default=True),
        lives_in_region=parse_bool(data.get("lives_in_region"), "person.lives_in_region"),
        hk_macao_taiwan=parse_bool(data.get("hk_macao_taiwan"), "person.hk_macao_taiwan"),
        basic_insured_in_province=parse_bool(data.get("basic_insured_in_province"),
                                             "person.basic_insured_in_province"),
    )
