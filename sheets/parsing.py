"""Cell parsers of the import framework (spec README §6; codes.md: a sheet may carry the
code or the Chinese name of every coded column).

Every parser takes the raw cell (``str`` from csv; ``str``/``int``/``float``/``datetime``
from xlsx) and returns a Python value or raises ``CellError`` with a Chinese message
(the engine adds the row and the column). Empty cells are handled by the engine
(``Column.required`` / ``Column.default``), parsers never see them.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from insurance_rules.errors import clip
from insurance_rules.money import amount_refusal

FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug included)
CENT = Decimal("0.01")


def cacheable(parser):
    """Mark ``parser`` as a pure function of the cell value (same value → same result or
    same error), so the engine may reuse its result for a repeated value of a column
    (dates, amounts and codes repeat down a file)."""
    parser.cacheable = True
    return parser


class CellError(ValueError):
    """A cell that cannot be read; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def shown_cell(value) -> str:
    """A cell's value as an error message quotes it (``errors.clip``: a 5 000-digit cell is
    not copied whole into every message of the error report)."""
    return clip(repr(value) if isinstance(value, float) else str(value))


CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters no cell may carry (tab, line feed and carriage return may): NUL
cannot be stored in PostgreSQL (the import crashed after its preview passed), and none of
them can be written into an xlsx file (the error report, an export)."""


def show_controls(value: str) -> str:
    """``value`` with each control character shown as its code (``\\x00``)."""
    return CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def visible_controls(value: str) -> str:
    """``show_controls``, cut for a message."""
    return clip(show_controls(value))


def control_chars_message(header: str) -> str:
    return (f"“{header}”含有不可见的控制字符（如 NUL 空字符，显示为 \\x00）：请在原文件中删除后重新"
            f"导入（常见于从其他系统复制的数据）")


def extra_cells_message(extra: list[tuple[int, object]], width: int) -> str:
    first, last = extra[0][0], extra[-1][0]
    where = f"第 {first} 列" if first == last else f"第 {first}–{last} 列"
    return (f"本行比表头（{width} 列）多出 {len(extra)} 个有内容的单元格（{where}），整行未导入：常见原因是"
            f"金额写成未加引号的千分位（如 12,000,000 会被拆成 12、000、000）或文本中含英文逗号；"
            f"请去掉千分位逗号，或给含逗号的内容加英文双引号")


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise_text(value: str) -> str:
    """NFKC (full-width letters, digits and parentheses become half-width), trimmed, inner
    whitespace removed — for comparing headers and code names, not for stored text."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def text(value) -> str:
    """A text cell as stored: trimmed; an export's formula guard (a leading ``'`` before
    = + - @) is removed; an integral number (xlsx) becomes its digits."""
    if type(value) is str:  # a csv cell, nearly always
        result = value.strip()
    elif isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    elif isinstance(value, (datetime, date)):
        return value.isoformat()
    else:
        result = str(value).strip()
    if result[:1] == "'" and len(result) > 1 and result[1] in FORMULA_CHARS:
        result = result[1:]
    return result


def number_text(value, label: str) -> str:
    """A document/receipt number: text; a float from xlsx (digits lost beyond 15) refused."""
    if type(value) is str:
        return text(value)
    if isinstance(value, float) and not value.is_integer():
        raise CellError(f"{label}必须按文本填写（不能是小数）：{value!r}")
    if isinstance(value, float) and abs(value) >= 1e15:
        raise CellError(f"{label}超过 15 位时须将单元格设为文本格式，否则 Excel 会丢失末尾数字："
                        f"{int(value)}")
    return text(value)


# --------------------------------------------------------------------------- dates

_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def excel_serial(serial: float) -> date:
    if not 1 <= serial < 2958466:
        raise CellError(f"日期序号 {serial} 超出范围")
    return EXCEL_EPOCH + timedelta(days=int(serial))


