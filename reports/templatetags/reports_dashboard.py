"""``{% reports_dashboard %}``: the 统计报表 dashboard on the admin index
(templates/admin/index.html). Renders nothing for a user without ``reports.view_report``;
otherwise the filter form and, per figure, a chart (data via ``json_script``, drawn by
static/reports/charts.js), its table (with the figure's row links, e.g. to the overdue
claims) and its xlsx export link. The figures are report reads (``jobs.replica``): read from
the replica when there is one."""
from __future__ import annotations

from decimal import Decimal

from django import template
from django.urls import reverse

from jobs.replica import reports_read
from policies.display import money_text
from policies.models import PlanYear
from reports.figures import INT, MONEY, PERCENT, build_figures
from reports.forms import DashboardFilterForm
from reports.services import FREEZE_PERMISSION, dashboard_summaries_ensure
from reports.views import can_view_reports

register = template.Library()


def display(value, kind) -> tuple[str, bool]:
    """(text, is_number) of a table cell."""
    if value is None:
        return "—", False
    if isinstance(value, Decimal) and kind == MONEY:
        return money_text(value), True
    if isinstance(value, Decimal) and kind == PERCENT:
        return f"{value:.2f}", True
    if isinstance(value, int) and kind == INT:
        return str(value), True
    return str(value), False


def _freeze_action(user, row):
    """The 冻结 button of a participation row, or None."""
    plan_year = row.plan_year
    if (row.rate is None or plan_year.status == PlanYear.Status.CLOSED
            or not user.has_perm(FREEZE_PERMISSION)):
        return None
    return {"url": reverse("reports:freeze", args=[plan_year.pk]), "rate": row.rate}


@register.inclusion_tag("reports/dashboard.html", takes_context=True)
def reports_dashboard(context):
    request = context.get("request")
    if request is None or not can_view_reports(request.user):
        return {"show": False}
    user = request.user
    form = DashboardFilterForm(request.GET, user=user)
    query = form.query_string()
    figures = []
    dashboard_summaries_ensure()  # a plan year never refreshed yet (one query otherwise)
    with reports_read():  # the replica, when there is one (config/db_routers.py)
        built = build_figures(form.plan_years())
    for figure in built:
        rows = []
        links = figure.links or [None] * len(figure.rows)
        for values, obj, link in zip(figure.rows, figure.row_objects, links, strict=True):
            cells = [display(v, c.kind) for v, c in zip(values, figure.columns, strict=True)]
            action = _freeze_action(user, obj) if figure.key == "participation" else None
            rows.append({"cells": cells, "action": action, "link": link})
        export = reverse("reports:export", args=[figure.key])
        figures.append({
            "figure": figure, "rows": rows, "chart_id": f"reports-chart-{figure.key}",
            "export_url": f"{export}?{query}" if query else export,
            "has_actions": figure.key == "participation" and any(r["action"] for r in rows),
            "has_links": bool(figure.links),
        })
    return {"show": True, "form": form, "figures": figures,
            "next": request.get_full_path()}
