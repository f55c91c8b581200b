"""Report views behind the admin login: the xlsx export of a figure, the 冻结参保率
button and the 政策模拟 page (docs/reports.md). Both need ``reports.view_report``; both only see the plan years
of the user's regions. The freeze view only calls the service."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from claims.simulation import simulate_plan_year
from claims.simulation_export import simulation_workbook
from policies.models import PlanYear
from sheets.excel import attach, export_file_name, scope_name

from .exports import figure_workbook
from .figures import BUILDERS
from .forms import DashboardFilterForm
from .selectors import participation_rate, plan_years_for
from .services import participation_rate_freeze

VIEW_PERMISSION = "reports.view_report"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def can_view_reports(user) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(VIEW_PERMISSION))


def export_view(request, key):
    if not can_view_reports(request.user):
        raise PermissionDenied("您无权查看统计报表")
    builder = BUILDERS.get(key)
    if builder is None:
        raise Http404("没有这个报表")
    form = DashboardFilterForm(request.GET, user=request.user)
    figure = builder(list(form.plan_years()))
    filters = form.filters()
    region = filters["region"].name if "region" in filters else scope_name(request.user)
    year = f"{filters['year']}年" if "year" in filters else None
    response = HttpResponse(figure_workbook(figure, scope=form.description()), content_type=XLSX)
    return attach(response, export_file_name(figure.title, region, year))


@require_POST
def freeze_view(request, plan_year_id):
    if not can_view_reports(request.user):
        raise PermissionDenied("您无权查看统计报表")
    plan_year = get_object_or_404(plan_years_for(request.user), pk=plan_year_id)
    row = participation_rate(plan_year)
    try:
        participation_rate_freeze(plan_year=plan_year, rate=row.rate, acting_user=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "您无权冻结参保率")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已将“{plan_year}”的官方参保率冻结为 {row.rate}%")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("admin:index")
    return redirect(target)


class SimulationForm(forms.Form):
    """政策模拟: the plan year to try (usually a draft) and the base year of the claims."""

    plan_year = forms.ModelChoiceField(label="模拟的年度方案", queryset=PlanYear.objects.none())
    base_year = forms.IntegerField(label="基准年度（重算其已结算理赔）", min_value=2000, max_value=2100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan_year"].queryset = plan_years_for(user)


def simulate_view(request):
    """Re-settle a base year's settled claims under a plan year's parameters (nothing is
    written; claims.simulation) and show the differences; ``?format=xlsx`` downloads."""
    if not can_view_reports(request.user):
        raise PermissionDenied("您无权查看统计报表")
    form = SimulationForm(request.GET or None, user=request.user)
    result = None
    if form.is_bound and form.is_valid():
        result = simulate_plan_year(plan_year=form.cleaned_data["plan_year"],
                                    base_year=form.cleaned_data["base_year"])
        if request.GET.get("format") == "xlsx":
            response = HttpResponse(content_type=XLSX)
            plan_year = form.cleaned_data["plan_year"]
            simulation_workbook(result).save(response)
            return attach(response, export_file_name(
                "政策模拟", plan_year.scheme.region.name, plan_year.scheme.name,
                f"{plan_year.year}年度方案", f"基准{form.cleaned_data['base_year']}年"))
    context = {**admin.site.each_context(request), "title": "政策模拟", "form": form, "result": result,
               "groups": [("按险种层", [*result.by_layer.values(), result.total]),
                          ("按就医类型", list(result.by_claim_type.values())),
                          ("按身份", list(result.by_identity.values()))] if result else []}
    return render(request, "reports/simulate.html", context)
