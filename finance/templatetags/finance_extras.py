"""Template filters of the finance pages: amounts as a finance officer reads them."""
from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """``20000`` → ``20,000.00`` (thousands grouped, two decimals); ``—`` for no amount."""
    if value in (None, ""):
        return "—"
    return f"{Decimal(str(value)):,.2f}"
