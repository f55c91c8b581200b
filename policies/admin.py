"""Chinese admin of the policy parameters (spec README §5) with region scoping,
history and the plan-year status rules (docs/access.md).

- Region, Identity, Scheme, ChronicDisease, Holiday: code/catalogue tables;
- PlanYear: one page with every rule table of ``RULE_MODELS`` as a compact inline;
- every rule model also has its own page (list, filters by region/scheme/year,
  search) so that each row's history (who, when, old → new) can be opened;
- StaffProfile: inline on the user page (superuser job) and its own list.

Plan-year workbooks (docs/policy-sheets.md): the plan-year page has the object tools
“导出参数表” (one .xlsx, a sheet per rule table) and, on a draft, “导入参数表” (upload →
preview with counts per table or every error → 确认导入; ``plan_year_import_sheets``).
Each rule table's list can export its rows through its resource (``policies.resources``).

Rollover (``admin_rollover.py``): the object tools “复制为新年度草稿” and, on a draft,
“生效” (with a confirmation page), for the 政策管理员 role only. Plan years rolled over
by ``load_demo`` for the current year are marked 演示数据 (``is_demo``).

Status rules: ``closed`` plan years and their rows are read-only for everyone;
``active`` ones are editable by users holding the change permissions (the
政策管理员 role) and show a warning banner; ``status`` itself changes only through
the actions, which call ``policies.plan_status.plan_year_set_status``.
"""
from __future__ import annotations

import copy
import itertools
import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.widgets import AutocompleteMixin, RelatedFieldWidgetWrapper
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.forms.models import BaseInlineFormSet, ModelChoiceIterator, construct_instance
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import AdminSetPasswordMixin, HideDevicePermissionsMixin
from accounts.services import password_mark_must_change
from audit.admin_hooks import AuditedChangesMixin
from audit.models import Action
from audit.services import audit_record
from jobs.files import local_path, store_upload
from sheets.admin import ExcelExportMixin
from sheets.excel import attach

from .access import (
    NationalCatalogueAdminMixin,
    RegionScopedAdminMixin,
    RegionScopedFormfieldMixin,
    user_can_access,
    user_sees_all_regions,
)
from .admin_rollover import PlanYearRolloverMixin
from .history_display import ChineseHistoryContextHelper
from .list_filters import SchemeListFilter
from .masking import MaskedLookupsMixin
from .models import (
    RULE_MODELS,
    ChronicDisease,
    DutySeparation,
    Holiday,
    Identity,
    MaskingRule,
    PlanRow,
    PlanYear,
    Region,
    Scheme,
    StaffProfile,
)
from .plan_status import plan_year_set_status
from .resources import RULE_RESOURCES, workbook_file_name, write_plan_year_workbook
from .services import plan_year_import_sheets
from .staff import account_state, staff_account_audit, staff_user_ensure
from .tabular_rows import keyed_url, plain_key, url_template
from .user_forms import StaffUserCreationForm

admin.site.site_header = "医疗保障经办管理系统"
admin.site.site_title = "医疗保障经办管理系统"
# No public site besides the admin: no "查看站点" link (``/`` redirects to the admin index).
admin.site.site_url = None
admin.site.index_title = "经办管理"

ACTIVE_NOTICE = ("本年度方案已生效：修改将记入历史记录（修改人、时间、原值与新值）。"
                 "已结算的理赔不会因此被静默改变——需按新参数重算的理赔，须在理赔页面显式执行“重新结算”，"
                 "原结算结果保留在历史中。")
CLOSED_NOTICE = "本年度方案已关闭，全部参数只读，任何人都不能修改。"

COMPACT_WIDGETS = {
    models.CharField: {"widget": forms.TextInput(attrs={"size": 12})},
    models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})},
}


def plan_year_of(obj):
    """The plan year a PlanYear or a rule row belongs to (``None`` for a new row)."""
    if obj is None:
        return None
    if isinstance(obj, PlanYear):
        return obj
    return obj.plan_year if getattr(obj, "plan_year_id", None) else None


def is_closed(obj) -> bool:
    plan_year = plan_year_of(obj)
    return plan_year is not None and plan_year.status == PlanYear.Status.CLOSED


def plan_year_notice(obj):
    plan_year = plan_year_of(obj)
    if plan_year is None:
        return None
    if plan_year.status == PlanYear.Status.ACTIVE:
        return {"level": "warning", "text": ACTIVE_NOTICE}
    if plan_year.status == PlanYear.Status.CLOSED:
        return {"level": "info", "text": CLOSED_NOTICE}
    return None


