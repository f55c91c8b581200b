"""Chinese admin of hospitals and claims (spec README §1: staff enter settlement sheets,
settle and approve claims; §4.8 explanations; leshan.md documents; liaocheng.md review
deadline; docs/claims.md).

- 医疗机构: a catalogue shared by every region (a claim may be treated elsewhere), with
  search (also the claim page's autocomplete); written only by the users of the
  hospital's region (national-scope users for those outside every region).
- 表格导入/导出 (医疗机构, 理赔结算单): ``sheets.admin.SheetAdminMixin`` — upload, full
  error report or preview, 确认导入 (all-or-nothing, ``claims.import_hospital`` /
  ``claims.import_claim``; claims are entered in status 录入), empty templates; exports
  scoped to the user's regions (hospitals: plus those outside every region) with ID
  numbers masked (docs/spreadsheets.md).
- 理赔结算: region-scoped (``RegionScopedAdminMixin``, ``region = 参保统筹区``); person and
  hospital autocomplete; the carried-in layers inline; ID numbers masked for users
  without ``policies.view_full_identity``. Buttons on the claim page: 试算 (engine result,
  nothing saved), 结算 / 重新结算, 审核通过, 退回, 作废, 冲正 (reason), 批准重新结算 (a
  claim flagged 待重新结算), 登记追回 (money to recover) — shown by permission and state; a
  claim is 已支付 only by a success line of a bank's returned file (基金财务 › 支付批次) —
  and 打印结算单. The result lines of every settlement version with their
  explanations, the person's YTD panel and the documents checklist are shown on the
  page; a settled claim is read-only. List actions 结算 / 审核通过 / 批准重新结算;
  filters "待重新结算" and "线下审核期限" (overdue claims).
Every write goes through ``claims.services``; refusals are shown in Chinese.
"""
from __future__ import annotations

import copy

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from import_export.admin import ExportMixin

from enrollment.models import Person
from enrollment.selectors import persons_visible_to
from insurance_rules.vocab import REASON_NAMES
from listing.filters import RegionListFilter
from listing.paging import EstimatedCountPaginator
from policies.access import RegionScopedAdminMixin, RegionScopedWritesAdminMixin, scope_queryset
from policies.admin import HistoryAdmin
from policies.admin_inlines import adopt_saved
from policies.display import money_column, money_text
from policies.list_filters import PlanYearListFilter
from policies.masking import masked_birth_date, masked_column, masked_id, masked_name
from policies.models import Scheme
from policies.widgets import IsoDateInput
from sheets.admin import SheetAdminMixin

from . import batch, postings, selectors, services, ytd
from .models import Claim, ClaimDocument, GivenLayer, Hospital

# --------------------------------------------------------------------------- hospitals


@admin.register(Hospital)
class HospitalAdmin(SheetAdminMixin, ExportMixin, RegionScopedWritesAdminMixin, HistoryAdmin):
    """Every region reads the whole catalogue (a claim may be treated anywhere); a user
    adds, changes and deletes only the hospitals of their regions, and those outside
    every region only with national scope (``RegionScopedWritesAdminMixin``)."""

    sheet_kind = "hospitals"
    region_field = "region"
    history_revert = True  # a plain catalogue row: an old version may be saved back
    list_display = ["code", "name", "region", "province_name", "level", "grade", "admin_level",
                    "tcm", "children", "public", "cdrg", "designated"]
    list_filter = ["level", "grade", "admin_level", ("region", admin.RelatedOnlyFieldListFilter),
                   "tcm", "children", "public", "cdrg", "designated"]
    list_select_related = ["region"]
    search_fields = ["code", "name"]
    search_help_text = "按机构编码或名称查找"
    fieldsets = [
        (None, {"fields": ["code", "name", "region", "province"]}),
        ("属性", {"fields": ["level", "grade", "admin_level", "tcm", "children",
                                       "public", "cdrg", "designated", "note"]}),
    ]

    @admin.display(description="所在省份")
    def province_name(self, obj):
        return obj.province_name

    def get_export_queryset(self, request):
        """The export: the user's regions and the hospitals outside every region."""
        return scope_queryset(super().get_export_queryset(request), request.user, "region",
                              include_shared=True)


