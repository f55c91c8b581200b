"""年度清算 pages (docs/money.md §年度清算), scoped to the fund's region:

- 年度清算经营费用: the expense rows (parameter rows with history, 修改原因, audited);
- 年度清算表: the list; 编制 (the add page: fund and year → ``statement_prepare``); each
  statement's page shows its stored lines with the buttons 重新编制 / 签认 (draft),
  重新清算 (the latest signed version) and 导出 xlsx (audited). Nothing on these pages
  edits a figure: every write is a service call.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from policies.access import RegionScopedAdminMixin, scope_queryset
from policies.admin import COMPACT_WIDGETS, HistoryAdmin
from policies.display import money_text
from policies.models import PlanYear
from sheets.excel import attach

from .. import services
from ..models.year_end import COMMERCIAL_KINDS, YearEndExpense, YearEndStatement
from ..selectors import year_end as selectors
from ..services.year_end import PREPARE, SIGN
from ..year_end_export import statement_file_name, statement_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _errors(exc) -> str:
    return "；".join(exc.messages) if isinstance(exc, ValidationError) else (str(exc) or "无权限")


@admin.register(YearEndExpense)
class YearEndExpenseAdmin(RegionScopedAdminMixin, HistoryAdmin):
    """经营费用 rows of the commercial products' plan years (entered by the bureau)."""

    region_field = "plan_year__scheme__region"
    history_revert = True  # a plain parameter table
    audit_action = Action.PARAMETER_CHANGE
    fields = ["plan_year", "seq", "name", "method", "amount", "ratio", "note"]
    list_display = ["name", "region", "scheme", "year", "method", "amount_text", "ratio_text", "note"]
    list_filter = [("plan_year__scheme__region", admin.RelatedOnlyFieldListFilter), "plan_year__year",
                   "method"]
    list_select_related = ["plan_year__scheme__region"]
    search_fields = ["name", "plan_year__scheme__name"]
    formfield_overrides = COMPACT_WIDGETS

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "plan_year":
            kwargs["queryset"] = scope_queryset(
                PlanYear.objects.filter(scheme__kind__in=COMMERCIAL_KINDS)
                .select_related("scheme__region"), request.user, "scheme__region")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="统筹区", ordering="plan_year__scheme__region__code")
    def region(self, obj):
        return obj.plan_year.scheme.region.name

    @admin.display(description="险种", ordering="plan_year__scheme__name")
    def scheme(self, obj):
        return obj.plan_year.scheme.name

    @admin.display(description="年度", ordering="plan_year__year")
    def year(self, obj):
        return obj.plan_year.year

    @admin.display(description="金额（元）", ordering="amount")
    def amount_text(self, obj):
        return money_text(obj.amount)

    @admin.display(description="比例（%）", ordering="ratio")
    def ratio_text(self, obj):
        return "—" if obj.ratio is None else f"{obj.ratio}%"


