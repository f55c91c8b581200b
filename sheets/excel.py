"""What every workbook the product writes shares (docs/spreadsheets.md §导出给人看的表格;
docs/security.md): typed cells a clerk can sum and sort in Excel, text that can never be
a formula, and names that say what the file is. Every xlsx and csv the product writes —
sheet exports, templates and error reports (``sheets.writers``), the admin's
import-export formats (``sheets.resources``, ``policies.resources``), the plan-year
workbook, the dashboard exports and the simulation workbook — puts its cells through
``export_text`` / ``excel_cell``:

- ``export_text(value)``: the one guard of text written to a file — control characters
  shown as ``\\x01`` (an xlsx cannot hold them: openpyxl raised, HTTP 500), then the
  formula guard (a leading ``'`` before = + - @, tab, CR: ``=HYPERLINK(…)`` stays text).
- ``put_cell(ws, row, column, value)`` (a normal worksheet) and ``typed_cell(sheet,
  value)`` (a write-only one): a cell through ``excel_cell``.

- ``excel_cell(value)``: the value to put in a cell and its number format — money
  (``Decimal``) stays a number with ``#,##0.00`` (thousands grouped as on the pages; more
  places when the value has them, e.g. a rate 0.055), dates are date cells ``yyyy-mm-dd``, datetimes are converted to local time
  (``TIME_ZONE``, Asia/Shanghai; Excel has no time zones, so the cell holds the naive
  local time) ``yyyy-mm-dd hh:mm``, booleans are 是/否, text goes through ``export_text``.
- ``column_width(header, values)``: a column's width from its header and a sample of its
  values as Excel shows them (a Chinese character counts two), 12 to 40.
- ``export_file_name(label, *parts)``: ``参保人_垫江县_20261203.xlsx`` (today, local).
- ``sheet_title(*parts)``: the same words as a worksheet title (≤ 31 characters, no
  ``[]:*?/\\``).
- ``attach(response, file_name)``: ``Content-Disposition: attachment`` with the RFC 5987
  ``filename*`` so the Chinese name survives every browser.
- ``scope_name(user)``: the regions an export covers, in words (垫江县; 全部统筹区).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.http import content_disposition_header

from jobs.scope import current_scope

from .parsing import escape_formula, show_controls

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_BAD_FILE = re.compile(r'[\\/:*?"<>|\s]+')
WIDTH_MIN, WIDTH_MAX = 12, 40
"""A column's width in Excel's characters: never narrower than 12, never wider than 40
(a long text wraps or is cut there rather than making the sheet unreadable)."""


def local_naive(value: datetime) -> datetime:
    """An aware datetime as the naive local time (seconds kept, microseconds dropped)."""
    if timezone.is_aware(value):
        value = timezone.localtime(value).replace(tzinfo=None)
    return value.replace(microsecond=0)


def decimal_format(value: Decimal) -> str:
    """``#,##0.00`` (``MONEY_FORMAT``), or more places when the value has them."""
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < -2 else 2
    return "#,##0." + "0" * places


def text_width(text: str) -> int:
    """Characters ``text`` takes in Excel's column units: a wide (Chinese) character two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shown_width(value) -> int:
    """The width of ``value`` as its cell shows it (number format applied)."""
    typed, number_format = excel_cell(value)
    if typed is None:
        return 0
    if isinstance(typed, (date, datetime)):
        return len(number_format or DATE_FORMAT)
    if isinstance(typed, Decimal):
        places = len(number_format.rpartition(".")[2]) if number_format else 2
        return len(f"{typed:,.{places}f}")
    return text_width(str(typed))


def column_width(header, values=()) -> int:
    """A column's width: its header (bold, with room for Excel's filter button) or its
    widest value, whichever is wider, between ``WIDTH_MIN`` and ``WIDTH_MAX``."""
    widest = max([text_width(str(header)) + 4, *(shown_width(v) + 2 for v in values)])
    return max(WIDTH_MIN, min(WIDTH_MAX, widest))


def export_text(value):
    """Text as any export writes it: control characters shown, formula guarded (module
    docstring); a value that is not text passes unchanged."""
    if not isinstance(value, str):
        return value
    return escape_formula(show_controls(value))


def excel_cell(value):
    """``(cell value, number format or None)`` of an exported value."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("是" if value else "否"), None
    if isinstance(value, datetime):
        return local_naive(value), DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, Decimal):
        return value, decimal_format(value)
    if isinstance(value, (int, float)):
        return value, None
    return export_text(str(value)), None


def put_cell(ws, row: int, column: int, value, *, number_format: str | None = None):
    """Write ``value`` at (row, column) of a normal openpyxl worksheet through ``excel_cell``;
    ``number_format`` replaces the value's own. Returns the cell (for its font)."""
    typed, own_format = excel_cell(value)
    cell = ws.cell(row=row, column=column, value=typed)
    if number_format or own_format:
        cell.number_format = number_format or own_format
    return cell


def typed_cell(sheet, value):
    """A cell of an openpyxl write-only ``sheet`` through ``excel_cell``: numbers, dates and
    local times with their number format (Excel sums and sorts them), text guarded."""
    from openpyxl.cell import WriteOnlyCell

    value, number_format = excel_cell(value)
    cell = WriteOnlyCell(sheet, value=value)
    if number_format is not None:
        cell.number_format = number_format
    return cell


def today_stamp() -> str:
    return timezone.localdate().strftime("%Y%m%d")


def _words(parts) -> list[str]:
    return [str(p).strip() for p in parts if p is not None and str(p).strip()]


def export_file_name(label: str, *parts, ext: str = "xlsx", stamp: bool = True) -> str:
    """``label_part_…_YYYYMMDD.ext``; characters a file name cannot hold become ``-``."""
    words = [*_words([label, *parts]), *([today_stamp()] if stamp else [])]
    return "_".join(_BAD_FILE.sub("-", w) for w in words) + f".{ext}"


def sheet_title(*parts) -> str:
    return _BAD_TITLE.sub("-", "_".join(_words(parts)))[:31] or "Sheet1"


def attach(response, file_name: str):
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return response


def scope_name(user) -> str:
    """The regions of ``user``'s exports in words (``jobs.scope``: 垫江县; 全部统筹区 for a
    superuser or a system job)."""
    return current_scope().describe(user)
