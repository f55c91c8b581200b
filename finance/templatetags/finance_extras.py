"""Template filters of the finance pages: amounts as every page shows them."""
from django import template

from policies.display import money_text

register = template.Library()


@register.filter
def money(value) -> str:
    """``20000`` → ``20,000.00`` (``policies.display.money_text``); ``—`` for no amount."""
    return money_text(value)
