"""Template filters of the policies app, and ``money`` for any page (an amount as every page
shows it: ``policies.display.money_text``; ``{{ x|money:"" }}`` shows nothing for none)."""
from datetime import timedelta

from django import template

from policies.display import money_text
from policies.tabular_rows import render_rows

register = template.Library()
register.filter("money", money_text)


@register.filter
def zh_duration(value):
    """A ``timedelta`` in Chinese words: ``timedelta(hours=1)`` → “1 小时”,
    ``timedelta(minutes=90)`` → “1 小时 30 分钟”."""
    if not isinstance(value, timedelta):
        return ""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "天"), (hours, "小时"), (minutes, "分钟")) if n]
    return " ".join(parts) or "不到 1 分钟"


@register.simple_tag
def plan_rows(inline_admin_formset):
    """The rows of a rule table on the plan-year page (policies/tabular_rows.py): the
    bytes of ``admin/edit_inline/tabular.html``'s loop over ``inline_admin_formset``."""
    return render_rows(inline_admin_formset)
