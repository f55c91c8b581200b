"""对账 admin (docs/money.md §对账), region-scoped (``policies.access``), read-only lists
whose acts call ``finance.services.reconciliation``:

- 税务对账 / 医院对账: the runs of each source; 导入 (``sheets.admin.SheetAdminMixin``: upload
  → 校验 job → 确认导入 → 导入 job, all-or-nothing), 下载导入模板; action 复核待处理差异.
- 对账差异: every line that is not 已匹配 (masked 证件号码), filters by state, result, source,
  month and region; on a difference's page 认可 (with a note), 复核 and 备注, the link to
  correct it through the normal pages (登记缴费, 理赔结算), and its history; 导出差异 writes
  the filtered list as .xlsx (``sheets.writers.write_table``).
- 月度对账状态: 未对账 / 有差异 / 已平 per region, fund and month of a year
  (``selectors.monthly_status``).
"""
from __future__ import annotations

from datetime import date
from io import BytesIO

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin

from audit.models import Action
from audit.services import audit_record
from enrollment.models import Enrollment, Person
from finance.models import (
    HospitalReconciliation,
    ReconciliationDifference,
    ReconciliationLine,
    ReconciliationStatus,
    TaxReconciliation,
)
from finance.selectors import reconciliation as selectors
from finance.services import reconciliation as services
from listing.read_only import ReadOnlyAdminMixin
from policies.access import RegionScopedAdminMixin
from policies.display import money_text
from policies.masking import MaskedIdentityAdminMixin, mask_for
from sheets.admin import XLSX_TYPE, SheetAdminMixin
from sheets.excel import attach, export_file_name, scope_name
from sheets.writers import write_table

State = ReconciliationLine.State
Category = ReconciliationLine.Category
RESOLVE = services.RESOLVE_PERMISSION


def _money(value) -> str:
    return money_text(value, "-")


# --------------------------------------------------------------------------- runs


