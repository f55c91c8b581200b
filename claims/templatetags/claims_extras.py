"""Template filters of the claims pages: amounts with two decimals, percentages, sums of
result lines, dictionary look-ups, scheme names."""
from decimal import Decimal

from django import template

from claims.engine.common import percent as percent_text
from claims.engine.money import ZERO, fmt
from claims.engine.vocab import scheme_kind_name

register = template.Library()


@register.filter
def yuan(value):
    if value in (None, ""):
        return ""
    return fmt(Decimal(str(value)))


@register.filter
def percent(value):
    if value in (None, ""):
        return ""
    return percent_text(Decimal(str(value)))


@register.filter
def sum_paid(rows):
    return sum((r.paid for r in rows), ZERO)


@register.filter
def minus(total, rows):
    """``total − Σ paid`` of the rows (the patient's share)."""
    return total - sum((r.paid for r in rows), ZERO)


@register.filter
def get(mapping, key):
    return mapping.get(key, "") if mapping else ""


@register.filter
def scheme_name(kind):
    return scheme_kind_name(kind)