class PrepareForm(forms.Form):
    scheme = forms.ModelChoiceField(label="险种（承保机构）", queryset=None, empty_label="请选择")
    year = forms.IntegerField(label="清算年度", min_value=2000, max_value=2100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = selectors.commercial_schemes(user)
        self.fields["scheme"].label_from_instance = (
            lambda s: f"{s.region.name} {s.name}（{s.operator or '承保机构未填写'}）"[:120])
        self.fields["year"].initial = timezone.localdate().year - 1


class ReopenForm(forms.Form):
    reason = forms.CharField(label="重新清算原因", max_length=200,
                             widget=forms.TextInput(attrs={"size": 60}))


@admin.register(YearEndStatement)
class YearEndStatementAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    """年度清算表: list, 编制, the statement page and its acts (module docstring)."""

    region_field = "scheme__region"
    actions = None
    list_display = ["title", "insurer_text", "version", "status", "premium_text", "claims_text",
                    "expenses_text", "profit_text", "transfer_text", "prepared_by", "signed_by"]
    list_display_links = ["title"]
    list_filter = [("scheme__region", admin.RelatedOnlyFieldListFilter), "year", "status"]
    list_select_related = ["scheme__region", "prepared_by", "signed_by"]
    search_fields = ["scheme__name", "insurer"]

    @admin.display(description="清算表", ordering="year")
    def title(self, obj):
        return f"{obj.scheme.region.name} {obj.scheme.name} {obj.year}年度"

    @admin.display(description="承保机构")
    def insurer_text(self, obj):
        text = obj.insurer or "未填写"
        return text if len(text) <= 24 else text[:24] + "…"

    @admin.display(description="保费收入（元）", ordering="premium_income")
    def premium_text(self, obj):
        return money_text(obj.premium_income)

    @admin.display(description="赔付支出（元）", ordering="claims_paid")
    def claims_text(self, obj):
        return money_text(obj.claims_paid)

    @admin.display(description="经营费用（元）")
    def expenses_text(self, obj):
        return "未录入" if obj.expenses is None else money_text(obj.expenses)

    @admin.display(description="利润（元）")
    def profit_text(self, obj):
        return money_text(obj.profit)

    @admin.display(description="转入健康管理基金（元）")
    def transfer_text(self, obj):
        return "不适用" if obj.transfer_rate is None else money_text(obj.health_fund_transfer)

    # ------------------------------------------------------------------ permissions

    def has_add_permission(self, request):
        return request.user.has_perm(PREPARE)

    def has_change_permission(self, request, obj=None):
        return False  # figures are written by the services only

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        user = request.user
        allowed = user.has_perm("finance.view_yearendstatement") or user.has_perm(PREPARE) \
            or user.has_perm(SIGN)
        return allowed and self.in_region_scope(request, obj)

    # ------------------------------------------------------------------ pages

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/act/<str:act>/", wrap(self.act_view), name="finance_yearendstatement_act"),
            path("<path:object_id>/xlsx/", wrap(self.xlsx_view), name="finance_yearendstatement_xlsx"),
            *super().get_urls(),
        ]

    def _statement(self, request, object_id):
        statement = self.get_object(request, unquote(object_id))
        if statement is None or not self.has_view_permission(request, statement):
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return statement, None

    def _page(self, statement):
        return reverse("admin:finance_yearendstatement_change", args=[statement.pk])

    def add_view(self, request, form_url="", extra_context=None):
        """编制: choose the fund and the year; the draft is computed and stored."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PrepareForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                statement = services.statement_prepare(
                    scheme=form.cleaned_data["scheme"], year=form.cleaned_data["year"],
                    acting_user=request.user)
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, f"已编制{statement}，请核对后由其他人员签认")
                return redirect(self._page(statement))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form,
                   "title": "编制年度清算表"}
        return TemplateResponse(request, "admin/finance/yearendstatement/prepare.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The statement page (read-only; the acts are buttons)."""
        statement, response = self._statement(request, object_id)
        if response:
            return response
        user = request.user
        latest = selectors.latest_statement(statement.scheme, statement.year)
        draft = not statement.is_signed
        lines = list(statement.lines.order_by("seq"))
        sections = []
        for line in lines:
            if not sections or sections[-1][0] != line.get_section_display():
                sections.append((line.get_section_display(), []))
            sections[-1][1].append(line)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "statement": statement,
            "title": str(statement), "sections": sections, "notes": statement.notes.splitlines(),
            "versions": selectors.statements().filter(scheme=statement.scheme, year=statement.year)
            .order_by("version"),
            "can_prepare": draft and user.has_perm(PREPARE),
            "can_sign": draft and user.has_perm(SIGN),
            "same_person": statement.prepared_by_id == user.pk,
            "can_reopen": (not draft and latest.pk == statement.pk
                           and user.has_perm(PREPARE)),
            "reopen_form": ReopenForm(),
        }
        return TemplateResponse(request, "admin/finance/yearendstatement/statement.html", context)

    def act_view(self, request, object_id, act):
        """POST 重新编制 / 签认 / 重新清算 through the services; back to the statement page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        statement, response = self._statement(request, object_id)
        if response:
            return response
        try:
            if act == "prepare":
                statement = services.statement_prepare(scheme=statement.scheme, year=statement.year,
                                                       acting_user=request.user)
                messages.success(request, "已按当前基金账务和参数重新编制")
            elif act == "sign":
                statement = services.statement_sign(statement=statement, acting_user=request.user)
                messages.success(request, "已签认，清算表数字已冻结")
            elif act == "reopen":
                form = ReopenForm(request.POST)
                if not form.is_valid():
                    raise ValidationError("请填写重新清算原因")
                statement = services.statement_reopen(statement=statement, acting_user=request.user,
                                                      reason=form.cleaned_data["reason"])
                messages.success(request, f"已生成第{statement.version}版草稿，上一版保持不变")
            else:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        return redirect(self._page(statement))

    def xlsx_view(self, request, object_id):
        statement, response = self._statement(request, object_id)
        if response:
            return response
        name = statement_file_name(statement)
        audit_record(action=Action.EXPORT, request=request, obj=statement,
                     details={"operation": "导出年度清算表", "file": name})
        return attach(HttpResponse(statement_workbook(statement), content_type=XLSX), name)
