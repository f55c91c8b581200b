"""Template filters of the finance pages: amounts as every page shows them."""
from django import template

from policies.display import money_text

register = template.Library()
# ``20000`` → ``20,000.00``; ``—`` for no amount
register.filter("money", money_text)