class MonthFilter(admin.SimpleListFilter):
    """对账月份: the months that have runs in the list (not Django's 今天/过去7天)."""

    title = "对账月份"
    parameter_name = "month"
    path = "month"

    def lookups(self, request, model_admin):
        months = model_admin.get_queryset(request).order_by().values_list(self.path, flat=True).distinct()
        return [(m.isoformat(), services.month_words(m)) for m in sorted(set(months), reverse=True)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            month = date.fromisoformat(self.value())
        except ValueError:
            return queryset.none()
        return queryset.filter(**{self.path: month})


class RunMonthFilter(MonthFilter):
    path = "run__month"


class _RunAdmin(ReadOnlyAdminMixin, SheetAdminMixin, ExportMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    region_field = "region"
    source = ""
    list_filter = [MonthFilter, ("region", admin.RelatedOnlyFieldListFilter), "is_current"]
    list_select_related = ["region", "scheme", "hospital", "imported_by"]
    list_display = ["month_words", "region", "fund", "counts", "open_count", "current", "file_name",
                    "imported_by", "imported_at"]
    list_display_links = ["month_words"]
    fields = ["month_words", "region", "fund", "counts", "open_count", "current", "file_name", "imported_by",
              "imported_at", "differences_link"]
    readonly_fields = fields
    actions = ["recheck_action"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(source=self.source).annotate(
            n_matched=Count("lines", filter=Q(lines__category=Category.MATCHED)),
            n_lines=Count("lines"),
            n_open=Count("lines", filter=Q(lines__state=State.OPEN)))

    def has_export_permission(self, request):
        return False  # the lines are exported on 对账差异 (导出差异)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context.pop("sheet_export_job_url", None)
        return super().changelist_view(request, extra_context)

    @admin.display(description="对账月份", ordering="month")
    def month_words(self, obj):
        return services.month_words(obj.month)

    @admin.display(description="基金（医疗机构）")
    def fund(self, obj):
        return obj.fund_name

    @admin.display(description="明细")
    def counts(self, obj):
        return f"共 {obj.n_lines} 条，已匹配 {obj.n_matched} 条，差异 {obj.n_lines - obj.n_matched} 条"

    @admin.display(description="待处理差异", ordering="n_open")
    def open_count(self, obj):
        return obj.n_open

    @admin.display(description="当前有效")
    def current(self, obj):
        return "是" if obj.is_current else "否（已重新导入）"

    @admin.display(description="差异")
    def differences_link(self, obj):
        url = reverse("admin:finance_reconciliationdifference_changelist") + f"?run__id__exact={obj.pk}"
        return format_html('<a href="{}">查看本次对账的差异</a>', url)

    def has_resolve_permission(self, request):
        return request.user.has_perm(RESOLVE)  # what the services check

    @admin.action(description="复核所选对账的待处理差异", permissions=["resolve"])
    def recheck_action(self, request, queryset):
        closed = still = 0
        for run in queryset:
            c, s = services.reconciliation_run_recheck(run=run, acting_user=request.user)
            closed, still = closed + c, still + s
        self.message_user(request, f"复核完成：{closed} 条差异已更正，{still} 条仍待处理", messages.SUCCESS)


@admin.register(TaxReconciliation)
class TaxReconciliationAdmin(_RunAdmin):
    sheet_kind = "tax_collection"
    source = TaxReconciliation.Source.TAX


@admin.register(HospitalReconciliation)
class HospitalReconciliationAdmin(_RunAdmin):
    sheet_kind = "hospital_settlement"
    source = HospitalReconciliation.Source.HOSPITAL


# --------------------------------------------------------------------------- differences


class CurrentRunFilter(admin.SimpleListFilter):
    title = "对账记录"
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("all", "包括已重新导入的对账")]

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "全部" or str(choice["display"]) in ("All", "全部"):
                choice["display"] = "仅当前有效的对账"
            yield choice

    def queryset(self, request, queryset):
        if self.value() == "all" or "run__id__exact" in request.GET:
            return queryset
        return queryset.filter(run__is_current=True)


class StateFilter(admin.SimpleListFilter):
    title = "处理状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(s.value, s.label) for s in (State.OPEN, State.ACCEPTED, State.CORRECTED)]

    def queryset(self, request, queryset):
        return queryset.filter(state=self.value()) if self.value() in State.values else queryset


class ResultFilter(admin.SimpleListFilter):
    """对账结果 as the clerk says it: 税务缺失 and 医院缺失 apart."""

    title = "对账结果"
    parameter_name = "result"
    CHOICES = {"missing_here": ("本系统缺失", Q(category=Category.MISSING_HERE)),
               "tax_missing": ("税务缺失", Q(category=Category.MISSING_THERE, run__source="tax")),
               "hospital_missing": ("医院缺失", Q(category=Category.MISSING_THERE, run__source="hospital")),
               "amount": ("金额不符", Q(category=Category.AMOUNT)),
               "info": ("信息不符", Q(category=Category.INFO))}

    def lookups(self, request, model_admin):
        return [(k, label) for k, (label, _q) in self.CHOICES.items()]

    def queryset(self, request, queryset):
        chosen = self.CHOICES.get(self.value())
        return queryset.filter(chosen[1]) if chosen else queryset


class ResolveForm(forms.Form):
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                           help_text="认可时必填：说明差异的原因（如月末缴费、次月入库）；备注记录跟进情况")


EXPORT_HEADERS = ["对账来源", "统筹区", "基金（医疗机构）", "对账月份", "文件行号", "票据号/结算单号", "证件号码", "姓名",
                  "年度", "缴费/结算日期", "对方金额", "本系统金额", "对账结果", "差异说明", "处理状态", "处理说明"]


@admin.register(ReconciliationDifference)
class ReconciliationDifferenceAdmin(ReadOnlyAdminMixin, MaskedIdentityAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    region_field = "run__region"
    masked_fields = {"document_number": "document_number"}
    change_list_template = "admin/finance/reconciliationdifference/change_list.html"
    change_form_template = "admin/finance/reconciliationdifference/change_form.html"
    list_filter = [StateFilter, ResultFilter, "run__source", RunMonthFilter, ("run__region", admin.RelatedOnlyFieldListFilter),
                   CurrentRunFilter]
    list_select_related = ["run__region", "run__scheme", "run__hospital"]
    search_fields = ["=reference", "=document_number", "name"]
    search_help_text = "按票据号/结算单号、完整证件号码（精确）或姓名查找"
    list_display = ["reference", "month", "fund", "document_number", "name", "their_amount", "ours", "result", "detail",
                    "state"]
    fields = ["source", "region", "fund", "month", "row", "reference", "document_number", "name", "year", "occurred_on",
              "their_amount", "ours", "result", "detail", "state", "resolution_note", "resolved_by", "resolved_at",
              "record_link", "correction"]
    readonly_fields = fields
    actions = ["recheck_action", "accept_action"]

    def get_queryset(self, request):
        return selectors.differences_visible_to(None, super().get_queryset(request))

    # ------------------------------------------------------------------ columns

    @admin.display(description="对账来源", ordering="run__source")
    def source(self, obj):
        return obj.run.get_source_display()

    @admin.display(description="统筹区")
    def region(self, obj):
        return obj.run.region.name

    @admin.display(description="基金（医疗机构）")
    def fund(self, obj):
        return obj.run.fund_name

    @admin.display(description="对账月份", ordering="run__month")
    def month(self, obj):
        return services.month_words(obj.run.month)

    @admin.display(description="对方金额（元）", ordering="amount")
    def their_amount(self, obj):
        return _money(obj.amount)

    @admin.display(description="本系统金额（元）", ordering="our_amount")
    def ours(self, obj):
        return _money(obj.our_amount)

    @admin.display(description="对账结果", ordering="category")
    def result(self, obj):
        return selectors.category_label(obj.category, obj.run.source)

    @admin.display(description="本系统记录")
    def record_link(self, obj):
        if obj.payment_id:
            url = reverse("admin:enrollment_payment_change", args=[obj.payment_id])
            return format_html('<a href="{}">缴费记录 {}</a>', url, obj.reference)
        if obj.claim_id:
            url = reverse("admin:claims_claim_change", args=[obj.claim_id])
            return format_html('<a href="{}">理赔结算 {}</a>', url, obj.reference)
        return "无"

    @admin.display(description="更正")
    def correction(self, obj):
        """Where the difference is corrected through the normal pages; then 复核."""
        if obj.state != State.OPEN:
            return "无需更正"
        if obj.run.source == TaxReconciliation.Source.TAX:
            if obj.category == Category.MISSING_HERE:
                person = Person.objects.filter(document_number=obj.document_number).first()
                enrollment = person and Enrollment.objects.filter(
                    person=person, plan_year__scheme_id=obj.run.scheme_id, plan_year__year=obj.year).first()
                if enrollment is not None:
                    url = reverse("admin:enrollment_enrollment_record_payment", args=[enrollment.pk])
                    return format_html('<a class="button" href="{}">登记缴费</a>（票据号/流水号填 {}），完成后点“复核”',
                                       url, obj.reference)
                url = reverse("admin:enrollment_enrollment_changelist")
                return format_html('该参保人尚无本险种 {} 年度的参保登记：<a href="{}">参保登记</a>，登记并缴费后点“复核”',
                                   obj.year or "", url)
            return "核实缴费记录（如需退费或更正按相应流程办理）后点“复核”；差异原因明确时“认可”"
        if obj.category == Category.MISSING_HERE:
            url = reverse("admin:claims_claim_changelist")
            return format_html('<a href="{}">理赔结算</a>：录入或导入该结算单并结算后点“复核”', url)
        return "核实理赔结算（重新结算、退回或作废按相应流程办理）后点“复核”；差异原因明确时“认可”"

    # ------------------------------------------------------------------ actions

    def has_resolve_permission(self, request):
        return request.user.has_perm(RESOLVE)  # what the services check

    @admin.action(description="复核所选差异", permissions=["resolve"])
    def recheck_action(self, request, queryset):
        closed = still = 0
        for line in queryset.filter(state=State.OPEN):
            services.difference_recheck(line=line, acting_user=request.user)
            line.refresh_from_db(fields=["state"])
            closed, still = (closed + 1, still) if line.state != State.OPEN else (closed, still + 1)
        self.message_user(request, f"复核完成：{closed} 条差异已更正，{still} 条仍待处理", messages.SUCCESS)

    @admin.action(description="认可所选差异（须填写说明）", permissions=["resolve"])
    def accept_action(self, request, queryset):
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, failed = 0, []
            for line in queryset:
                try:
                    services.difference_accept(line=line, note=form.cleaned_data["note"], acting_user=request.user)
                    done += 1
                except ValidationError as exc:
                    failed.append(f"{line.reference}：{'；'.join(exc.messages)}")
            if done:
                self.message_user(request, f"已认可 {done} 条差异", messages.SUCCESS)
            for text in failed:
                self.message_user(request, f"未认可 — {text}", messages.ERROR)
            return None
        return TemplateResponse(request, "admin/finance/reconciliationdifference/accept.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "title": "认可对账差异", "form": form,
            "queryset": queryset, "action": request.POST.get("action"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        })

    # ------------------------------------------------------------------ pages

    def get_urls(self):
        urls = [
            path("export/", self.admin_site.admin_view(self.export_view), name="finance_reconciliationdifference_export"),
            path("<path:object_id>/resolve/", self.admin_site.admin_view(self.resolve_view),
                 name="finance_reconciliationdifference_resolve"),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None:
            extra_context.update(
                notes=obj.notes.select_related("created_by"),
                may_resolve=request.user.has_perm(RESOLVE), is_open=obj.state == State.OPEN,
                resolve_form=ResolveForm(),
                resolve_url=reverse("admin:finance_reconciliationdifference_resolve", args=[obj.pk]))
        return super().change_view(request, object_id, form_url, extra_context)

    def resolve_view(self, request, object_id):
        """认可 / 复核 / 备注 posted from a difference's page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        line = self.get_object(request, unquote(object_id))
        if line is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not request.user.has_perm(RESOLVE):
            raise PermissionDenied
        form = ResolveForm(request.POST)
        form.is_valid()
        note = form.cleaned_data.get("note", "")
        try:
            if "_accept" in request.POST:
                services.difference_accept(line=line, note=note, acting_user=request.user)
                self.message_user(request, "已认可该差异", messages.SUCCESS)
            elif "_recheck" in request.POST:
                text = services.difference_recheck(line=line, acting_user=request.user)
                self.message_user(request, text, messages.SUCCESS if text.startswith("复核相符") else messages.WARNING)
            else:
                services.difference_note(line=line, text=note, acting_user=request.user)
                self.message_user(request, "已添加备注", messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(request, "；".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:finance_reconciliationdifference_change", args=[line.pk]))

    def export_view(self, request):
        """导出差异: the changelist's rows (filters and search applied) as .xlsx, 证件号码
        masked as on the screen."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        qs = changelist.get_queryset(request).select_related("run__region", "run__scheme", "run__hospital")
        rows = ([line.run.get_source_display(), line.run.region.name, line.run.fund_name,
                 services.month_words(line.run.month), line.row, line.reference,
                 mask_for(request, "document_number", line.document_number), line.name, line.year,
                 line.occurred_on, line.amount, line.our_amount, selectors.category_label(line.category, line.run.source),
                 line.detail, line.get_state_display(), line.resolution_note] for line in qs.iterator(chunk_size=2000))
        buffer = BytesIO()
        count = write_table(buffer, EXPORT_HEADERS, rows, fmt="xlsx", title="对账差异")
        name = export_file_name("对账差异", scope_name(request.user))
        audit_record(action=Action.EXPORT, request=request, obj=self.model, details={"rows": count, "file": name})
        return attach(HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE), name)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["export_url"] = reverse("admin:finance_reconciliationdifference_export") + (
            "?" + request.GET.urlencode() if request.GET else "")
        return super().changelist_view(request, extra_context)


# --------------------------------------------------------------------------- monthly status


@admin.register(ReconciliationStatus)
class ReconciliationStatusAdmin(ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    """月度对账状态: a page, not a list of rows of one table (derived from the runs)."""

    region_field = "region"

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = date.today()
        try:
            year = int(request.GET.get("year") or today.year)
        except ValueError:
            year = today.year
        rows = selectors.monthly_status(request.user, year=year)
        for row in rows:
            row.month_text = services.month_words(row.month)
            row.run_url = (reverse("admin:finance_reconciliationdifference_changelist") + f"?run__id__exact={row.run.pk}"
                           if row.run is not None else "")
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": f"{year}年月度对账状态",
            "rows": rows, "year": year, "years": list(range(today.year + 1, today.year - 5, -1)),
            "counts": {s: sum(1 for r in rows if r.status == s)
                       for s in (selectors.Status.NOT_DONE, selectors.Status.DIFFERENT, selectors.Status.BALANCED)},
            "tax_url": reverse("admin:finance_taxreconciliation_changelist"),
            "hospital_url": reverse("admin:finance_hospitalreconciliation_changelist"),
        }
        return TemplateResponse(request, "admin/finance/reconciliationstatus/status.html", context)

