"""支付批次 admin (docs/money.md §支付批次与银行回盘): the list and page of the batches of
the user's regions, the lines read-only with the accounts masked as the user's
``MaskingRule`` says; 生成支付批次 (a form per fund: 审核员), 导出银行文件 xlsx/csv
(complete accounts, audited), 导入银行回盘 (upload) and 作废 a draft (基金财务). Every write
goes through ``finance.services.batches``; refusals are shown in Chinese."""
from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ledger.models import SourceKind
from listing.paging import EstimatedCountPaginator
from policies.access import RegionScopedAdminMixin, scope_queryset
from policies.display import money_text
from policies.masking import masked_bank_account
from policies.models import Scheme

from ..models import PaymentBatch, PaymentLine
from ..selectors.batches import batch_totals
from ..services import batches as services

SOURCE_PAGES = {SourceKind.CLAIM: "admin:claims_claim_change",
                SourceKind.REFUND: "admin:enrollment_refund_change"}
"""The admin page of each kind of document a line pays (a refund's is added with refunds)."""


def _messages_of(exc) -> str:
    return "；".join(exc.messages) if isinstance(exc, ValidationError) else (str(exc) or "无权限")


class BatchCreateForm(forms.Form):
    source_kind = forms.ChoiceField(label="支付内容", choices=[(SourceKind.CLAIM, "理赔待遇"),
                                                               (SourceKind.REFUND, "退费")],
                                    initial=SourceKind.CLAIM, required=False)
    scheme = forms.ModelChoiceField(label="基金（险种）", queryset=Scheme.objects.none(),
                                    help_text="该基金已审核、尚有应付待遇的理赔（或已复核待支付的退费），"
                                              "不在待回盘批次中的全部纳入本批次")
    bank = forms.CharField(label="代发银行", max_length=60, help_text="接收本批次代发文件的银行，如“中国农业银行垫江支行”")
    note = forms.CharField(label="备注", max_length=200, required=False)


class ReturnUploadForm(forms.Form):
    file = forms.FileField(label="银行回盘文件", help_text="Excel（.xlsx）或 CSV：序号、账号、金额、处理结果（成功/失败）、"
                                                        "失败原因、银行流水号；户名、开户行、用途等列可保留")


class CancelForm(forms.Form):
    reason = forms.CharField(label="作废原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


class PaymentLineInline(admin.TabularInline):
    model = PaymentLine
    extra = 0
    can_delete = False
    verbose_name = verbose_name_plural = "支付明细"
    fields = ["seq", "source_link", "payee_name", "account_masked", "bank_name", "amount_text", "purpose",
              "status", "failure_reason", "bank_reference", "answered_at"]
    readonly_fields = fields

    def get_formset(self, request, obj=None, **kwargs):
        self._request = request
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request):
        self._request = request
        return super().get_queryset(request).order_by("seq")

    @admin.display(description="单据")
    def source_link(self, line):
        page = SOURCE_PAGES.get(line.source_kind)
        label = f"{line.get_source_kind_display()} {line.source_label}"
        if page is None:
            return label
        return format_html('<a href="{}">{}</a>', reverse(page, args=[line.source_id]), label)

    @admin.display(description="金额（元）")
    def amount_text(self, line):
        return money_text(line.amount)

    @admin.display(description="账号")
    def account_masked(self, line):
        return masked_bank_account(self._request, line.account_number)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PaymentBatch)
class PaymentBatchAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    region_field = "region"
    change_form_template = "admin/finance/paymentbatch/change_form.html"
    list_display = ["number", "scheme", "bank", "status", "line_count", "total_amount", "created_by",
                    "created_at", "exported_at", "returned_at"]
    list_filter = ["status", ("scheme", admin.RelatedOnlyFieldListFilter)]  # few batches
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    search_fields = ["=number", "bank"]
    search_help_text = "按批次号（精确）或代发银行查找"
    list_select_related = ["scheme__region", "created_by"]
    inlines = [PaymentLineInline]
    fieldsets = [
        ("批次", {"fields": ["number", "scheme", "bank", "status", "note", "totals"]}),
        ("经办", {"fields": ["created_by", "created_at", "exported_by", "exported_at", "returned_by",
                           "returned_at", "return_file"]}),
    ]
    readonly_fields = ["number", "scheme", "bank", "status", "note", "totals", "created_by", "created_at",
                       "exported_by", "exported_at", "returned_by", "returned_at", "return_file"]

    def get_queryset(self, request):
        live = ~Q(lines__status=PaymentLine.Status.CANCELLED)
        return super().get_queryset(request).annotate(
            _count=Count("lines", filter=live), _total=Sum("lines__amount", filter=live))

    @admin.display(description="笔数", ordering="_count")
    def line_count(self, obj):
        return obj._count

    @admin.display(description="金额（元）", ordering="_total")
    def total_amount(self, obj):
        return money_text(obj._total or 0)

    @admin.display(description="合计")
    def totals(self, obj):
        t = batch_totals(obj)
        parts = [f"共 {t['total']['count']} 笔 {money_text(t['total']['amount'])} 元"]
        for status in (PaymentLine.Status.PENDING, PaymentLine.Status.SUCCESS, PaymentLine.Status.FAILED,
                       PaymentLine.Status.CANCELLED):
            if t[status]["count"]:
                parts.append(f"{PaymentLine.Status(status).label} {t[status]['count']} 笔 "
                             f"{money_text(t[status]['amount'])} 元")
        return "；".join(parts)

    # ------------------------------------------------------------------ permissions

    def has_change_permission(self, request, obj=None):
        return False  # read-only: every change is an action below

    def has_delete_permission(self, request, obj=None):
        return False

    def _tools(self, request, obj) -> list[dict]:
        user, tools = request.user, []
        if obj.status != PaymentBatch.Status.CANCELLED and user.has_perm("finance.export_paymentbatch"):
            tools += [{"label": "导出银行文件（Excel）", "url": self._url("export", obj, "xlsx")},
                      {"label": "导出银行文件（CSV）", "url": self._url("export", obj, "csv")}]
        if obj.status not in (PaymentBatch.Status.DRAFT, PaymentBatch.Status.CANCELLED) \
                and user.has_perm("finance.import_bank_return"):
            tools.append({"label": "导入银行回盘", "url": self._url("return", obj)})
        if obj.status == PaymentBatch.Status.DRAFT and user.has_perm("finance.change_paymentbatch"):
            tools.append({"label": "作废批次", "url": self._url("cancel", obj)})
        return tools

    def _url(self, name, obj, *args):
        return reverse(f"admin:finance_paymentbatch_{name}", args=[obj.pk, *args])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            extra["batch_tools"] = self._tools(request, obj)
        return super().change_view(request, object_id, form_url, extra)

    # ------------------------------------------------------------------ views

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/export/<str:fmt>/", wrap(self.export_view), name="finance_paymentbatch_export"),
            path("<int:object_id>/return/", wrap(self.return_view), name="finance_paymentbatch_return"),
            path("<int:object_id>/cancel/", wrap(self.cancel_view), name="finance_paymentbatch_cancel"),
            *super().get_urls(),
        ]

    def _page(self, request, template, obj, title, **context):
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "opts": self.opts, "batch": obj, "title": title,
            "has_view_permission": True,
            "change_url": reverse("admin:finance_paymentbatch_change", args=[obj.pk]) if obj else "",
            **context})

    def _batch(self, request, object_id):
        obj = self.get_object(request, str(object_id))
        if obj is None:
            raise PermissionDenied("该支付批次不存在或不属于您负责的统筹区")
        return obj

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BatchCreateForm(request.POST or None)
        form.fields["scheme"].queryset = scope_queryset(
            Scheme.objects.select_related("region").order_by("region__code", "settlement_order"), request.user, "region")
        if request.method == "POST" and form.is_valid():
            try:
                created = services.batch_create(scheme=form.cleaned_data["scheme"], bank=form.cleaned_data["bank"],
                                                note=form.cleaned_data["note"], acting_user=request.user,
                                                source_kind=form.cleaned_data["source_kind"] or SourceKind.CLAIM)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"未生成支付批次：{_messages_of(exc)}", messages.ERROR)
            else:
                level = messages.WARNING if created.left_out else messages.SUCCESS
                self.message_user(request, created.message, level)
                return HttpResponseRedirect(reverse("admin:finance_paymentbatch_change",
                                                    args=[created.batch.pk]))
        return self._page(request, "admin/finance/paymentbatch/create.html", None, "生成支付批次", form=form)

    def export_view(self, request, object_id, fmt):
        batch = self._batch(request, object_id)
        try:
            name, content = services.batch_export(batch=batch, fmt=fmt, acting_user=request.user, request=request)
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"未导出：{_messages_of(exc)}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:finance_paymentbatch_change", args=[batch.pk]))
        kind = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
                else "text/csv; charset=utf-8")
        response = HttpResponse(content, content_type=kind)
        from urllib.parse import quote

        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response

    def return_view(self, request, object_id):
        batch = self._batch(request, object_id)
        if not request.user.has_perm("finance.import_bank_return"):
            raise PermissionDenied
        form = ReturnUploadForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            suffix = Path(upload.name).suffix.lower()
            with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
                handle.flush()
                try:
                    result = services.batch_return_import(batch=batch, path=handle.name, name=upload.name,
                                                          acting_user=request.user)
                except PermissionDenied as exc:
                    errors = [_messages_of(exc)]
                except ValidationError as exc:
                    errors = exc.messages
                else:
                    level = messages.SUCCESS if result.changed else messages.INFO
                    self.message_user(request, result.message, level)
                    return HttpResponseRedirect(reverse("admin:finance_paymentbatch_change", args=[batch.pk]))
        return self._page(request, "admin/finance/paymentbatch/return.html", batch, f"导入银行回盘：{batch}",
                          form=form, errors=errors)

    def cancel_view(self, request, object_id):
        batch = self._batch(request, object_id)
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.batch_cancel(batch=batch, acting_user=request.user, reason=form.cleaned_data["reason"])
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"未作废：{_messages_of(exc)}", messages.ERROR)
            else:
                self.message_user(request, f"支付批次“{batch}”已作废，其中的理赔可纳入新的批次", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:finance_paymentbatch_change", args=[batch.pk]))
        return self._page(request, "admin/finance/paymentbatch/cancel.html", batch, f"作废支付批次：{batch}",
                          form=form)