class HistoryAdmin(AuditedChangesMixin, MaskedLookupsMixin, SimpleHistoryAdmin):
    """SimpleHistoryAdmin with a 修改原因 box on the change form, read-only history versions
    unless the user may revert, and no filter or partial search on masked values
    (``MaskedLookupsMixin``).

    An unchanged save changes nothing (docs/architecture.md §What a user reads): when neither the
    form (修改原因 aside) nor any inline row changed, the object is not saved, no history
    row, admin log entry or audit entry is written, and the page says “…未作修改”. The
    admins whose ``save_model`` calls a service rely on the service writing nothing for
    values equal to the stored ones.

    修改原因: what the user types is recorded on the history rows this save wrote — the
    object's and those of the inline rows added, changed or deleted in the same save —
    never on an earlier row. A reason without a change records nothing.

    History versions (docs/access.md §历史版本): a version's page is a form that saves the
    old row back (simple-history's “恢复”). It is offered, and a POST accepted, only when
    the admin allows reverting (``history_revert``) and the user holds the change
    permission on the *current* object (region, status and role included; simple-history
    itself only checks the view permission and the old version). Otherwise the page shows
    every field read-only without a button, and a POST answers 403. ``history_revert`` is
    off by default: a revert saves the whole old row, read-only fields included (a
    status, a decision, a settled amount), bypassing the services that own those writes;
    only the admins of plain parameter tables switch it on.

    审计日志: every save, revert and deletion on a page of this app is audited as 参数修改
    (``audit_action`` says otherwise, e.g. 权限修改 for staff profiles); the other apps'
    pages are not (their rows keep their history, and their services audit the acts).
    """

    CHANGE_REASON = "change_reason"
    history_revert = False
    READ_ONLY_VERSION = "_history_read_only"

    def history_value_texts(self, request) -> dict:
        """``{field name: text(historical record, value)}`` for the fields that hold a code
        without choices (``ChineseHistoryContextHelper``); none by default."""
        return {}

    def get_historical_record_context_helper(self, request, historical_record):
        return ChineseHistoryContextHelper(self.model, historical_record, self.history_value_texts(request))

    def get_audit_action(self, request, obj):
        if self.audit_action is None and self.model._meta.app_label == "policies":
            return Action.PARAMETER_CHANGE
        return self.audit_action

    def _showing_version(self, request) -> bool:
        return getattr(request, self.READ_ONLY_VERSION, False)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if (obj is not None and "form" not in kwargs and not self._showing_version(request)
                and self.has_change_permission(request, obj)):
            # as ModelAdmin.get_form builds it (declared fields shown read-only left out),
            # with the reason box declared so that the fieldsets may name it
            readonly = self.get_readonly_fields(request, obj)
            attrs = dict.fromkeys(f for f in readonly if f in self.form.declared_fields)
            attrs[self.CHANGE_REASON] = forms.CharField(label="修改原因", required=False, max_length=100,
                                                        help_text="选填；记入修改历史")
            kwargs["form"] = type(self.form.__name__, (self.form,), attrs)
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self._showing_version(request) or not self.has_change_permission(
                request, obj) or any(self.CHANGE_REASON in fs[1].get("fields", ()) for fs in fieldsets):
            return fieldsets
        return [*fieldsets, ("修改原因", {"fields": [self.CHANGE_REASON]})]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        request.history_started = timezone.now()
        return super().changeform_view(request, object_id, form_url, extra_context)

    UNCHANGED = "_history_unchanged_message"
    INLINE_ROWS = "_history_inline_rows"

    def form_changed(self, form) -> bool:
        """Whether the user changed a field of the object (修改原因 is not one)."""
        return any(name != self.CHANGE_REASON for name in form.changed_data)

    OBJECT_UNCHANGED = "_history_object_unchanged"

    def object_unchanged(self, request, form) -> bool:
        """Whether this save leaves the object as stored: no field of the form changed
        and the object equals its stored row. The second test matters for simple-history's
        revert page, whose form starts from an earlier version: posting that version
        unchanged is a change of the stored row. Decided once per request, before the
        save (Django's change page asks after ``construct_change_message``, the revert
        page after ``save_model``)."""
        decided = getattr(request, self.OBJECT_UNCHANGED, None)
        if decided is None:
            obj = form.instance
            stored = type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk else None
            decided = (not self.form_changed(form) and stored is not None
                       and all(getattr(stored, f.attname) == getattr(obj, f.attname)
                               for f in obj._meta.concrete_fields if not getattr(f, "auto_now", False)))
            setattr(request, self.OBJECT_UNCHANGED, decided)
        return decided

    def save_model(self, request, obj, form, change):
        if change and self.object_unchanged(request, form):
            return  # nothing to write: no save, no history row
        super().save_model(request, obj, form, change)

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        # the inline rows this save wrote (their history rows get the 修改原因)
        rows = {}
        for formset in formsets or ():
            pks = rows.setdefault(formset.model, [])
            pks += [row.pk for row in formset.new_objects]
            pks += [row.pk for row, _fields in formset.changed_objects]
            # a deleted row's instance has lost its pk: the one the form posted
            pks += [pk for f in formset.deleted_forms
                    if (pk := f[formset.model._meta.pk.name].value()) not in (None, "")]
        setattr(request, self.INLINE_ROWS, rows)
        reason = str(form.fields[self.CHANGE_REASON].label) if self.CHANGE_REASON in form.fields else None
        for item in message:  # the reason box is no field of the object
            fields = item.get("changed", {}).get("fields")
            if fields is not None and "name" not in item["changed"]:
                fields[:] = [f for f in fields if f != reason]
        message = [item for item in message if item.get("changed", {}).get("fields", True)]
        edited = any(f.has_changed() for formset in formsets or () for f in formset.forms)
        if not add and not message and self.object_unchanged(request, form) and not edited:
            setattr(request, self.UNCHANGED, format_html("{}“{}”未作修改。", self.opts.verbose_name, form.instance))
        return message

    def log_change(self, request, obj, message):
        if getattr(request, self.UNCHANGED, None) is not None:
            return None  # an unchanged save: no admin log entry, no audit entry
        entry = super().log_change(request, obj, message)
        reason = request.POST.get(self.CHANGE_REASON, "").strip()[:100]
        started = getattr(request, "history_started", None)
        if reason and started is not None:
            obj.history.filter(history_date__gte=started).update(history_change_reason=reason)
            for model, pks in getattr(request, self.INLINE_ROWS, {}).items():
                history = getattr(model, "history", None)
                if history is not None and pks:
                    history.filter(id__in=pks, history_date__gte=started).update(history_change_reason=reason)
        return entry

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        unchanged = getattr(request, self.UNCHANGED, None)
        if unchanged is not None and level == messages.SUCCESS:
            message = unchanged  # instead of Django's “…已成功修改”
        super().message_user(request, message, level, *args, **kwargs)

    # -- history versions: read-only unless the user may revert ----------------------------

    def may_revert(self, request, object_id) -> bool:
        """Whether ``request.user`` may save a history version of ``object_id`` back
        (cached per request: the pages ask several times)."""
        cache = request.__dict__.setdefault("_history_may_revert", {})
        key = (id(self), str(object_id))
        if key not in cache:
            current = self.get_object(request, str(object_id)) if self.history_revert else None
            cache[key] = current is not None and self.has_change_permission(request, current)
        return cache[key]

    def revert_disabled(self, request, obj=None):
        return obj is None or not self.may_revert(request, obj.pk)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        allowed = self.may_revert(request, unquote(object_id))
        if request.method == "POST" and not allowed:
            raise PermissionDenied("历史版本只能查看，不能在此恢复")
        setattr(request, self.READ_ONLY_VERSION, not allowed)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        adminform = context.get("adminform")
        if adminform is not None and self._showing_version(request):
            # every field shown as text, as Django's change page shows it to a viewer
            fieldsets = adminform.fieldsets
            context["adminform"] = helpers.AdminForm(adminform.form, fieldsets, {},
                                                     flatten_fieldsets(fieldsets), model_admin=self)
            context["has_change_permission"] = False
        return super().render_history_view(request, template, context, **kwargs)