# --------------------------------------------------------------------------- claim form


def person_label(request, person) -> str:
    """The person as the claim page names them (field and header alike): name and document
    number masked for the viewing role (policies/masking.py), not ``Person.__str__``'s
    always-masked number."""
    return f"{masked_name(request, person.name)}（{masked_id(request, person.document_number)}）"


def _as_text(value) -> str:
    """A masked value for a page: a date (shown in full) as YYYY-MM-DD."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def _fold_errors(exc: ValidationError, fields) -> dict:
    """A service ValidationError keyed by the form's fields (others → non-field)."""
    out: dict = {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            key = name if name in fields else NON_FIELD_ERRORS
            out.setdefault(key, []).extend(errors)
    else:
        out[NON_FIELD_ERRORS] = exc.error_list
    return out


class ClaimForm(forms.ModelForm):
    """The settlement sheet; the service checks run in ``_post_clean`` (nothing saved)."""

    class Meta:
        model = Claim
        fields = list(services.CLAIM_FIELDS)
        widgets = {"service_date": IsoDateInput(), "discharge_date": IsoDateInput(),
                   "accepted_on": IsoDateInput(),
                   "note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("compliant", "region", "accepted_on"):
            if name in self.fields:
                self.fields[name].required = False
        if "compliant" in self.fields and self.instance.pk is None:
            self.fields["compliant"].initial = None  # blank = computed, not the model's 0
        if "region" in self.fields:
            self.fields["region"].help_text = "留空 = 按参保人该年度的参保登记确定"
        if "accepted_on" in self.fields:
            self.fields["accepted_on"].help_text = "留空 = 今天"
        self.compliant_blank = False

    def clean(self):
        data = super().clean()
        if data.get("compliant") is None:
            self.compliant_blank = True
            data["compliant"] = ((data.get("total") or 0) - (data.get("out_of_catalog") or 0)
                                 - (data.get("class_b_copay") or 0))
        if not data.get("accepted_on"):
            data["accepted_on"] = timezone.localdate()
        if not data.get("region") and data.get("person") and data.get("service_date"):
            try:
                data["region"] = selectors.person_region(data["person"], data["service_date"].year)
            except ValidationError as exc:
                for name, errors in _fold_errors(exc, self.fields).items():
                    self.add_error(None if name == NON_FIELD_ERRORS else name, errors)
        return data

    def _post_clean(self):
        """After the model checks, the service checks; their messages name the field, so
        they replace the database constraints' non-field messages (same rules)."""
        super()._post_clean()
        field_errors = [f for f in self.errors if f != NON_FIELD_ERRORS]
        if field_errors or not self.instance.person_id or not self.instance.is_editable:
            return  # a settled claim's sheet is read-only: nothing of it is saved
        probe = copy.copy(self.instance)
        if self.compliant_blank:
            probe.compliant = None
        try:
            services.claim_check(claim=probe)
        except ValidationError as exc:
            self._errors.pop(NON_FIELD_ERRORS, None)
            for name, errors in _fold_errors(exc, self.fields).items():
                self.add_error(None if name == NON_FIELD_ERRORS else name, errors)

    def service_kwargs(self) -> dict:
        data = {f: self.cleaned_data.get(f) for f in services.CLAIM_FIELDS if f in self.cleaned_data}
        if self.compliant_blank:
            data["compliant"] = None
        return data


class GivenLayerFormSet(BaseInlineFormSet):
    """Checks the carried-in layers against the claim (held schemes, amounts)."""

    def rows(self) -> list[dict]:
        out = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("scheme_kind"):
                continue
            out.append({k: data.get(k) for k in ("scheme_kind", "paid", "deductible", "over_cap")})
        return out

    def clean(self):
        super().clean()
        claim = self.instance
        if (not claim.person_id or claim.service_date is None or claim.total is None
                or not claim.is_editable):
            return
        probe = copy.copy(claim)
        try:
            services.claim_check(claim=probe, given=self.rows())
        except ValidationError as exc:
            errors = getattr(exc, "error_dict", {}).get("given_layers")
            if errors:
                raise ValidationError(errors) from exc


class GivenLayerInline(admin.TabularInline):
    model = GivenLayer
    formset = GivenLayerFormSet
    fields = ["scheme_kind", "paid", "deductible", "over_cap"]
    extra = 0
    verbose_name_plural = "医院结算系统带入的结算结果（本系统无规则的险种层，如乐山职工基本医保）"

    def _editable(self, obj):
        return obj is None or obj.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)


class ClaimDocumentInline(admin.TabularInline):
    model = ClaimDocument
    fields = ["scheme_kind", "name", "copies", "received", "received_at", "received_by"]
    readonly_fields = ["scheme_kind", "name", "copies", "received_at", "received_by"]
    extra = 0
    verbose_name_plural = "理赔所需资料（收齐后方可审核通过）"

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return (obj is not None and obj.status in (Claim.Status.SETTLED, Claim.Status.RETURNED)
                and request.user.has_perm("claims.change_claim"))


# --------------------------------------------------------------------------- filters


class ReviewDeadlineFilter(admin.SimpleListFilter):
    """线下审核期限: overdue (deadline passed, not decided) or due within 3 days."""

    title = "线下审核期限"
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", "已超期未审核"), ("pending", "线下审核中（未超期）")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(pk__in=selectors.overdue_claims(today=today).values("pk"))
        if self.value() == "pending":
            return queryset.filter(offline_review=True, review_due_date__gte=today,
                                   status__in=Claim.PENDING_REVIEW)
        return queryset


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


# --------------------------------------------------------------------------- claim admin

ACTIONS = {
    # name: (label, service, permission, statuses in which the button shows, needs reason)
    "settle": ("结算", services.claim_settle, "claims.settle_claim", Claim.EDITABLE, False),
    "resettle": ("重新结算", services.claim_resettle, "claims.settle_claim",
                 (Claim.Status.SETTLED,), True),
    "approve": ("审核通过", services.claim_approve, "claims.approve_claim",
                (Claim.Status.SETTLED,), False),
    "return": ("退回", services.claim_return, "claims.reject_claim",
               (Claim.Status.SETTLED, Claim.Status.APPROVED), True),
    "void": ("作废", services.claim_void, "claims.reject_claim",
             (Claim.Status.DRAFT, Claim.Status.SETTLED, Claim.Status.RETURNED,
              Claim.Status.REVERSED), True),
    # docs/money.md §冲正与重新结算
    "reverse": ("冲正", services.claim_reverse, "claims.reverse_claim", Claim.REVERSIBLE, True),
    "approve_resettle": ("批准重新结算", services.claim_resettle, "claims.approve_claim",
                         (Claim.Status.SETTLED, *Claim.REVERSIBLE), False),
    "recover": ("登记追回", services.claim_recover, "claims.pay_claim",
                (Claim.Status.APPROVED, Claim.Status.REVERSED, Claim.Status.VOID), False),
}

# Buttons shown only when the claim is in this state as well (besides status and permission).
SHOWN_WHEN = {
    "resettle": lambda claim: not claim.needs_resettle,  # 批准重新结算 instead
    "approve_resettle": lambda claim: claim.needs_resettle,
    "recover": lambda claim: bool(postings.recoverable([claim.pk])),
}


# The reviewer's decision buttons on the claim page (issue: 批准 / 驳回 where the evidence is
# read): 审核通过 asks for a confirmation first; 退回 asks for the reason.
BUTTON_LABELS = {"approve": "批准（审核通过）", "return": "驳回（退回）"}
CONFIRM_ACTIONS = {"approve", "approve_resettle", "recover"}
REASON_NOTICES = {
    "reverse": ("冲正将冲销本理赔的待遇核定，本理赔不再计入参保人本年度累计（年度限额、起付线随之恢复）；"
                "已支付的金额记为应收回，可在更正后重新结算时抵扣或登记追回。"
                "参保人同年度在本理赔之后结算的理赔将标记为“待重新结算”。"),
}


def _messages_of(exc) -> str:
    return "；".join(exc.messages) if isinstance(exc, ValidationError) else (str(exc) or "无权限")


SETTLED_STATUSES = (Claim.Status.SETTLED, Claim.Status.APPROVED, Claim.Status.PAID)
"""A claim in these statuses prints as a 结算单; any other prints under a watermark."""
UNSETTLED_MARKS = {Claim.Status.VOID: "已作废", Claim.Status.REVERSED: "已冲正"}
"""Watermark of a printed claim that is not settled (default 未结算)."""


SEARCH_PERSONS_READ = 1_000
"""The claims search reads up to this many matching persons' ids first (see
``ClaimAdmin.get_search_results``); a name prefix matching more stays a subquery."""


@admin.register(Claim)
class ClaimAdmin(SheetAdminMixin, ExportMixin, RegionScopedAdminMixin, HistoryAdmin):
    sheet_kind = "claims"
    region_field = "region"
    form = ClaimForm
    change_form_template = "admin/claims/claim/change_form.html"
    # related filters list only what occurs in the user's claims (their regions' hospitals
    # and diseases), never another region's catalogue
    # (their regions' hospitals and diseases, read from those tables: no DISTINCT scan of
    # the claims, listing.filters.RegionListFilter)
    list_filter = ["status", "needs_resettle", ReviewDeadlineFilter, "claim_type",
                   ("region", RegionListFilter), PlanYearListFilter, "offline_review",
                   ("hospital", RegionListFilter), ("disease", RegionListFilter)]
    list_select_related = ["person", "hospital", "region"]
    search_fields = ["=settlement_no", "=person__document_number", "^person__name", "hospital__name"]
    search_help_text = "按完整结算单号或参保人完整证件号码（精确）、姓名（开头）、医疗机构名称（包含）查找"
    show_full_result_count = False  # no second COUNT(*) of the user's claims
    autocomplete_fields = ["person", "hospital"]
    # no date_hierarchy: it lists the years by DISTINCT over every claim; 年度 filters
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a large list
    actions = ["settle_action", "resettle_job_action", "approve_action", "approve_resettle_action"]

    class Media:  # live checks of the amounts while the clerk types (static/claims/)
        js = ["claims/claim_form.js"]
        css = {"all": ["claims/claim_form.css"]}

    SHEET = ["person", "region", "claim_type", "service_date", "discharge_date", "hospital",
             "settlement_no", "location", "filed"]
    AMOUNTS = ["total", "out_of_catalog", "class_b_copay", "compliant", "tcm_compliant",
               "special_drug", "drug_class_a", "drug_class_b", "class_b_items",
               "out_of_catalog_controlled"]
    MEDICAL = ["disease", "major_disease", "special_b", "delivery_mode", "drug_list", "drug_class"]
    REVIEW = ["accepted_on", "offline_review", "note"]
    STATUS = ["status_display", "status_reason", "resettle_display", "settlement_version",
              "fund_total", "personal", "ledger_display", "settled_at", "settled_by", "approved_at",
              "approved_by", "paid_at", "paid_by", "reversed_at", "reversed_by", "review_due_date"]

    # ------------------------------------------------------------------ list

    def get_inlines(self, request, obj):
        if obj is not None and obj.documents.exists():
            return [GivenLayerInline, ClaimDocumentInline]
        return [GivenLayerInline]

    def get_list_display(self, request):
        def document(obj):
            return masked_id(request, obj.person.document_number)

        document.short_description = "证件号码"
        return ["settlement_no", masked_column(request, "person__name", "name", "参保人"), document,
                "hospital", "claim_type", "service_date", money_column("total", "医疗总费用（元）"),
                money_column("fund_total", "基金支付合计（元）"), money_column("personal", "个人负担（元）"), "status",
                "needs_resettle", "review_due_date"]

    def get_export_queryset(self, request):
        """The changelist's rows (scoped, filters applied) with what the export reads."""
        return (super().get_export_queryset(request)
                .select_related("person", "region", "hospital", "disease").prefetch_related("given_layers"))

    def get_search_results(self, request, queryset, search_term):
        """结算单号 / full 证件号码 exact, 参保人 name by its beginning, 医疗机构 name
        anywhere in the (small) hospital catalogue. Each term becomes conditions on the
        claims table itself (the persons and hospitals resolved first), so PostgreSQL
        combines the indexes (settlement_no, person, hospital) instead of joining every
        claim to its person and scanning ``UPPER(name) LIKE '%…%'``. The matching persons
        are read first when they are few (``SEARCH_PERSONS_READ``: an ID number, a full
        name): ``person_id IN (1, 2, …)`` is a range of the claims' person index, where
        ``person_id IN (SELECT …)`` let the planner walk every claim in the list's order,
        testing each against the subquery (docs/benchmarks.md)."""
        terms = search_term.split()
        if not terms:
            return queryset, False
        for term in terms:
            hospitals = list(Hospital.objects.filter(name__icontains=term).values_list("pk", flat=True))
            people = Person.objects.filter(
                Q(document_number=term.upper()) | Q(name__startswith=term)).values("pk")
            found = list(people.order_by().values_list("pk", flat=True)[:SEARCH_PERSONS_READ + 1])
            if len(found) <= SEARCH_PERSONS_READ:
                people = found
            queryset = queryset.filter(Q(settlement_no=term) | Q(person__in=people)
                                       | Q(hospital__in=hospitals))
        return queryset, False

    # ------------------------------------------------------------------ page

    def get_fieldsets(self, request, obj=None):
        sets = [
            ("结算单", {"fields": self._sheet(request, obj)}),
            ("费用（元）", {"fields": self.AMOUNTS}),
            ("病种/分娩/特药", {"fields": self.MEDICAL, "classes": ["collapse"]}),
            ("受理与线下审核", {"fields": self.REVIEW}),
        ]
        if obj is not None:
            sets += [("结算状态", {"fields": self.STATUS}),
                     ("结算结果（各层支付与计算说明）", {"fields": ["result_lines"]}),
                     ("本年度累计", {"fields": ["ytd_panel"]})]
        return sets

    def get_readonly_fields(self, request, obj=None):
        computed = ["status_display", "resettle_display", "ledger_display", "result_lines",
                    "ytd_panel"]
        if obj is None:
            return []
        if not obj.is_editable:
            sheet = self._sheet(request, obj)
            return [*sheet, *self.AMOUNTS, *self.MEDICAL, *self.REVIEW, *self.STATUS, *computed]
        return [*self.STATUS, *computed]

    def _sheet(self, request, obj):
        """The 结算单 fields; a locked sheet shows the person as the header does (one
        callable per request: Django compares read-only callables by identity)."""
        if obj is None or obj.is_editable:
            return self.SHEET
        if "_claim_person" not in request.__dict__:
            def person(claim):
                url = reverse("admin:enrollment_person_change", args=[claim.person_id])
                return format_html('<a href="{}">{}</a>', url, person_label(request, claim.person))
            request._claim_person = admin.display(description="参保人")(person)
        return [request._claim_person if f == "person" else f for f in self.SHEET]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "hospital":  # the catalogue is shared by every region
            kwargs["queryset"] = Hospital.objects.all()
        if db_field.name == "person":
            kwargs["queryset"] = persons_visible_to(request.user, Person.objects.all())
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            # the same number as the page header: masked by the viewing role
            field.label_from_instance = lambda person: person_label(request, person)
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="状态")
    def status_display(self, obj):
        text = obj.get_status_display()
        if obj.status == Claim.Status.APPROVED:
            text += f"（待支付：{obj.status_reason}）" if obj.status_reason else "（待支付）"
        if obj.review_due_date and obj.status in Claim.PENDING_REVIEW \
                and obj.review_due_date < timezone.localdate():
            text += f"（线下审核已超期，期限 {obj.review_due_date}）"
        return text

    @admin.display(description="待重新结算")
    def resettle_display(self, obj):
        if not obj.needs_resettle:
            return "否"
        text = f"是：{obj.resettle_reason}" if obj.resettle_reason else "是"
        if obj.resettle_cause_id:
            url = reverse("admin:claims_claim_change", args=[obj.resettle_cause_id])
            return format_html('{}（<a href="{}">查看引起重新结算的理赔</a>）', text, url)
        return text

    @admin.display(description="应付/应收回（按基金账）")
    def ledger_display(self, obj):
        """The claim's 应付待遇 per fund from the ledger: owed (to pay) or a debit balance
        (paid and no longer owed: to recover), docs/money.md."""
        rows = postings.outstanding([obj.pk])
        if not rows:
            return "无"
        names = dict(Scheme.objects.filter(pk__in=[s for _c, s in rows]).values_list("pk", "name"))
        return "；".join(f"{names.get(scheme, '')}{'应付' if amount > 0 else '应收回'} {money_text(abs(amount))} 元"
                        for (_claim, scheme), amount in sorted(rows.items()))

    @admin.display(description="结算结果")
    def result_lines(self, obj):
        return mark_safe(render_to_string("claims/includes/result_lines.html", {
            "claim": obj, "versions": selectors.layer_versions(obj), "reasons": REASON_NAMES}))

    @admin.display(description="本年度累计")
    def ytd_panel(self, obj):
        panel = ytd.ytd_panel(obj.person, obj.region, obj.year, on=obj.service_date)
        return mark_safe(render_to_string("claims/includes/ytd_panel.html", {"panel": panel}))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = {**(extra_context or {}), "claim_buttons": self._buttons(request, obj)}
        if obj is not None:
            extra["person_line"] = (f"{masked_name(request, obj.person.name)}　{obj.person.get_document_type_display()} "
                                    f"{masked_id(request, obj.person.document_number)}　"
                                    f"{obj.person.get_category_display()}")  # as person_label
        return super().change_view(request, object_id, form_url, extra)

    def _buttons(self, request, obj):
        if obj is None:
            return []
        out = [{"name": "trial", "label": "试算", "url": self._url("trial", obj), "post": False},
               {"name": "print", "url": self._url("print", obj), "post": False,
                "label": "打印结算单" if obj.status in SETTLED_STATUSES else "打印（未结算）"}]
        for name, (label, _service, perm, statuses, needs_reason) in ACTIONS.items():
            if obj.status in statuses and request.user.has_perm(perm) \
                    and SHOWN_WHEN.get(name, bool)(obj):
                out.append({"name": name, "label": BUTTON_LABELS.get(name, label),
                            "url": self._url(name, obj),
                            "post": not needs_reason and name not in CONFIRM_ACTIONS})
        return out

    def _url(self, name, obj):
        return reverse("admin:claims_claim_act", args=[obj.pk, name]) if name in ACTIONS else \
            reverse(f"admin:claims_claim_{name}", args=[obj.pk])

    # ------------------------------------------------------------------ saving

    def save_model(self, request, obj, form, change):
        """Nothing here: the claim and its carried-in layers are written together by the
        service in ``save_related`` (the given layers are part of the validation)."""

    def save_related(self, request, form, formsets, change):
        given, documents = None, None
        for formset in formsets:
            # written by the services below; the admin log lists the claim's own fields
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is GivenLayer:
                given = formset.rows()
            elif formset.model is ClaimDocument:
                documents = {f.instance.pk: f.cleaned_data.get("received", False)
                             for f in formset.forms if f.instance.pk and f.has_changed()}
        obj = form.instance
        if not change:
            data = form.service_kwargs()
            saved = services.claim_create(
                acting_user=request.user, person=data.pop("person"),
                claim_type=data.pop("claim_type"), service_date=data.pop("service_date"),
                settlement_no=data.pop("settlement_no"), total=data.pop("total"),
                given=given, **data)
            adopt_saved(obj, saved)
            return
        claim = Claim.objects.get(pk=obj.pk)
        if claim.is_editable:
            services.claim_update(claim=claim, acting_user=request.user, given=given,
                                  **form.service_kwargs())
        if documents:
            services.claim_documents_receive(claim=claim, acting_user=request.user,
                                             received=documents)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and (obj is None or obj.status in Claim.EDITABLE)

    # ------------------------------------------------------------------ actions

    def _bulk(self, request, queryset, name, ordered=False):
        label, service, perm, _statuses, _reason = ACTIONS[name]
        done, failed = 0, []
        for claim in (queryset if ordered else queryset.order_by("service_date", "id")):
            try:
                service(claim=claim, acting_user=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                failed.append(f"{claim}：{_messages_of(exc)}")
        if done:
            self.message_user(request, f"{label}：已处理 {done} 条理赔", messages.SUCCESS)
        for text in failed:
            self.message_user(request, f"{label}未完成 — {text}", messages.ERROR)

    @admin.action(description="结算所选理赔", permissions=["settle"])
    def settle_action(self, request, queryset):
        """A few claims are settled at once, one by one; more than
        ``CLAIMS_SETTLE_INLINE_MAX`` go to the job ``settle_claims`` (Celery workers)."""
        selected = queryset.count()
        if selected <= settings.CLAIMS_SETTLE_INLINE_MAX:
            self._bulk(request, queryset, "settle")
            return
        self._start_job(request, queryset, batch.claims_settle_start, "结算",
                        f"所选 {selected} 条理赔中已录入或退回的由后台结算，未能结算的理赔及原因在任务日志中列出。")

    @admin.action(description="后台重新结算所选已结算理赔（参数调整后）", permissions=["settle"])
    def resettle_job_action(self, request, queryset):
        """After a parameter change: the selected 已结算 claims are settled again by the job
        ``resettle_claims`` (each keeps its earlier version; approved and paid ones are not
        touched)."""
        self._start_job(request, queryset, batch.claims_resettle_start, "重新结算",
                        "所选理赔中已结算（未审核）的将按当前参数重新结算，原结算结果保留为历史版本。")

    def _start_job(self, request, queryset, start, label: str, what: str) -> None:
        """Start the job ``start(acting_user=…, claim_ids=…)`` on the selection and say so,
        with a link to its page."""
        try:
            job = start(acting_user=request.user, claim_ids=queryset.values_list("pk", flat=True))
        except PermissionDenied as exc:
            self.message_user(request, f"{label}未完成 — {_messages_of(exc)}", messages.ERROR)
            return
        self.message_user(request, format_html(
            "已提交后台任务“{}”：{}<a href=\"{}\">查看进度</a>", job.title, what,
            reverse("admin:jobs_myjob_change", args=[job.pk])), messages.SUCCESS)

    @admin.action(description="审核通过所选理赔", permissions=["approve"])
    def approve_action(self, request, queryset):
        self._bulk(request, queryset, "approve")

    @admin.action(description="批准重新结算所选待重新结算理赔", permissions=["approve"])
    def approve_resettle_action(self, request, queryset):
        """批准重新结算 of the selected claims flagged 待重新结算, in the order they were
        settled (each reads those settled before it); the others are named and skipped."""
        skipped = [str(c) for c in queryset.filter(needs_resettle=False)]
        flagged = queryset.filter(needs_resettle=True).order_by("settled_at", "id")
        if skipped:
            self.message_user(request, "未标记待重新结算，未处理：" + "、".join(skipped[:20])
                              + ("等" if len(skipped) > 20 else ""), messages.WARNING)
        self._bulk(request, flagged, "approve_resettle", ordered=True)

    def has_settle_permission(self, request):
        return request.user.has_perm("claims.settle_claim")

    def has_approve_permission(self, request):
        return request.user.has_perm("claims.approve_claim")

    # ------------------------------------------------------------------ views

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/trial/", wrap(self.trial_view), name="claims_claim_trial"),
            path("<path:object_id>/print/", wrap(self.print_view), name="claims_claim_print"),
            path("<path:object_id>/act/<str:action>/", wrap(self.act_view), name="claims_claim_act"),
            *super().get_urls(),
        ]

    def _claim_or_redirect(self, request, object_id):
        claim = self.get_object(request, unquote(object_id))
        if claim is None or not self.has_view_permission(request, claim):
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return claim, None

    def trial_view(self, request, object_id):
        """试算: the engine's result for the claim as stored, with the person's current
        history; nothing is written."""
        claim, redirect = self._claim_or_redirect(request, object_id)
        if redirect:
            return redirect
        result, error = None, None
        try:
            result = services.claim_trial(claim=claim, acting_user=request.user)
        except ValidationError as exc:
            error = _messages_of(exc)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "claim": claim,
                   "title": f"试算：{claim}", "result": result, "error": error,
                   "reasons": REASON_NAMES, "has_view_permission": True,
                   "personal": (claim.total - result.fund_total) if result else None}
        return TemplateResponse(request, "admin/claims/claim/trial.html", context)

    def print_view(self, request, object_id):
        """打印结算单 (HTML with print CSS)."""
        claim, redirect = self._claim_or_redirect(request, object_id)
        if redirect:
            return redirect
        # Only a settled claim (已结算/已审核/已支付) prints as a 结算单; a draft, returned or
        # voided claim prints its facts under a 未结算/作废 watermark without fund figures.
        final = claim.status in SETTLED_STATUSES
        context = {"claim": claim, "person_document": masked_id(request, claim.person.document_number),
                   "person_name": masked_name(request, claim.person.name),
                   "person_birth_date": _as_text(masked_birth_date(request, claim.person.birth_date)),
                   "final": final, "mark": UNSETTLED_MARKS.get(claim.status, "未结算"),
                   "lines": list(claim.current_layers()), "reasons": REASON_NAMES,
                   "given": list(claim.given_layers.all()), "documents": list(claim.documents.all()),
                   "printed_at": timezone.localtime(), "user": request.user,
                   "location": claim.get_location_display()}
        return TemplateResponse(request, "claims/settlement_sheet.html", context)

    def act_view(self, request, object_id, action):
        if action not in ACTIONS:
            return HttpResponseRedirect(reverse("admin:claims_claim_changelist"))
        claim, redirect = self._claim_or_redirect(request, object_id)
        if redirect:
            return redirect
        label, service, _perm, _statuses, needs_reason = ACTIONS[action]
        change_url = reverse("admin:claims_claim_change", args=[claim.pk])
        form = None
        if needs_reason:
            form = ReasonForm(request.POST if request.method == "POST" else None)
            if request.method != "POST" or not form.is_valid():
                return TemplateResponse(request, "admin/claims/claim/reason.html", {
                    **self.admin_site.each_context(request), "opts": self.opts, "claim": claim,
                    "title": f"{label}：{claim}", "form": form, "label": label,
                    "person_name": masked_name(request, claim.person.name),
                    "notice": REASON_NOTICES.get(action, ""),
                    "has_view_permission": True, "change_url": change_url})
        elif action in CONFIRM_ACTIONS and "confirm" not in request.POST:
            return TemplateResponse(request, "admin/claims/claim/confirm.html", {
                **self.admin_site.each_context(request), "opts": self.opts, "claim": claim,
                "title": f"{label}：{claim}", "label": label, "has_view_permission": True,
                "person_name": masked_name(request, claim.person.name),
                "change_url": change_url, "lines": list(claim.current_layers()),
                "documents": list(claim.documents.all()), "action": action,
                "ledger": self.ledger_display(claim)})
        elif request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        kwargs = {"claim": claim, "acting_user": request.user}
        if form is not None:
            kwargs["reason"] = form.cleaned_data["reason"]
        try:
            claim = service(**kwargs)
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"{label}未完成：{_messages_of(exc)}", messages.ERROR)
        else:
            text = f"{label}完成：{claim}，状态“{claim.get_status_display()}”"
            if claim.fund_total is not None and action in ("settle", "resettle", "approve_resettle"):
                text += f"，基金支付 {money_text(claim.fund_total)} 元，个人负担 {money_text(claim.personal)} 元"
            if action in ("reverse", "approve_resettle", "recover"):
                text += f"；应付/应收回：{self.ledger_display(claim)}"
                flagged = Claim.objects.filter(resettle_cause=claim, needs_resettle=True).count()
                if action == "reverse" and flagged:
                    text += f"；另有 {flagged} 条本人同年度理赔已标记为待重新结算"
            self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(change_url)
