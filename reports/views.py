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

from audit.models import Action
from audit.services import audit_record, request_filters
from jobs.replica import reports_read
from jobs.services import job_start
from policies.models import PlanYear
from sheets.excel import attach, export_file_name, scope_name

from .exports import figure_workbook
from .figures import BUILDERS
from .forms import DashboardFilterForm
from .selectors import participation_rate, plan_years_for
from .services import dashboard_summaries_ensure, participation_rate_freeze

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
    dashboard_summaries_ensure()
    with reports_read():  # the replica, when there is one; the audit row below goes to the primary
        figure = builder(list(form.plan_years()))
    filters = form.filters()
    region = filters["region"].name if "region" in filters else scope_name(request.user)
    year = f"{filters['year']}年" if "year" in filters else None
    response = HttpResponse(figure_workbook(figure, scope=form.description()), content_type=XLSX)
    name = export_file_name(figure.title, region, year)
    audit_record(action=Action.EXPORT, request=request, obj=figure.title,
                 details={"report": figure.title, "filters": request_filters(request), "rows": len(figure.rows),
                          "file": name})
    return attach(response, name)


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
    """政策模拟: the form; 开始模拟 starts a ``policy_simulation`` job (reports/job_kinds.py:
    the base year's settled claims re-settled under the plan year's parameters on a worker,
    nothing written) and opens its page, which shows the tables and the workbook."""
    if not can_view_reports(request.user):
        raise PermissionDenied("您无权查看统计报表")
    form = SimulationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        plan_year, base_year = form.cleaned_data["plan_year"], form.cleaned_data["base_year"]
        job = job_start(kind="policy_simulation", title=f"政策模拟：{plan_year}（基准 {base_year} 年）",
                        acting_user=request.user, params={"plan_year": plan_year.pk, "base_year": base_year},
                        region_ids=[plan_year.scheme.region.pooling_region.pk])
        messages.info(request, "已开始模拟；本页会自动显示进度")
        return redirect(reverse("admin:jobs_myjob_change", args=[job.pk]))
    context = {**admin.site.each_context(request), "title": "政策模拟", "form": form}
    return render(request, "reports/simulate.html", context)
