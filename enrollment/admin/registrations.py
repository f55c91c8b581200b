"""Admin of chronic-disease / 两病 registrations (spec README §1: staff approve
chronic-disease registrations; docs/registrations.md).

- 门诊慢特病登记: every registration of the user's regions (``RegionScopedAdminMixin``
  on ``scheme__region``); a new registration is recorded through
  ``registration_submit``; evidence (fields and the blood-pressure inline) is editable
  only while the registration is pending; workflow fields are read-only and change only
  through the actions, which call the services;
- 待审核登记: the reviewer's queue — pending registrations (申报/审核中) of the user's
  regions, oldest application first;
- actions: 开始审核, 批准 (runs the admission criteria; refused with the failed
  criterion), 驳回 and 终止 (both ask for a reason on an intermediate form); they need
  ``enrollment.approve_registration``;
- the registration's own page (where the evidence is read) has the buttons 批准 (a
  confirmation page with the admission criteria, then ``registration_approve``) and
  驳回 (a required reason, then ``registration_reject``) while it is pending;
- the admission criteria are shown read-only on the registration page, each with ✓/✗;
- ``RegistrationInline`` lists a person's registrations on the person page.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from enrollment.admin.decisions import DecisionPageMixin
from enrollment.admin.search import PersonSearchMixin
from enrollment.models import (
    BloodPressureReading,
    PendingRegistration,
    Person,
    Registration,
    RegistrationTransition,
)
from enrollment.selectors import registrations as sel
from enrollment.services import registrations as svc
from insurance_rules.errors import CaseError
from listing.filters import RegionListFilter
from listing.paging import EstimatedCountPaginator
from policies.access import RegionScopedAdminMixin
from policies.admin import HistoryAdmin
from policies.admin_inlines import ReadOnlyTabularInline, adopt_saved
from policies.masking import shown_name
from policies.widgets import IsoDateInput

S = Registration.Status
EVIDENCE_FIELDS = ["hba1c", "fasting_glucose", "random_glucose", "ogtt_2h", "symptoms",
                   "type1_confirmed", "needs_medication", "management_record", "documents"]
APPLICATION_FIELDS = ["person", "scheme", "disease", "application_date", "institution"]
WORKFLOW_FIELDS = ["status", "reviewer", "decision_date", "valid_from", "valid_to", "reason",
                   "created_by", "created_at"]


def _editable(obj) -> bool:
    return obj is None or obj.is_pending


class BloodPressureReadingInline(admin.TabularInline):
    model = BloodPressureReading
    fields = ["date", "systolic", "diastolic"]
    extra = 0
    verbose_name_plural = "诊室血压读数（非同日测量，同一日期多次只计 1 日）"

    def has_add_permission(self, request, obj=None):
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)


class TransitionInline(ReadOnlyTabularInline):
    model = RegistrationTransition
    fields = ["at", "from_status", "to_status", "by", "reason"]
    readonly_fields = fields
    verbose_name_plural = "状态变更记录"


class RegistrationInline(ReadOnlyTabularInline):
    """A person's registrations, read-only, for the person page (new registrations are
    entered on the registration page so that they go through ``registration_submit``)."""

    model = Registration
    fk_name = "person"
    fields = ["disease", "scheme", "application_date", "status", "valid_from", "valid_to"]
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = "门诊慢特病/两病登记"


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)
    end_date = forms.DateField(label="终止日期（最后有效日，空 = 今天）", required=False,
                               widget=IsoDateInput())


DECISIONS = {"approve": "批准", "reject": "驳回"}


class RegistrationAdmin(PersonSearchMixin, DecisionPageMixin, RegionScopedAdminMixin, HistoryAdmin):
    person_path = "person__"
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a large list (listing.paging)
    show_full_result_count = False
    region_field = "scheme__region"
    change_form_template = "admin/enrollment/registration/change_form.html"
    list_display = ["id", "person", "disease", "scheme", "application_date", "status",
                    "valid_from", "valid_to"]
    # the disease filter offers the diseases of the user's registrations (a DISTINCT over
    # the registrations, far fewer than the persons); the regions come from Region
    list_filter = ["status", "disease__kind", ("disease", admin.RelatedOnlyFieldListFilter),
                   ("scheme__region", RegionListFilter)]
    search_fields = ["^person__name", "person__document_number", "disease__code", "disease__name"]
    date_hierarchy = "application_date"
    raw_id_fields = ["person"]
    list_select_related = ["person", "disease", "scheme__region"]
    inlines = [BloodPressureReadingInline, TransitionInline]
    actions = ["start_review_action", "approve_action", "reject_action", "terminate_action"]
    fieldsets = [
        ("申请", {"fields": APPLICATION_FIELDS}),
        ("证明材料", {"fields": EVIDENCE_FIELDS}),
        ("准入标准核对", {"fields": ["criteria_results"]}),
        ("审核", {"fields": WORKFLOW_FIELDS}),
    ]

    # ------------------------------------------------------------------ form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # the persons this user may see, as the person admin scopes them (户籍/常住地/参保)
        person_admin = self.admin_site._registry.get(Person)
        if db_field.name == "person" and person_admin is not None:
            kwargs["queryset"] = person_admin.get_queryset(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = ["criteria_results", *WORKFLOW_FIELDS]
        if obj is not None:
            fields += ["person", "scheme", "disease"]
            if not obj.is_pending:
                fields += ["application_date", "institution", *EVIDENCE_FIELDS]
        return fields

    def get_inlines(self, request, obj):
        return [BloodPressureReadingInline] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            if not obj.is_pending:
                raise PermissionDenied("已作出审核决定的登记不能修改")
            super().save_model(request, obj, form, change)
            return
        if not self.in_region_scope(request, obj, write=True):
            raise PermissionDenied("该记录不属于您负责的统筹区")
        data = form.cleaned_data
        evidence = {f: data[f] for f in EVIDENCE_FIELDS if f != "documents"}
        reg = svc.registration_submit(
            person=data["person"], scheme=data["scheme"], disease=data["disease"],
            application_date=data["application_date"], institution=data.get("institution", ""),
            documents=data.get("documents", ""), acting_user=request.user, **evidence)
        # the blood-pressure inline is saved next, against this very object
        adopt_saved(obj, reg)
        obj.status, obj.created_by_id, obj.created_at = reg.status, reg.created_by_id, reg.created_at

    @admin.display(description="准入标准")
    def criteria_results(self, obj):
        if obj is None or obj.pk is None:
            return "保存后显示"
        if obj.assessment and not obj.is_pending:
            rows, title = obj.assessment, "审核决定时的核对结果"
        else:
            try:
                rows = sel.assess_registration(obj).as_list()
            except CaseError as exc:
                return format_html('<span style="color:#ba2121">无法核对：{}</span>', exc.message)
            title = "按当前证明材料核对（批准时将再次核对）"
        items = format_html_join(
            "", '<li style="color:{}">{} {}{}</li>',
            [("#2e7d32" if r["passed"] else "#ba2121", r["text"], "✓" if r["passed"] else "✗",
              "" if r.get("decisive", True) else "（任选其一）") for r in rows])
        admitted = all(r["passed"] for r in rows if r.get("decisive", True))
        verdict = "符合准入条件" if admitted else "不符合准入条件"
        return format_html("<p>{}：<strong>{}</strong></p><ul>{}</ul>", title, verdict, items)

    # ------------------------------------------------------------------ 批准 / 驳回 on the page

    decisions = DECISIONS
    decide_template = "admin/enrollment/registration_decide.html"
    approve_permission = svc.APPROVE_PERMISSION
    missing_text = "登记不存在或不属于您负责的统筹区"
    no_permission_text = "您没有审核门诊慢特病登记的权限"
    rows_unit = "条登记"

    def awaits_decision(self, obj) -> bool:
        return obj.is_pending

    def decided_text(self, obj) -> str:
        return f"登记状态为“{obj.get_status_display()}”，已作出审核决定"

    def row_name(self, obj) -> str:
        return f"登记 {obj.pk}（{shown_name(obj.person.name)} {obj.disease}）"

    def page_name(self, obj) -> str:
        return "登记"

    def done_text(self, obj, label) -> str:
        return f"已{label}登记：{shown_name(obj.person.name)} {obj.disease}"

    def decide_context(self, request, obj, decision) -> dict:
        return {"title": f"{self.decisions[decision]}登记：{shown_name(obj.person.name)} {obj.disease}",
                "person_name": shown_name(obj.person.name), "criteria": self.criteria_results(obj)}

    def _warn_conflicts(self, request, reg) -> None:
        for other in sel.conflicting_registrations(reg):
            self.message_user(request, f"注意：{shown_name(reg.person.name)} 仍持有 {other.disease} 的有效登记"
                                       f"（登记 {other.pk}），已纳入 {reg.disease} 者不得享受该待遇，"
                                       "请终止该登记", messages.WARNING)

    def decide(self, request, reg, decision, reason):
        reg = svc.registration_decide(registration=reg, decision=decision, reason=reason,
                                      acting_user=request.user)
        if decision == "approve":
            self._warn_conflicts(request, reg)
        return reg

    # ------------------------------------------------------------------ actions

    @admin.action(description="开始审核所选登记", permissions=["approve"])
    def start_review_action(self, request, queryset):
        self._each(request, queryset, "开始审核", lambda reg: svc.registration_start_review(
            registration=reg, acting_user=request.user))

    @admin.action(description="批准所选登记（核对准入标准）", permissions=["approve"])
    def approve_action(self, request, queryset):
        def approve(reg):
            reg = svc.registration_decide(registration=reg, decision="approve", acting_user=request.user)
            self._warn_conflicts(request, reg)
        self._each(request, queryset, "批准", approve)

    def _reason_step(self, request, queryset, action, title, apply):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            apply(queryset, form.cleaned_data)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title, "form": form, "queryset": queryset, "action": action,
            "opts": self.model._meta, "show_end_date": action == "terminate_action",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/enrollment/registration_reason.html", context)

    @admin.action(description="驳回所选登记（填写原因）", permissions=["approve"])
    def reject_action(self, request, queryset):
        def apply(qs, data):
            self._each(request, qs, "驳回", lambda reg: svc.registration_decide(
                registration=reg, decision="reject", reason=data["reason"], acting_user=request.user))
        return self._reason_step(request, queryset, "reject_action", "驳回登记", apply)

    @admin.action(description="终止所选登记（填写原因）", permissions=["approve"])
    def terminate_action(self, request, queryset):
        def apply(qs, data):
            self._each(request, qs, "终止", lambda reg: svc.registration_terminate(
                registration=reg, acting_user=request.user, reason=data["reason"],
                end_date=data.get("end_date")))
        return self._reason_step(request, queryset, "terminate_action", "终止登记", apply)


class PendingRegistrationAdmin(RegistrationAdmin):
    """待审核登记: pending registrations of the user's regions, oldest first."""

    list_display = ["id", "application_date", "person", "disease", "scheme", "status",
                    "institution"]
    list_filter = ["status", "disease__kind", ("disease", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = None
    ordering = ["application_date", "id"]
    actions = ["start_review_action", "approve_action", "reject_action"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status__in=Registration.PENDING)

    def has_add_permission(self, request):
        return False

    # A proxy has no history of its own (simple-history tracks ``Registration``): the
    # queue's 历史 link and versions are the registration's pages.
    def history_view(self, request, object_id, extra_context=None):
        return HttpResponseRedirect(reverse("admin:enrollment_registration_history", args=[object_id]))

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        return HttpResponseRedirect(reverse("admin:enrollment_registration_simple_history",
                                            args=[object_id, version_id]))


admin.site.register(Registration, RegistrationAdmin)
admin.site.register(PendingRegistration, PendingRegistrationAdmin)
