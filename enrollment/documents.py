"""Identity-document checks of an insured person (spec README §2 参保人, §6 bad input).

The 18-character 居民身份证号码 follows GB 11643: 6-digit address code, 8-digit birth
date, 3-digit sequence (odd = male, even = female) and an ISO 7064 MOD 11-2 check
character, validated with python-stdnum (``stdnum.cn.ric``). The 港澳台居民居住证 number
has the same structure with the address codes 810000 (香港), 820000 (澳门), 830000 (台湾).
The 2023 外国人永久居留身份证 number is 18 characters starting with ``9`` with the same
check character; the older card has 3 letters + 12 digits. A 出生医学证明 number is one
letter and 9 digits on the current form; older forms vary, so any 6–20 letters/digits
are accepted.

Area codes: the address code must be a county-level code known to GB/T 2260 at some
time. stdnum additionally requires the code to have existed in the birth year; real
numbers are issued at 户籍登记 (often years after birth, and after re-zoning such as
重庆 1997), so that extra condition is not applied (decision recorded in
docs/enrollment.md).

Pure Python: errors are ``DocumentError`` with a Chinese message naming the field.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric

ID_CARD = "id_card"
HK_MACAU_TAIWAN = "hk_macau_taiwan"
FOREIGN_PERMANENT = "foreign_permanent"
BIRTH_CERTIFICATE = "birth_certificate"

DOCUMENT_NAMES = {
    ID_CARD: "居民身份证",
    HK_MACAU_TAIWAN: "港澳台居民居住证",
    FOREIGN_PERMANENT: "外国人永久居留证",
    BIRTH_CERTIFICATE: "出生医学证明",
}

HMT_AREAS = {"810000": "香港", "820000": "澳门", "830000": "台湾"}
_CHECK_CHARACTERS = frozenset("0123456789X")
MALE, FEMALE = "male", "female"


class DocumentError(ValueError):
    """A document number that fails its check; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DocumentInfo:
    number: str  # normalised (upper case, no spaces)
    birth_date: date | None = None  # derived from the number where it carries one
    sex: str | None = None  # MALE / FEMALE where derivable


def normalise(number: str) -> str:
    """Upper case, without spaces and hyphens."""
    number = str(number or "")
    if number.isascii() and number.isalnum():  # the usual case, without a regex
        return number.upper()
    return re.sub(r"[\s-]", "", number).upper()


def full_id_number(term: str) -> str | None:
    """``term`` as a whole 18-character GB 11643 number (居民身份证, 港澳台居民居住证, 2023
    外国人永久居留证), normalised (spaces out, x → X), when its check character is right;
    else None. What the admin searches exactly on the number's index (enrollment.admin.search)."""
    number = normalise(term)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in _CHECK_CHARACTERS:
        return None
    return number if ric.calc_check_digit(number) == number[17] else None


_TODAY: tuple[float, float, date | None] = (0.0, 0.0, None)


def _today() -> date:
    """``date.today()``, kept until the local midnight that ends it (an import checks
    100 000 numbers: one clock read each instead of a local date built each)."""
    global _TODAY
    start, end, day = _TODAY
    if start <= time.time() < end:
        return day
    day = date.today()
    start = datetime.combine(day, datetime.min.time()).timestamp()
    end = datetime.combine(day + timedelta(days=1), datetime.min.time()).timestamp()
    _TODAY = (start, end, day)
    return day


def _gb11643(number: str, label: str, *, today: date | None = None) -> DocumentInfo:
    """Length, digits, check character and birth date of a GB 11643 number."""
    if len(number) != 18:
        raise DocumentError(f"{label}号码必须是 18 位（当前 {len(number)} 位）：{number}")
    if not number[:17].isdigit() or number[17] not in _CHECK_CHARACTERS:
        raise DocumentError(f"{label}号码前 17 位必须是数字，最后一位是数字或 X：{number}")
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise DocumentError(f"{label}号码校验位错误（按前 17 位应为 {expected}）：{number}")
    try:  # what ric.get_birth_date does, without cleaning the number once more
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise DocumentError(f"{label}号码中的出生日期 {number[6:14]} 不是有效日期：{number}") from exc
    if birth > (today or _today()) or birth.year < 1880:
        raise DocumentError(f"{label}号码中的出生日期 {birth.isoformat()} 不合理：{number}")
    sex = MALE if int(number[16]) % 2 == 1 else FEMALE
    return DocumentInfo(number, birth, sex)


@lru_cache(maxsize=8192)
def _area_known(code: str) -> bool:
    """True when ``code`` is a county-level GB/T 2260 code at any time (stdnum's table;
    cached: a few thousand codes, looked up once per row of an import)."""
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return bool(info.get("county"))


def check_document(document_type: str, number: str, *, today: date | None = None) -> DocumentInfo:
    """Validate ``number`` for ``document_type``; return what it tells about the person."""
    return check_normalised(document_type, normalise(number), today=today)


def check_normalised(document_type: str, number: str, *, today: date | None = None) -> DocumentInfo:
    """``check_document`` of a number already ``normalise``d (``normalise(number) == number``)."""
    name = DOCUMENT_NAMES.get(document_type)
    if name is None:
        raise DocumentError(f"未知的证件类型：{document_type}")
    if not number:
        raise DocumentError(f"请填写{name}号码")
    if document_type == ID_CARD:
        info = _gb11643(number, name, today=today)
        if not _area_known(number[:6]):
            raise DocumentError(f"{name}号码的地址码 {number[:6]} 不是有效的行政区划代码：{number}")
        return info
    if document_type == HK_MACAU_TAIWAN:
        info = _gb11643(number, name, today=today)
        if number[:6] not in HMT_AREAS:
            raise DocumentError(
                f"{name}号码必须以 810000（香港）、820000（澳门）或 830000（台湾）开头：{number}")
        return info
    if document_type == FOREIGN_PERMANENT:
        if len(number) == 18:
            if not number.startswith("9"):
                raise DocumentError(f"{name}号码（2023 版，18 位）必须以 9 开头：{number}")
            return _gb11643(number, name, today=today)
        if re.fullmatch(r"[A-Z]{3}[0-9]{12}", number):
            return DocumentInfo(number)
        raise DocumentError(f"{name}号码必须是 18 位（2023 版）或 3 位字母加 12 位数字（旧版）：{number}")
    if not re.fullmatch(r"[A-Z0-9]{6,20}", number):
        raise DocumentError(f"{name}编号只能包含 6–20 位字母或数字：{number}")
    return DocumentInfo(number)


def make_id_number(area: str, birth: date, seq: int) -> str:
    """A valid 18-digit number for ``area``/``birth``/``seq`` (seq odd = male); for tests
    and demo data."""
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def mask(value: str, *, head: int = 6, tail: int = 4) -> str:
    """First ``head`` and last ``tail`` characters, the rest as ``*``."""
    value = value or ""
    if len(value) <= head + tail:
        return value[:1] + "*" * max(len(value) - 1, 0) if value else ""
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]
