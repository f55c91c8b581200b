"""退费 admin (issue 16 §2; docs/money.md §退费).

- 申请退费 (the add page, also opened from a 缴费记录 with that payment chosen): the
  payment, amount, reason and payee (defaults: the person's bank fields); the refusals of
  ``selectors.refund_refusals`` next to their fields; saved by ``services.refund_request``.
- 表格导入/导出 (退费申请, ``sheet_kinds.refunds``): all-or-nothing, row- and
  column-named errors (``enrollment.import_refund``); exports masked and scoped.
- The list: region-scoped like 缴费记录, the payee's account masked as the user's
  masking rule says; actions 复核通过 / 驳回（填写原因） for users holding
  ``enrollment.approve_refund``.
- A refund's page is read-only (written only by the services); while 待复核 it carries the
  buttons 复核通过 (a confirmation page stating what is booked and whether the coverage
  ends) and 驳回 (reason required).
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin

from enrollment import selectors, services
from enrollment.admin.decisions import DecisionPageMixin, ReasonForm
from enrollment.admin.search import PersonSearchMixin
from enrollment.models import Payment, Refund
from enrollment.services.refunds import APPROVE_PERMISSION
from listing.filters import RegionListFilter
from listing.paging import EstimatedCountPaginator
from policies.access import RegionScopedAdminMixin
from policies.admin import HistoryAdmin
from policies.admin_inlines import adopt_saved
from policies.display import money_column, money_text
from policies.masking import MaskedIdentityAdminMixin, masked_id, shown_name
from policies.widgets import IsoDateInput
from sheets.admin import SheetAdminMixin

REQUEST_FIELDS = ["payment", "amount", "reason", "reason_note", "terminate_on", "payee_name",
                  "payee_account", "payee_bank"]
PAYEE_FIELDS = ("payee_name", "payee_account", "payee_bank")


class RefundRequestForm(forms.ModelForm):
    """申请退费: the payee left empty is the person's bank fields; every refusal of the
    request shown next to its field before anything is written."""

    class Meta:
        model = Refund
        fields = REQUEST_FIELDS
        widgets = {"terminate_on": IsoDateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PAYEE_FIELDS:
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = "留空 = 参保人登记的银行信息"
        if "amount" in self.fields:
            self.fields["amount"].help_text = "只退个人缴费部分（资助金额不退），不超过该笔缴费的可退金额"

    def clean(self):
        data = super().clean()
        payment = data.get("payment")
        if payment is None:
            return data
        defaults = selectors.payee_defaults(payment.enrollment.person)
        for name in PAYEE_FIELDS:
            if not (data.get(name) or "").strip():
                data[name] = defaults[name]
        refusals = selectors.refund_refusals(
            payment=payment, amount=data.get("amount"), reason=data.get("reason") or "",
            reason_note=data.get("reason_note") or "", terminate_on=data.get("terminate_on"),
            **{name: data.get(name) or "" for name in PAYEE_FIELDS})
        for field, message in refusals.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return data

    def _post_clean(self):  # the service validates and saves the row, not the ModelForm
        pass


class RejectForm(ReasonForm):
    reason = forms.CharField(label="驳回原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


DECISIONS = {"approve": "复核通过", "reject": "驳回"}


@admin.register(Refund)
class RefundAdmin(PersonSearchMixin, DecisionPageMixin, SheetAdminMixin, ExportMixin,
                  MaskedIdentityAdminMixin, RegionScopedAdminMixin, HistoryAdmin):
    person_path = "payment__enrollment__person__"
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a large list (listing.paging)
    show_full_result_count = False
    sheet_kind = "refunds"
    region_field = "payment__scheme__region"
    masked_fields = {"payee_account": "bank_account"}
    change_form_template = "admin/enrollment/refund/change_form.html"
    form = RefundRequestForm
    autocomplete_fields = ["payment"]
    list_filter = ["status", "reason", ("payment__scheme__region", RegionListFilter),
                   "payment__scheme__kind", "payment__enrollment__plan_year__year"]
    list_select_related = ["payment__enrollment__person"]
    search_fields = ["=payment__receipt_no", "=payment__enrollment__person__document_number",
                     "^payment__enrollment__person__name"]
    search_help_text = "按票据/流水号、参保人完整证件号码（精确）或姓名（从第一个字起）查找"
    date_hierarchy = "recorded_at"
    actions = ["approve_action", "reject_action"]
    fieldsets = [
        ("退费申请", {"fields": ["payment", "person_name", "scheme_name", "paid_summary", "amount",
                             "reason", "reason_note", "terminate_on"]}),
        ("收款人", {"fields": ["payee_name", "payee_account", "payee_bank"]}),
        ("复核与支付", {"fields": ["status", "recorded_by", "recorded_at", "approved_by",
                              "approved_at", "ends_coverage", "rejected_by", "rejected_at",
                              "reject_reason", "paid_reference", "paid_on", "failure_reason"]}),
    ]

    def get_list_display(self, request):
        def document(obj):
            return masked_id(request, obj.payment.enrollment.person.document_number)

        document.short_description = "证件号码"
        names = ["number", "person_name", document, "receipt_no", money_column("amount", "退费金额（元）"),
                 "reason", "status",
                 "payee_name", "payee_account", "recorded_at"]
        return self._replace_masked(request, names) if self._masking_needed(request) else names

    # ------------------------------------------------------------------ columns

    @admin.display(description="退费单号", ordering="pk")
    def number(self, obj):
        return str(obj)

    @admin.display(description="参保人", ordering="payment__enrollment__person__name")
    def person_name(self, obj):
        return shown_name(obj.payment.enrollment.person.name) if obj and obj.pk else "-"

    @admin.display(description="票据/流水号", ordering="payment__receipt_no")
    def receipt_no(self, obj):
        return obj.payment.receipt_no

    @admin.display(description="险种")
    def scheme_name(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        scheme = obj.payment.scheme
        return f"{scheme.region.name}{scheme.name} {obj.payment.enrollment.plan_year.year}年度"

    @admin.display(description="该笔缴费")
    def paid_summary(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        payment = obj.payment
        return (f"应缴 {money_text(payment.amount_due)} 元，资助 {money_text(payment.subsidy)} 元（不退），"
                f"个人缴费 {money_text(payment.self_paid)} 元，尚可退 {money_text(selectors.refundable(payment))} 元")

    # ------------------------------------------------------------------ add (申请退费) / read-only change

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [("申请退费", {"fields": REQUEST_FIELDS})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        names = [f for _t, options in self.fieldsets for f in options["fields"]]
        return super().get_readonly_fields(request, obj) + [
            n for n in names if n not in self._masked_now(request)]

    def get_changeform_initial_data(self, request):
        """Opened from a payment (``?payment=<id>``): its refundable amount and the
        person's bank fields."""
        initial = super().get_changeform_initial_data(request)
        payment = (Payment.objects.select_related("enrollment__person")
                   .filter(pk=initial.get("payment")).first() if str(initial.get("payment", "")).isdigit()
                   else None)
        if payment is not None:
            initial.setdefault("amount", selectors.refundable(payment))
            initial.update({k: v for k, v in selectors.payee_defaults(payment.enrollment.person).items()
                            if k not in initial})
        return initial

    def has_change_permission(self, request, obj=None):
        return False  # written only by the services: 复核通过 / 驳回 / the bank's answer

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied("退费只能通过复核、驳回或支付办理，不能直接修改")
        data = form.cleaned_data
        refund = services.refund_request(
            payment=data["payment"], amount=data["amount"], reason=data["reason"],
            reason_note=data.get("reason_note") or "", terminate_on=data.get("terminate_on"),
            acting_user=request.user, **{name: data.get(name) or "" for name in PAYEE_FIELDS})
        adopt_saved(obj, refund)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "payment":
            payment_admin = self.admin_site._registry.get(Payment)
            if payment_admin is not None:
                kwargs["queryset"] = payment_admin.get_queryset(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # ------------------------------------------------------------------ 复核通过 / 驳回 on the page

    decisions = DECISIONS
    decide_template = "admin/enrollment/refund/decide.html"
    approve_permission = APPROVE_PERMISSION
    missing_text = "退费不存在或不属于您负责的统筹区"
    no_permission_text = "您没有复核退费的权限"
    rows_unit = "笔退费"
    reason_form_class = RejectForm

    def awaits_decision(self, obj) -> bool:
        return obj.status == Refund.Status.PENDING

    def decided_text(self, obj) -> str:
        return f"{obj}当前为“{obj.get_status_display()}”，已复核"

    def row_name(self, obj) -> str:
        return f"{obj}（{shown_name(obj.payment.enrollment.person.name)}）"

    def done_text(self, obj, label) -> str:
        extra = "；参保登记已终止" if obj.ends_coverage else ""
        return f"已{label}{obj}（{money_text(obj.amount)} 元）{extra}"

    def decide(self, request, refund, decision, reason):
        if decision == "approve":
            return services.refund_approve(refund=refund, acting_user=request.user)
        return services.refund_reject(refund=refund, reason=reason, acting_user=request.user)

    def decide_context(self, request, obj, decision) -> dict:
        return {"title": f"{self.decisions[decision]}：{obj} {shown_name(obj.payment.enrollment.person.name)}",
                "effect": self._effect(obj) if decision == "approve" else ""}

    def _effect(self, refund) -> str:
        """What 复核通过 books and does to the coverage, in Chinese."""
        text = (f"复核通过后记账：{refund.payment.scheme.name}缴费收入冲减 {money_text(refund.amount)} 元，"
                f"应退缴费 {money_text(refund.amount)} 元，退费进入待支付。")
        enrollment = refund.payment.enrollment
        if selectors.ends_coverage(enrollment, refund):
            if refund.terminate_on:
                text += f"参保登记将自 {refund.terminate_on.isoformat()} 起终止（待遇享受期截至前一日）。"
            else:
                text += "该参保登记的个人缴费将全部退还且无资助：参保登记终止，不再享受待遇。"
        refusal = selectors.benefits_refusal(enrollment)
        if refusal:
            text += f"注意：{refusal}。"
        return text

    # ------------------------------------------------------------------ actions

    @admin.action(description="复核通过所选退费", permissions=["approve"])
    def approve_action(self, request, queryset):
        self._each(request, queryset.select_related("payment__enrollment__person"), "复核通过",
                   lambda refund: services.refund_approve(refund=refund, acting_user=request.user))

    @admin.action(description="驳回所选退费（填写原因）", permissions=["approve"])
    def reject_action(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(request, queryset.select_related("payment__enrollment__person"), "驳回",
                       lambda refund: services.refund_reject(refund=refund, reason=reason,
                                                             acting_user=request.user))
            return None
        return TemplateResponse(request, "admin/enrollment/refund/reject.html", {
            **self.admin_site.each_context(request), "title": "驳回退费", "form": form,
            "queryset": queryset.select_related("payment__enrollment__person"),
            "action": "reject_action", "opts": self.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME})


def refund_link(request, payment) -> str:
    """The 申请退费 button of a payment (list column and page), for a user who may record
    refunds, while something of its self-paid part is left to refund."""
    if payment is None or payment.pk is None or not request.user.has_perm("enrollment.add_refund"):
        return "-"
    if selectors.refundable(payment) <= 0:
        return "无可退金额"
    url = reverse("admin:enrollment_refund_add") + f"?payment={payment.pk}"
    return format_html('<a class="button refund-request" href="{}">申请退费</a>', url)