class SuperuserWritesMixin:
    """Region structure and who is bound to which regions and roles decide who sees
    whom: only a superuser adds, changes or deletes such rows (regions, users, roles,
    staff profiles), whatever permission another account was given."""

    def has_add_permission(self, request, *args):
        return user_sees_all_regions(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return user_sees_all_regions(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return user_sees_all_regions(request.user) and super().has_delete_permission(request, obj)


# --------------------------------------------------------------------------- code tables


@admin.register(Region)
class RegionAdmin(SuperuserWritesMixin, RegionScopedAdminMixin, HistoryAdmin):
    """Region structure is the superuser's alone (docs/access.md §2): a new region is
    outside every staff user's scope, and changing a region's parent or code widens or
    moves the scope of every user bound above it."""

    history_revert = True  # a plain table: an old version may be saved back
    region_field = "pk"
    list_display = ["code", "name", "province", "parent", "is_pooling"]
    list_select_related = ["parent"]
    list_filter = ["is_pooling", "province"]
    search_fields = ["code", "name"]
    ordering = ["code"]


@admin.register(Identity)
class IdentityAdmin(NationalCatalogueAdminMixin, HistoryAdmin):
    """特殊身份: one national catalogue every region reads; written with national scope."""

    history_revert = True  # a plain table: an old version may be saved back
    list_display = ["name", "department"]
    list_filter = ["department"]
    search_fields = ["code", "name"]


@admin.register(Scheme)
class SchemeAdmin(RegionScopedAdminMixin, HistoryAdmin):
    history_revert = True  # a plain table: an old version may be saved back
    region_field = "region"
    list_display = ["name", "region", "kind", "settlement_order", "formula", "has_tiers"]
    list_filter = [("region", admin.RelatedOnlyFieldListFilter), "kind"]
    list_select_related = ["region"]
    search_fields = ["name", "region__name", "region__code"]


@admin.register(ChronicDisease)
class ChronicDiseaseAdmin(RegionScopedAdminMixin, HistoryAdmin):
    history_revert = True  # a plain table: an old version may be saved back
    region_field = "region"
    list_display = ["code", "name", "region", "kind", "disease_class", "closed_from"]
    list_filter = [("region", admin.RelatedOnlyFieldListFilter), "kind", "disease_class"]
    list_select_related = ["region"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["excluded_by"]


@admin.register(Holiday)
class HolidayAdmin(RegionScopedAdminMixin, HistoryAdmin):
    history_revert = True  # a plain table: an old version may be saved back
    region_field = "region"
    shared_when_null = True  # 全国 rows: visible to all, changed by a superuser only
    list_display = ["date", "kind", "name", "region"]
    list_filter = ["kind", ("region", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    date_hierarchy = "date"


# --------------------------------------------------------------------------- rule tables

# Columns of each rule table's own list page; a rule model not listed here (added
# later) shows its first concrete fields.
RULE_LIST_FIELDS = {
    "PlanFigure": ["code", "value"],
    "EnrollmentWindow": ["name", "pay_from", "pay_to", "person_group", "coverage_rule",
                         "coverage_end"],
    "ContributionStandard": ["window", "tier", "amount", "plus_figure"],
    "SubsidyRule": ["identity", "tier", "amount", "full"],
    "AnnualLimit": ["pool", "tier", "identity", "amount"],
    "ApplicableClaimType": ["claim_type", "delivery_mode", "chronic_class", "special_b_only",
                            "rules_in_seed"],
    "HospitalFeeClass": ["level", "grade", "fee_class"],
    "BenefitRule": ["claim_type", "level", "fee_class", "location", "tier", "deductible", "ratio",
                    "limit_pool"],
    "LevelSubstitution": ["claim_type", "from_level", "to_level", "max_age"],
    "RatioAdjustment": ["code", "claim_type", "points", "max_age", "location", "deductible_level_shift",
                        "deductible_shift_location"],
    "CumulativeSegment": ["identity", "seq", "threshold", "ratio", "base"],
    "ChronicBenefit": ["disease", "monthly_limit", "ratio", "deductible", "shares_pool"],
    "TwoDiseaseBenefit": ["disease", "deductible", "ratio_class_a", "ratio_class_b", "annual_limit"],
    "AdmissionCriterion": ["disease", "code", "value"],
    "PreExistingCondition": ["group", "name"],
    "Responsibility": ["name", "claim_type", "basis", "deductible", "ratio_healthy",
                       "ratio_pre_existing", "sum_insured"],
    "ResponsibilityDrugRatio": ["responsibility", "drug_class", "ratio"],
    "ResponsibilityIdentityRatio": ["responsibility", "identity", "ratio_pre_existing"],
    "IncentiveRule": ["responsibility", "min_years", "ratio"],
    "OutOfPocketCap": ["min_participation_rate", "personal_cap", "claim_type", "location"],
    "AssistanceRule": ["identity", "kind", "threshold", "ratio", "annual_limit"],
    "DocumentRule": ["scope", "name", "condition", "threshold"],
}
SKIPPED_COLUMNS = {"id", "plan_year", "note"}


def rule_list_fields(model) -> list[str]:
    if model.__name__ in RULE_LIST_FIELDS:
        return list(RULE_LIST_FIELDS[model.__name__])
    return [f.name for f in model._meta.concrete_fields if f.name not in SKIPPED_COLUMNS][:6]


def rule_form_fields(model) -> list[str]:
    """Editable fields of a rule row: its own columns first, the 备注 last."""
    own = [f.name for f in model._meta.concrete_fields
           if f.editable and not f.auto_created and f.name not in SKIPPED_COLUMNS]
    return [*own, "note"]


def rule_parents(model):
    """Rule models ``model`` points to (a standard's window, a ratio's responsibility)."""
    return [f for f in model._meta.fields
            if f.many_to_one and f.related_model in RULE_MODELS and f.name != "plan_year"]


RULES_WITH_CHILDREN = {f.related_model for m in RULE_MODELS for f in rule_parents(m)}


class PlanRowForm(forms.ModelForm):
    """Refuses rows for a closed plan year, with a message naming it."""

    def clean_plan_year(self):
        plan_year = self.cleaned_data.get("plan_year")
        if plan_year is not None and plan_year.status == PlanYear.Status.CLOSED:
            raise ValidationError(f"年度方案“{plan_year}”已关闭，不能新增或修改其参数")
        return plan_year


class PlanRowAdmin(RegionScopedAdminMixin, ExcelExportMixin, ExportMixin, HistoryAdmin):
    """Own page of a rule table: list, filters, search, history, region scoping, and
    导出 of the listed rows through the table's resource (``policies.resources``; xlsx
    with typed cells and a named file, ``sheets.admin.ExcelExportMixin``)."""

    region_field = "plan_year__scheme__region"
    history_revert = True  # a plain table: an old version may be saved back (not into a closed year)
    form = PlanRowForm
    change_form_template = "admin/policies/plan_change_form.html"
    list_filter = [
        ("plan_year__scheme__region", admin.RelatedOnlyFieldListFilter),
        ("plan_year__scheme", SchemeListFilter),
        "plan_year__year",
        "plan_year__status",
    ]
    list_select_related = ["plan_year__scheme__region"]
    formfield_overrides = COMPACT_WIDGETS

    @admin.display(description="统筹区", ordering="plan_year__scheme__region__code")
    def region(self, obj):
        return obj.plan_year.scheme.region.name

    @admin.display(description="险种", ordering="plan_year__scheme__settlement_order")
    def scheme(self, obj):
        return obj.plan_year.scheme.name

    @admin.display(description="年度", ordering="plan_year__year")
    def year(self, obj):
        return obj.plan_year.year

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not is_closed(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not is_closed(obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["plan_year_notice"] = plan_year_notice(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_export_resource_classes(self, request):
        return [RULE_RESOURCES[self.model]]

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def has_export_permission(self, request):
        return self.has_view_permission(request)


def make_rule_admin(model):
    names = {f.name for f in model._meta.fields}
    search = ["plan_year__scheme__name", "plan_year__scheme__region__name",
              "plan_year__scheme__region__code", "note"]
    search += [n for n in ("code", "name") if n in names]
    attrs = {
        "list_display": ["__str__", "region", "scheme", "year", *rule_list_fields(model)],
        # the rows' labels and columns name their identity, disease, window, …: read with
        # the rows, not one query per row
        "list_select_related": [*PlanRowAdmin.list_select_related,
                                *(f.name for f in model._meta.fields
                                  if f.many_to_one and f.name != "plan_year")],
        "fields": ["plan_year", *rule_form_fields(model)],
        "search_fields": search,
        "autocomplete_fields": [f.name for f in model._meta.fields
                                if f.many_to_one and f.related_model is ChronicDisease],
        "__module__": __name__,
        "__doc__": f"{model._meta.verbose_name}：独立列表页（含历史记录）。",
    }
    return type(f"{model.__name__}Admin", (PlanRowAdmin,), attrs)


for _model in RULE_MODELS:
    admin.site.register(_model, make_rule_admin(_model))


# --------------------------------------------------------------------------- plan year


def cached_choices(field, shared: dict | None = None) -> None:
    """Make the select of a ``ModelChoiceField`` read its choices once for every form of
    a formset: Django copies the field per form and each copy queries its queryset again
    (a table of 30 rows with an identity column: 30 identical queries). The copies share
    this holder (a field is copied shallowly). Validation (``to_python``) and an
    autocomplete box's selected option look the value up in the field's rows, read once
    per table too (``known_rows``); a value not among them goes through Django's query.
    With ``shared`` (a dict that lives for one request) the tables whose choices are the
    same query (the 特殊身份 of six tables, a plan year's 病种 or 责任) read them once
    (``field_rows``)."""
    holder: dict = {"shared": shared}
    plain = field.iterator.__iter__ is ModelChoiceIterator.__iter__

    class CachedIterator(field.iterator):
        def __iter__(self):
            if "choices" not in holder:
                if plain:  # ModelChoiceIterator.__iter__ over the rows read once
                    empty = [] if self.field.empty_label is None else [("", self.field.empty_label)]
                    holder["choices"] = empty + [self.choice(row) for row in field_rows(self.field)]
                else:
                    holder["choices"] = list(super().__iter__())
            yield from holder["choices"]

        def __len__(self):
            return len(holder["choices"]) if "choices" in holder else super().__len__()

    field.iterator = CachedIterator
    field.widget.choices = field.choices
    with_known_rows(field, holder)


def field_rows(field) -> list:
    """The rows of a ``ModelChoiceField``'s queryset, read once for all the copies of the
    field (``field.rows_holder``) and, when the holder has a ``shared`` dict (one request's),
    once for every field whose queryset is the same statement. The rows are what iterating
    the queryset gives (``ModelChoiceIterator`` reads the same rows through ``iterator()``)."""
    holder = field.rows_holder
    if "list" not in holder:
        queryset = field.queryset
        shared, key = holder.get("shared"), None
        if shared is not None and not queryset._prefetch_related_lookups:
            try:
                key = statement_key(queryset)
                hash(key)
            except (EmptyResultSet, TypeError):  # no statement (``none()``), or no key
                key = None
        if key is None:
            holder["list"] = list(queryset)
        else:
            if key not in shared:
                shared[key] = list(queryset)
            holder["list"] = shared[key]
    return holder["list"]


def statement_key(queryset) -> tuple:
    """What makes ``queryset``'s statement: its SQL without the ordering (compiled without
    it: resolving an ordering through related models' own orderings is most of a
    compilation) and the ordering as asked for, which compiles the same way for the same
    model and the same rest of the query."""
    query = queryset.query
    sql, params = queryset.order_by().query.get_compiler(using=queryset.db).as_sql()
    ordering = (tuple(query.order_by), tuple(query.extra_order_by), query.default_ordering,
                query.standard_ordering)
    return (queryset.db, queryset.model, sql, tuple(params), ordering)


def known_rows(field) -> dict:
    """``{str(key): row}`` of a ``ModelChoiceField``'s queryset, read once for all the copies
    of the field (``field.rows_holder``, shared by the shallow copies Django makes per form)."""
    holder = field.rows_holder
    if "rows" not in holder:
        key = field.to_field_name or "pk"
        holder["rows"] = {str(getattr(row, key)): row for row in field_rows(field)}
    return holder["rows"]


class KnownRowsMixin:
    """A ``ModelChoiceField`` that finds a submitted key among the rows it read once
    (``known_rows``) instead of one ``queryset.get`` per form; a key it does not know
    (another table's row, a removed one, garbage) takes Django's path: same result,
    same error."""

    def to_python(self, value):
        if isinstance(value, str) and (row := known_rows(self).get(value)) is not None:
            return row
        return super().to_python(value)


_KNOWN_ROWS_CLASSES: dict[type, type] = {}


def with_known_rows(field, holder: dict) -> None:
    """Make ``field`` (a ``ModelChoiceField``) look values up in ``holder``'s rows
    (``KnownRowsMixin``, ``known_rows``)."""
    base = type(field)
    field.rows_holder = holder
    field.__class__ = _subclass(_KNOWN_ROWS_CLASSES, base,
                                lambda: type(f"Known{base.__name__}", (KnownRowsMixin, base), {}))


def _subclass(cache: dict[type, type], base: type, make) -> type:
    """The subclass of ``base`` kept in ``cache``, built by ``make()`` the first time only:
    these run per form field of every formset, and a new class per call would be waste."""
    made = cache.get(base)
    if made is None:
        made = cache[base] = make()
    return made


def fast_copies(field) -> None:
    """Copy a field quickly for each form of a formset (Django deep-copies every field per
    form: ≈ 230 forms × 7 fields on the plan-year page, a fifth of its time): the same
    copies as ``Field.__deepcopy__`` without ``copy.copy``'s generic path, and a
    ``ChoiceField``'s list of choices shared instead of deep-copied (nothing changes it in
    place). A ``ModelChoiceField`` keeps Django's copy (its queryset is cloned)."""
    base = type(field)
    if isinstance(field, forms.ModelChoiceField):
        return

    def __deepcopy__(self, memo):
        result = object.__new__(type(self))
        result.__dict__.update(self.__dict__)
        memo[id(self)] = result
        result.widget = copy.deepcopy(self.widget, memo)
        result.error_messages = self.error_messages.copy()
        result.validators = self.validators[:]
        return result

    field.__class__ = _subclass(_FAST_COPY_CLASSES, base,
                                lambda: type(f"Fast{base.__name__}", (base,), {"__deepcopy__": __deepcopy__}))


_FAST_COPY_CLASSES: dict[type, type] = {}
_FAST_INNER_CLASSES: dict[type, type] = {}


def fast_inner_widget(wrapper) -> None:
    """An autocomplete box inside the admin's related-object wrapper (a disease, with the
    新增/修改 links) shows its selected option from the field's rows read once per table
    instead of one query per row (``known_rows``). (Its HTML is written by the site's form
    renderer, ``policies.widgets.FastWidgetRenderer``, like every widget's.)"""
    widget = wrapper.widget
    base = type(widget)
    if not issubclass(base, AutocompleteMixin):
        return
    widget.__class__ = _subclass(_FAST_INNER_CLASSES, base, lambda: type(
        f"Fast{base.__name__}", (base,), {"optgroups": _known_optgroups(base)}))


def _known_optgroups(base):
    def optgroups(self, name, value, attr=None):
        """``AutocompleteMixin.optgroups`` (Django 5.2) with the selected rows taken from
        ``known_rows`` (same rows, same order: the queryset's)."""
        field = self.choices.field
        remote = self.field.remote_field.model._meta
        by_pk = ("pk", remote.pk.name)
        if (getattr(field, "rows_holder", None) is None or (field.to_field_name or "pk") not in by_pk
                or getattr(self.field.remote_field, "field_name", "pk") not in by_pk):
            return base.optgroups(self, name, value, attr)
        default = (None, [], 0)
        selected_choices = {str(v) for v in value if str(v) not in field.empty_values}
        if not self.is_required and not self.allow_multiple_selected:
            default[1].append(self.create_option(name, "", "", False, 0))
        has_selected = False
        for key, row in known_rows(field).items():
            if key not in selected_choices:
                continue
            selected = key in value and (has_selected is False or self.allow_multiple_selected)
            has_selected |= selected
            default[1].append(self.create_option(name, row.pk, field.label_from_instance(row),
                                                 selected_choices, len(default[1])))
        return [default]
    return optgroups


class QuickCopyPost(QueryDict):
    """The posted data, whose ``copy()`` is ``QueryDict.__deepcopy__`` without
    ``copy.deepcopy``'s walk over each key and value that is a string (a deep copy returns
    a string unchanged): the same copy, a new mutable ``QueryDict`` with new lists of the
    same strings, at a fraction of the cost."""

    def copy(self):
        result = QueryDict(mutable=True, encoding=self.encoding)
        items = dict.items(self)
        only_strings = self.__dict__.get("_only_strings")
        if only_strings is None:
            only_strings = all(type(key) is str and all(type(value) is str for value in values)
                               for key, values in items)
            if not self._mutable:  # an immutable post (request.POST) does not change
                self._only_strings = only_strings
        if only_strings:
            # what QueryDict.setlist stores for strings: a new list of the same strings
            dict.update(result, {key: values[:] for key, values in items})
            return result
        memo = {id(self): result}
        for key, values in self.lists():
            result.setlist(copy.deepcopy(key, memo), copy.deepcopy(values, memo))
        return result


class PlanRowInlineForm(forms.ModelForm):
    """A rule row in the plan-year page. A stored row the user did not change skips the
    checks that ask the database — its uniqueness, its constraints and that the rows it
    points to exist: the database holds it as it is, and enforces them (the page sends
    back every row of every table: ≈ 400 queries on a save that changed one cell). Its
    Python checks (fields, ``clean``) still run; a changed or new row is validated exactly
    as Django does, its errors shown at the row."""

    def _post_clean(self):
        if self.instance._state.adding or self.has_changed():
            return super()._post_clean()
        exclude = self._get_validation_exclusions()
        exclude |= {f.name for f in self.instance._meta.fields if f.many_to_one}
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except ValidationError as exc:
            self._update_errors(exc)
        try:
            self.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            self._update_errors(exc)


class PlanRowFormSet(BaseInlineFormSet):
    """The rows of one rule table: each form's hidden row id is found among the table's
    rows read for the page (``get_queryset``) instead of one query per row. The empty
    (新增) form is built once: Django builds a new one each time it is asked for (the
    page asked 5 times per table: the header, the media, the rows)."""

    @cached_property
    def empty_form(self):
        return super().empty_form

    def add_fields(self, form, index):
        super().add_fields(form, index)
        pk = form.fields.get(self._pk_field.name)
        if isinstance(pk, forms.ModelChoiceField) and not pk.to_field_name:
            if not hasattr(self, "_rows_holder"):
                self._rows_holder = {"rows": {str(row.pk): row for row in self.get_queryset()}}
            with_known_rows(pk, self._rows_holder)


class PlanRowInline(RegionScopedFormfieldMixin, admin.TabularInline):
    """A rule table inside the plan-year page; rows follow the plan year's status."""

    extra = 0
    fk_name = "plan_year"
    form = PlanRowInlineForm
    formset = PlanRowFormSet
    formfield_overrides = COMPACT_WIDGETS
    readonly_fields = ["history_link"]
    # tabular.html with its rows written in Python (policies/tabular_rows.py; same HTML)
    template = "admin/policies/edit_inline/plan_rows.html"

    @admin.display(description="历史")
    def history_link(self, obj):
        """The row's 历史 link; the URL from one ``reverse`` per table (an inline object
        lives for one request), the row's key put in."""
        if obj is None or obj.pk is None:
            return "—"
        opts = obj._meta
        name = f"admin:{opts.app_label}_{opts.model_name}_history"
        if not hasattr(self, "_history_url"):
            self._history_url = url_template(name)
        if self._history_url is None or not plain_key(obj.pk):
            url = reverse(name, args=[obj.pk])
        else:
            url = keyed_url(self._history_url, obj.pk)
        return format_html('<a href="{}">历史</a>', url)

    def get_queryset(self, request):
        """The rows with what their labels show (each row prints ``str(row)``, which names
        its identity, window, …): one query per table, not one per row."""
        related = [f.name for f in self.model._meta.fields if f.many_to_one]
        return super().get_queryset(request).select_related(*related)

    def get_formset(self, request, obj=None, **kwargs):
        """Choices of rows of the same plan year (a standard's window, a ratio's
        responsibility) and of the plan year's disease catalogue only; each select's
        choices read once per table, not once per row (``cached_choices``)."""
        formset = super().get_formset(request, obj, **kwargs)
        for field in formset.form.base_fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is None:
                continue
            if issubclass(queryset.model, PlanRow):
                field.queryset = queryset.filter(plan_year=obj) if obj else queryset.none()
            elif queryset.model is ChronicDisease:
                field.queryset = (queryset.filter(region_id=obj.scheme.region_id) if obj
                                  else queryset.none())
            cached_choices(field, request.__dict__.setdefault("_plan_inline_choice_rows", {}))
        for field in formset.form.base_fields.values():
            fast_copies(field)
            if isinstance(field.widget, RelatedFieldWidgetWrapper):
                fast_inner_widget(field.widget)
        return formset

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and not is_closed(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not is_closed(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not is_closed(obj)


class PlanInlineAdminFormSet(helpers.InlineAdminFormSet):
    """A rule table on the plan-year page. Its media (the scripts and styles its widgets
    need) from one form: Django adds up the media of every row's form, each built anew
    and all alike (a formset's forms share their class and widgets)."""

    @property
    def media(self):
        media = self.opts.media + self.formset.media
        for admin_form in itertools.islice(self, 1):
            media += admin_form.media
        return media


def make_inline(model):
    attrs = {
        "model": model,
        "fields": [*rule_form_fields(model), "history_link"],
        "show_change_link": model in RULES_WITH_CHILDREN,
        # 长治 has 50+ diseases per table: a search box instead of 50 selects of 50 options
        "autocomplete_fields": [f.name for f in model._meta.fields
                                if f.many_to_one and f.related_model is ChronicDisease],
        "__module__": __name__,
    }
    return type(f"{model.__name__}Inline", (PlanRowInline,), attrs)


PLAN_YEAR_INLINES = [make_inline(m) for m in RULE_MODELS]


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS_SESSION_KEY = "policies_plan_year_uploads"


class WorkbookUploadForm(forms.Form):
    file = forms.FileField(label="参数表文件", help_text="Excel（.xlsx），格式同“导出参数表”")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("请上传 .xlsx 文件（参数表含多个工作表，不能用 CSV）")
        return upload


@admin.register(PlanYear)
class PlanYearAdmin(PlanYearRolloverMixin, RegionScopedAdminMixin, HistoryAdmin):
    region_field = "scheme__region"
    change_form_template = "admin/policies/planyear_change_form.html"
    inlines = PLAN_YEAR_INLINES
    list_display = ["__str__", "region", "scheme", "year", "status_badge",
                    "official_participation_rate", "demo_badge"]
    list_filter = [("scheme__region", admin.RelatedOnlyFieldListFilter), "scheme__kind",
                   "year", "status", "is_demo"]
    list_select_related = ["scheme__region"]
    search_fields = ["scheme__name", "scheme__region__name", "scheme__region__code", "source"]
    fields = ["scheme", "year", "status", "official_participation_rate", "source", "note", "demo_badge"]
    actions = ["activate", "close"]
    save_on_top = True

    @admin.display(description="统筹区", ordering="scheme__region__code")
    def region(self, obj):
        return obj.scheme.region.name

    @admin.display(description="演示数据", ordering="is_demo")
    def demo_badge(self, obj):
        return "演示数据（由种子年度结转生成）" if obj is not None and obj.is_demo else "否"

    @admin.display(description="状态", ordering="status")
    def status_badge(self, obj):
        return obj.get_status_display()

    def get_readonly_fields(self, request, obj=None):
        # status changes only through the actions; scheme and year identify the row.
        return ["status", "scheme", "year", "demo_badge"] if obj else ["status", "demo_badge"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not is_closed(obj)

    def has_delete_permission(self, request, obj=None):
        # Only a draft plan year may be deleted (an active or closed one backs claims).
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status == PlanYear.Status.DRAFT)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["plan_year_notice"] = plan_year_notice(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        """Django's, each rule table's copy of the posted data made by ``QuickCopyPost``
        (Django deep-copies the ≈ 900 posted fields for every one of the 24 formsets)."""
        post = request.POST if request.method == "POST" else None
        if type(post) is not QueryDict:
            return super().get_formset_kwargs(request, obj, inline, prefix)
        post.__class__ = QuickCopyPost
        try:
            return super().get_formset_kwargs(request, obj, inline, prefix)
        finally:
            post.__class__ = QueryDict

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        inline_admin_formsets = super().get_inline_formsets(request, formsets, inline_instances, obj)
        for inline_admin_formset in inline_admin_formsets:
            if type(inline_admin_formset) is helpers.InlineAdminFormSet:
                inline_admin_formset.__class__ = PlanInlineAdminFormSet  # media from one form
        return inline_admin_formsets

    def _set_status(self, request, queryset, status):
        done = 0
        for plan_year in queryset.select_related("scheme__region"):
            try:
                plan_year_set_status(plan_year=plan_year, status=status, acting_user=request.user)
                done += 1
            except ValidationError as exc:
                for message in exc.message_dict.get("status", exc.messages):
                    self.message_user(request, message, messages.ERROR)
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
        if done:
            label = PlanYear.Status(status).label
            self.message_user(request, f"已将 {done} 个年度方案设为“{label}”", messages.SUCCESS)

    # -- plan-year workbook (docs/policy-sheets.md) --------------------------------------

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        urls = [
            path("<path:object_id>/export-sheets/", self.admin_site.admin_view(self.export_sheets_view),
                 name=f"{name}_export_sheets"),
            path("<path:object_id>/import-sheets/", self.admin_site.admin_view(self.import_sheets_view),
                 name=f"{name}_import_sheets"),
        ]
        return urls + super().get_urls()

    def can_import_sheets(self, request, obj) -> bool:
        """导入参数表: a draft, ``change_planyear`` and the plan year's region."""
        return (obj is not None and obj.status == PlanYear.Status.DRAFT
                and request.user.has_perm("policies.change_planyear")
                and user_can_access(request.user, obj, self.region_field))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if getattr(request, "_plan_year_objects", None) is not None:
            # the change page's plan year: its title names its scheme and region
            queryset = queryset.select_related("scheme__region")
        return queryset

    def get_object(self, request, object_id, from_field=None):
        """The plan year, read once per change page: the page's links (导出/导入参数表,
        结转, 生效) and Django's change view each asked for it (a plan year and its scheme
        read three times), with its scheme and region (``get_queryset``). Only within
        ``change_view``; other views read it afresh."""
        cache = getattr(request, "_plan_year_objects", None)
        if cache is None:
            return super().get_object(request, object_id, from_field)
        key = (str(object_id), from_field)
        if key not in cache:
            cache[key] = super().get_object(request, object_id, from_field)
        return cache[key]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        request._plan_year_objects = {}
        try:
            return self._change_view(request, object_id, form_url, extra_context)
        finally:
            del request._plan_year_objects

    def _change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_permission(request, obj):
            extra_context["export_sheets_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_export_sheets", args=[obj.pk])
            if self.can_import_sheets(request, obj):
                extra_context["import_sheets_url"] = reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_import_sheets", args=[obj.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def _plan_year_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))  # scoped: another region → None
        if obj is None:
            raise Http404("年度方案不存在或不属于您负责的统筹区")
        return obj

    def export_sheets_view(self, request, object_id):
        obj = self._plan_year_or_404(request, object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        response = HttpResponse(content_type=XLSX_TYPE)
        write_plan_year_workbook(obj, response, user=request.user)
        audit_record(action=Action.EXPORT, request=request, obj=obj, details={"file": workbook_file_name(obj)})
        return attach(response, workbook_file_name(obj))

    def import_sheets_view(self, request, object_id):
        obj = self._plan_year_or_404(request, object_id)
        if not self.can_import_sheets(request, obj):
            raise PermissionDenied
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": obj,
                   "title": f"导入参数表：{obj}", "change_url": change_url}
        form = WorkbookUploadForm()
        uploads = request.session.get(SHEETS_SESSION_KEY, {})
        if request.method == "POST" and request.POST.get("token"):
            token = request.POST["token"]
            info = uploads.get(token)
            if info is None or info["plan_year"] != obj.pk:
                messages.error(request, "上传的文件已失效，请重新上传")
                return HttpResponseRedirect(request.path)
            with local_path(info["path"]) as path:
                result = plan_year_import_sheets(plan_year=obj, path=path, acting_user=request.user,
                                                 name=info["name"])
            if result.ok:
                uploads.pop(token, None)
                request.session[SHEETS_SESSION_KEY] = uploads
                default_storage.delete(info["path"])
                messages.success(request, result.summary())
                return HttpResponseRedirect(change_url)
            context.update(result=result, errors=result.errors, token=token)
        elif request.method == "POST":
            form = WorkbookUploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                token = secrets.token_hex(16)
                stored = store_upload(upload, "uploads/plan-years")  # any app server reads it at 确认
                uploads[token] = {"plan_year": obj.pk, "name": upload.name, "path": stored}
                request.session[SHEETS_SESSION_KEY] = uploads
                with local_path(stored) as path:
                    result = plan_year_import_sheets(plan_year=obj, path=path, acting_user=request.user,
                                                     dry_run=True, name=upload.name)
                context.update(result=result, errors=result.errors, token=token)
        context["form"] = form
        return TemplateResponse(request, "admin/policies/plan_year_import.html", context)

    @admin.action(description="启用所选年度方案（草稿 → 生效）", permissions=["change"])
    def activate(self, request, queryset):
        self._set_status(request, queryset, PlanYear.Status.ACTIVE)

    @admin.action(description="关闭所选年度方案（生效 → 已关闭，关闭后只读）", permissions=["change"])
    def close(self, request, queryset):
        self._set_status(request, queryset, PlanYear.Status.CLOSED)


# --------------------------------------------------------------------------- staff


class StaffProfileInline(SuperuserWritesMixin, admin.StackedInline):
    model = StaffProfile
    can_delete = False
    max_num = 1
    filter_horizontal = ["regions"]
    verbose_name = verbose_name_plural = "负责统筹区（非超级管理员只能看到所选统筹区及其下级区域的数据）"


@admin.register(StaffProfile)
class StaffProfileAdmin(SuperuserWritesMixin, HistoryAdmin):
    history_revert = True  # a plain table: an old version may be saved back
    audit_action = Action.PERMISSION_CHANGE
    list_display = ["user", "region_list", "is_superuser"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    filter_horizontal = ["regions"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("regions")

    @admin.display(description="负责统筹区")
    def region_list(self, obj):
        return "、".join(r.name for r in obj.regions.all()) or "（无：看不到任何区域的数据）"

    @admin.display(description="超级管理员", boolean=True)
    def is_superuser(self, obj):
        return obj.user.is_superuser


@admin.register(MaskingRule)
class MaskingRuleAdmin(SuperuserWritesMixin, HistoryAdmin):
    """脱敏规则: how each role sees each kind of personal data (policies/masking.py);
    superusers edit them, every change is in the history."""

    history_revert = True
    list_display = ["role_name", "field", "mode", "keep_head", "keep_tail"]
    list_filter = ["field", "mode", "group"]
    fields = ["group", "field", "mode", "keep_head", "keep_tail"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("group")

    @admin.display(description="角色", ordering="group__name")
    def role_name(self, obj):
        return obj.group.name if obj.group_id else "其他用户（无角色规则）"


@admin.register(DutySeparation)
class DutySeparationAdmin(SuperuserWritesMixin, HistoryAdmin):
    """岗位分离规则 (policies/duties.py): which earlier act bars a person from an act on
    the same document; superusers edit them, every change is in the history."""

    history_revert = True
    list_display = ["act", "prior", "enforced", "note"]
    list_filter = ["act", "enforced"]
    fields = ["act", "prior", "enforced", "note"]


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(AuditedChangesMixin, SuperuserWritesMixin, AdminSetPasswordMixin, HideDevicePermissionsMixin,
                DjangoUserAdmin):
    """Django's user admin plus the staff profile (regions) inline; an account added or a
    password set here is changed by its user at the next login (accounts.admin).

    Every account is a staff account (it logs in to this site): the add page asks for the
    role, the regions and the superuser status and creates the account through
    ``staff_user_ensure`` (as ``load_demo``); the change page has no 工作人员状态 and
    keeps it set. Both write the command's 审计日志 entry (权限修改: 创建账户 / 修改账户
    with the role, regions, superuser status and each change before → after,
    ``staff_account_audit``)."""

    audit_action = Action.PERMISSION_CHANGE
    inlines = [StaffProfileInline]
    add_form = StaffUserCreationForm
    add_fieldsets = ((None, {"fields": ("username", "password1", "password2", "role", "regions", "superuser")}),)
    list_display = ["username", "first_name", "last_name", "is_active", "is_superuser",
                    "group_list", "region_list"]
    list_filter = ["is_active", "is_superuser", "groups"]
    # kept by Django: as inputs, a save would cut them to the minute (the time widget) and
    # log 上次登录 as changed
    readonly_fields = ["last_login", "date_joined"]
    # the account state compared before and after a change (policies.staff.account_state)
    STATE_FIELDS = ("groups", "is_superuser", "is_active", "is_staff")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return [(name, {**options, "fields": [f for f in options["fields"] if f != "is_staff"]})
                for name, options in super().get_fieldsets(request, obj)]

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []  # regions: on the form

    def save_model(self, request, obj, form, change):
        if change:
            request.account_before = account_state(type(obj)._default_manager.get(pk=obj.pk))
            request.account_other_changes = [str(form.fields[name].label) for name in form.changed_data
                                             if name not in self.STATE_FIELDS and name in form.fields]
            obj.is_staff = True
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        user, _created = staff_user_ensure(
            username=obj.get_username(), password=data["password1"], role=data["role"] or None,
            regions=list(data["regions"]), superuser=data["superuser"], acting_user=request.user, request=request)
        obj.pk = user.pk
        obj.refresh_from_db()
        password_mark_must_change(user=obj, acting_user=request.user)

    def log_addition(self, request, obj, message):
        # the LogEntry only: staff_user_ensure wrote the 审计日志 entry
        return super(AuditedChangesMixin, self).log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        before = getattr(request, "account_before", None)
        if before is None:  # the password page (accounts.admin): the generic entry
            return super().log_change(request, obj, message)
        entry = super(AuditedChangesMixin, self).log_change(request, obj, message)
        staff_account_audit(user=obj, before=before, acting_user=request.user, request=request,
                            other_changes=request.account_other_changes)
        return entry

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups", "staff_profile__regions")

    @admin.display(description="角色")
    def group_list(self, obj):
        return "、".join(g.name for g in obj.groups.all())

    @admin.display(description="负责统筹区")
    def region_list(self, obj):
        profile = getattr(obj, "staff_profile", None)
        if profile is None:
            return ""
        return "、".join(r.name for r in profile.regions.all())


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedChangesMixin, SuperuserWritesMixin, HideDevicePermissionsMixin, DjangoGroupAdmin):
    """Django's role (group) admin: roles are kept by ``roles_sync``; only a superuser
    changes them by hand."""

    audit_action = Action.PERMISSION_CHANGE
