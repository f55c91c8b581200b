"""Amounts as every page shows them (the one display formatter): ``1,234.56`` — two
decimals, half-up, thousands grouped. Template filters (``money`` of finance, ``yuan`` of
claims), admin columns (``money_column``) and admin messages call ``money_text``. Form
inputs stay ungrouped (Django's own widgets), and the engine's explanation texts keep
``insurance_rules.money.fmt`` (the trial-calc contract): this is the display layer only."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def money_text(value, empty: str = "—") -> str:
    """``Decimal("1234.565")`` → ``1,234.57``; ``-5740.35`` → ``-5,740.35``; ``0`` → ``0.00``;
    ``None`` or ``""`` → ``empty``. Numbers, Decimals and numeric strings alike (a string is
    read as written, a float by its shortest repr); anything else is returned as text."""
    if value is None or value == "":
        return empty
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
        amount = amount.quantize(CENT, ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    if amount.is_zero():
        amount = abs(amount)  # never "-0.00"
    return f"{amount:,.2f}"  # exact after quantize: the format's own rounding never applies


def money_column(field: str, description: str, *, empty: str = "—"):
    """An admin column (``list_display`` / ``readonly_fields``) showing ``field`` through
    ``money_text``, sortable by it. ``description`` is the header, 元 in it."""

    def column(obj):
        return money_text(getattr(obj, field), empty)

    # what ``admin.display(description=, ordering=)`` sets (no admin import: models use this module)
    column.short_description, column.admin_order_field = description, field
    column.__name__ = f"{field}_money"
    return column


def date_text(value) -> str:
    """``date(2027, 1, 1)`` → ``2027年1月1日`` (the admin's own date format, ``|date:"Y年n月j日"``
    in a template); ``—`` for none."""
    return "—" if value is None else f"{value.year}年{value.month}月{value.day}日"