@cacheable
def parse_date(value) -> date:
    """2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日, 20240301, an xlsx date cell, or an
    Excel serial number (45352 = 2024-03-01)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError(f"无法识别的日期：{value}")
    if isinstance(value, (int, float)):
        if isinstance(value, int) and 19000101 <= value <= 21001231:
            value = str(value)
        else:
            return excel_serial(value)
    raw = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(value))).strip()
    raw = re.sub(r"\s*([年月日])\s*", r"\1", raw)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError as exc:
                raise CellError(f"不存在的日期：{value}") from exc
    if re.fullmatch(r"\d{1,7}(\.\d+)?", raw):
        return excel_serial(float(raw))
    raise CellError(f"无法识别的日期“{value}”（可写 2024-03-01、2024/3/1、2024年3月1日 或 20240301）")


# --------------------------------------------------------------------------- amounts


@cacheable
def parse_decimal(value, *, places: int = 2, allow_negative: bool = False) -> Decimal:
    """An amount: ``1,234.50``, ``￥380``, ``380元``, or a numeric cell; never via float
    arithmetic (an xlsx float is read through its shortest repr). At most ``places``
    decimals; negative refused unless allowed."""
    if isinstance(value, bool):
        raise CellError(f"金额无效：{value}")
    if isinstance(value, float):
        raw = repr(value)
    elif isinstance(value, (int, Decimal)):
        raw = str(value)
    else:
        raw = normalise_text(value).replace(",", "").replace("¥", "").replace("￥", "")
        raw = raw.removesuffix("元")
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:
        raise CellError(f"金额无效：{shown_cell(value)}") from exc
    if amount.is_finite() and amount < 0 and not allow_negative:
        raise CellError(f"金额不能为负数：{shown_cell(value)}")
    refusal = amount_refusal(amount, places=places)
    if refusal is not None:  # before any rounding: 1e30 cannot be rounded to the cent
        raise CellError(f"金额{refusal}：{shown_cell(value)}")
    return amount.quantize(Decimal(1).scaleb(-places))


@cacheable
def parse_int(value) -> int:
    if isinstance(value, bool):
        raise CellError(f"不是整数：{value}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    raw = normalise_text(value)
    if re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    raise CellError(f"不是整数：{value}")


TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "有"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "无"}


@cacheable
def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    raw = normalise_text(value).lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise CellError(f"无法识别的是/否值“{value}”（填“是”或“否”）")


# --------------------------------------------------------------------------- codes


class CodeTable:
    """A code table accepting the code, the Chinese name or an alias (codes.md).

    ``choices``: ``(code, name)`` pairs (e.g. a ``TextChoices.choices``); ``aliases``:
    more ``name → code`` (e.g. codes.md's longer names). Matching ignores case, spaces
    and full-/half-width differences; the name of a code is ``label(code)``.
    """

    cacheable = True  # see ``cacheable``

    def __init__(self, title: str, choices: Iterable[tuple], aliases: dict | None = None):
        self.title = title
        self.choices = [(code, str(name)) for code, name in choices]
        self._lookup: dict[str, object] = {}
        for code, name in self.choices:
            self._lookup.setdefault(normalise_text(str(code)).lower(), code)
            self._lookup.setdefault(normalise_text(name).lower(), code)
        for name, code in (aliases or {}).items():
            self._lookup.setdefault(normalise_text(name).lower(), code)
        self._labels = dict(self.choices)

    def __call__(self, value):
        key = normalise_text(text(value)).lower()
        if key in self._lookup:
            return self._lookup[key]
        shown = "、".join(name for code, name in self.choices[:12])
        more = " 等" if len(self.choices) > 12 else ""
        raise CellError(f"未知的{self.title}“{text(value)}”；可填：{shown}{more}")

    def label(self, code) -> str:
        return self._labels.get(code, "" if code in (None, "") else str(code))

    def describe(self) -> str:
        """The accepted values as a clerk reads them: the names (the codes are accepted too)."""
        return "、".join(name for code, name in self.choices)


def escape_formula(value):
    """Formula guard (OWASP CSV injection): a text starting with = + - @ (or tab/CR) gets a
    leading ``'``; other values pass. Exports call ``sheets.excel.export_text``, which adds
    the control-character guard."""
    if isinstance(value, str) and value.startswith(FORMULA_CHARS):
        return "'" + value
    return value
