"""Chinese admin of insured persons, enrollments and payments (spec README §1–2: staff
register insured persons and record contributions; docs/enrollment.md).

- 参保人: identities, family relations and enrollments inline (and the chronic-disease
  registrations, ``enrollment.admin.registrations.RegistrationInline``); search by the exact
  document number or the name; filters by region, category, identity. ID numbers and
  phones are masked for users without ``policies.view_full_identity``; a user sees the
  persons whose 户籍/常住地 or enrollment is in one of their regions.
- 参保登记: payments, suspensions and pre-existing declarations inline; filters by region,
  scheme, year, category, identity, status; the action and page “登记缴费” first show the
  due, subsidy, self-pay and coverage period, then save through
  ``services.payment_record``.
- 缴费记录: read-only list (payments are written only by the form above or a file import);
  each row and page offers 申请退费 (``enrollment.admin.refunds``).
- 表格导入/导出 (参保人, 缴费记录): ``sheets.admin.SheetAdminMixin`` — upload, full error
  report or preview, 确认导入 (all-or-nothing, ``enrollment.import_person`` /
  ``enrollment.import_payment``), empty templates, exports masked and scoped
  (docs/spreadsheets.md).
Every write goes through ``enrollment.services``; refusals are shown in Chinese.
"""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, OuterRef, Subquery, Sum
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ExportMixin

from enrollment import selectors, services
from enrollment.admin.refunds import refund_link
from enrollment.admin.registrations import RegistrationInline
from enrollment.admin.search import PersonSearchMixin
from enrollment.models import (
    Enrollment,
    FamilyRelation,
    Payment,
    Person,
    PersonIdentity,
    PreExistingDeclaration,
    Suspension,
)
from insurance_rules.errors import CaseError
from listing.filters import RegionListFilter, through_keys, within_keys
from listing.paging import EstimatedCountPaginator
from listing.read_only import ReadOnlyAdminMixin
from policies import codes
from policies.access import RegionScopedAdminMixin, user_bound_regions, user_region_ids, user_sees_all_regions
from policies.admin import HistoryAdmin
from policies.admin_inlines import ReadOnlyTabularInline, adopt_saved, save_inline_rows
from policies.display import date_text, money_column, money_text
from policies.masking import MaskedIdentityAdminMixin, masked_column, masked_id, shown_name
from policies.models import Identity, PlanYear
from policies.widgets import IsoDateInput
from sheets.admin import SheetAdminMixin

# --------------------------------------------------------------------------- scoping


def person_scope(queryset, user):
    """Persons visible to ``user`` (``selectors.persons_visible_to``)."""
    return selectors.persons_visible_to(user, queryset)


class IdentityFilter(admin.SimpleListFilter):
    """Persons (or enrollments of persons) holding a special identity."""

    title = "特殊身份"
    parameter_name = "identity"
    person_field = "pk"

    def lookups(self, request, model_admin):
        return list(Identity.objects.values_list("code", "name"))

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        holders = PersonIdentity.objects.filter(identity__code=self.value()).values("person_id")
        return queryset.filter(**{f"{self.person_field}__in": holders})


class EnrollmentIdentityFilter(IdentityFilter):
    person_field = "person_id"


class FromFirstPersonMixin:
    """A filter of the persons list (ordered by id) from the chosen value's first person on:
    ``field = X AND id >= (its smallest id, read first on the field's (field, id) index)``.
    Persons are registered county by county, so a category's or a region's rows are
    clustered by id, which the planner does not know: it walked the id order from the
    start, through the 300 000 垫江 residents, to find the first 在职职工 (at 10 000 000
    persons, through 3 000 000 persons of other 户籍所在地). A value no one has is an empty
    list without a scan."""

    def queryset(self, request, queryset):
        value = self.used_parameters.get(self.lookup_kwarg)
        if not value or self.lookup_kwarg_isnull in self.used_parameters:
            return super().queryset(request, queryset)
        filtered = super().queryset(request, queryset)  # a malformed value stops here
        values = value if isinstance(value, list) else [value]
        field = self.lookup_kwarg.removesuffix("__exact")
        first = Person.objects.filter(**{f"{field}__in": values}).order_by("id").values_list("id", flat=True).first()
        if first is None:
            return queryset.none()
        return filtered.filter(id__gte=first)


class PersonCategoryFilter(FromFirstPersonMixin, admin.ChoicesFieldListFilter):
    """人员类别 (index person_category)."""


class PersonRegionFilter(FromFirstPersonMixin, RegionListFilter):
    """户籍所在地 / 常住地 (indexes person_hukou_region, person_residence_region)."""


# --------------------------------------------------------------------------- person page


class PersonIdentityFormSet(BaseInlineFormSet):
    """Periods of the same identity entered together may not overlap either."""

    def clean(self):
        super().clean()
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("identity") or not data.get("valid_from"):
                continue
            rows.append((data["identity"], data["valid_from"], data.get("valid_to")))
        for i, (ident, start, end) in enumerate(rows):
            for other, o_start, o_end in rows[i + 1:]:
                if other == ident and (o_end is None or start <= o_end) and (end is None or o_start <= end):
                    raise ValidationError(f"“{ident.name}”身份的两个认定期间重叠")


class PersonIdentityInline(admin.TabularInline):
    model = PersonIdentity
    formset = PersonIdentityFormSet
    fields = ["identity", "valid_from", "valid_to", "department", "document_ref", "note"]
    extra = 0
    verbose_name_plural = "特殊身份（按认定期间有效）"


class FamilyRelationInline(admin.TabularInline):
    model = FamilyRelation
    fk_name = "person"
    fields = ["relation", "relative", "note"]
    autocomplete_fields = ["relative"]
    extra = 0
    verbose_name_plural = "家庭关系（亲属是本人的…）"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "relative":
            kwargs["queryset"] = person_scope(Person.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PersonEnrollmentInline(admin.TabularInline):
    model = Enrollment
    fields = ["plan_year", "tier", "status", "coverage_start", "coverage_end", "paid_off_date"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name_plural = "参保登记（在“参保登记”页面新增）"

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PersonAdminForm(forms.ModelForm):
    """The person page's form: a 户籍/常住地 outside the user's regions (or both left empty)
    is a field error on 户籍所在地, so the typed data stays on the page (the service would
    refuse the save otherwise). ``acting_user`` is set by ``PersonAdmin.get_form``."""

    acting_user = None

    def clean(self):
        data = super().clean()
        person = self.instance
        moves = person.pk is None or {"hukou_region", "residence_region"} & set(self.changed_data)
        if not moves or self.acting_user is None:
            return data
        hukou, residence = data.get("hukou_region"), data.get("residence_region")
        refusal = services.person_scope_refusal(
            self.acting_user, hukou_region_id=hukou.pk if hukou else None,
            residence_region_id=residence.pk if residence else None)
        if refusal is not None and not (person.pk and Enrollment.objects.filter(
                person=person, plan_year__scheme__region__in=user_region_ids(self.acting_user)
        ).exists()):
            self.add_error("hukou_region", refusal)
        return data


@admin.register(Person)
class PersonAdmin(PersonSearchMixin, SheetAdminMixin, ExportMixin, MaskedIdentityAdminMixin,
                  RegionScopedAdminMixin, HistoryAdmin):
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a large list (listing.paging)
    show_full_result_count = False
    sheet_kind = "persons"
    form = PersonAdminForm
    region_field = "residence_region"  # plus 户籍 and enrollments: see get_queryset
    # a bank account identifies a person as much as the ID number (masked as one, as in
    # the exports: enrollment.sheet_kinds.persons)
    masked_fields = {"document_number": "document_number", "phone": "phone",
                     "bank_account_number": "bank_account", "birth_date": "birth_date", "name": "name",
                     "bank_account_name": "name"}
    list_display = ["name", "document_type", "document_number", "sex", "birth_date", "category",
                    "hukou_region", "residence_region", "phone"]
    list_filter = [("category", PersonCategoryFilter), ("hukou_region", PersonRegionFilter),
                   ("residence_region", PersonRegionFilter), IdentityFilter,
                   "document_type", "resettled", "long_term_resident", "hk_macao_taiwan"]
    list_select_related = ["hukou_region", "residence_region"]
    search_fields = ["=document_number", "^name"]
    search_help_text = "按完整证件号码（精确）或姓名（从第一个字起）查找"
    fieldsets = [
        ("证件", {"fields": ["document_type", "document_number"]}),
        ("基本信息", {"fields": ["name", "sex", "birth_date", "category", "phone", "hukou_region",
                             "residence_region", "resettled"]}),
        ("参保资格（三明普惠医联保等）", {"fields": ["long_term_resident", "hk_macao_taiwan",
                                           "basic_insured_in_province"]}),
        ("理赔收款账户", {"fields": ["bank_name", "bank_account_name", "bank_account_number",
                               "bank_place"]}),
        ("备注", {"fields": ["note"]}),
    ]

    def get_changeform_initial_data(self, request):
        """A new person's 户籍/常住地 default to the clerk's region when the clerk is bound
        to exactly one."""
        initial = super().get_changeform_initial_data(request)
        regions = list(user_bound_regions(request.user)[:2])
        if len(regions) == 1:
            for name in ("hukou_region", "residence_region"):
                initial.setdefault(name, regions[0].pk)
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    def get_inlines(self, request, obj):
        inlines = [PersonIdentityInline, FamilyRelationInline, PersonEnrollmentInline]
        if obj is not None:
            inlines.append(RegistrationInline)
        return inlines

    # region scope: 户籍, 常住地 or an enrollment in the user's regions
    def get_queryset(self, request):
        qs = super(RegionScopedAdminMixin, self).get_queryset(request)
        return person_scope(qs, request.user)

    def in_region_scope(self, request, obj, *, write=False) -> bool:
        if obj is None or obj.pk is None or user_sees_all_regions(request.user):
            return True
        return person_scope(Person.objects.filter(pk=obj.pk), request.user).exists()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changed = {f: data[f] for f in form.changed_data if f in services.PERSON_FIELDS}
            services.person_update(person=obj, acting_user=request.user, **changed)
            return
        fields = {f: data[f] for f in services.PERSON_FIELDS
                  if f in data and f not in ("document_type", "document_number", "name", "category")}
        saved = services.person_create(
            acting_user=request.user, document_type=data["document_type"],
            document_number=data["document_number"], name=data["name"],
            category=data["category"], **fields)
        adopt_saved(obj, saved)

    def save_formset(self, request, form, formset, change):
        person = form.instance
        if formset.model is PersonIdentity:
            save_inline_rows(formset, lambda row: services.identity_add(
                person=person, identity=row.identity, valid_from=row.valid_from,
                valid_to=row.valid_to, department=row.department,
                document_ref=row.document_ref, note=row.note, acting_user=request.user))
        elif formset.model is FamilyRelation:
            save_inline_rows(formset, lambda row: services.relation_add(
                person=person, relative=row.relative, relation=row.relation, note=row.note,
                acting_user=request.user))
        else:
            super().save_formset(request, form, formset, change)


# --------------------------------------------------------------------------- enrollment page


def window_texts(request, plan_year_of) -> dict:
    """``history_value_texts`` of a model storing a 缴费期 by its code (``window_code``): the
    window's name (``2027 年度集中参保期``), each looked up once per history page.
    ``plan_year_of(historical record)``: the plan year whose windows the code names."""
    names = request.__dict__.setdefault("_history_window_names", {})

    def text(record, code):
        plan_year_id = plan_year_of(record)
        if (plan_year_id, code) not in names:
            names[plan_year_id, code] = selectors.window_name(plan_year_id, code)
        return names[plan_year_id, code]

    return {"window_code": text}


class PaymentInline(ReadOnlyTabularInline):
    model = Payment
    fields = ["paid_date", "amount_due", "subsidy", "subsidy_identity", "subsidy_payer",
              "self_paid", "channel", "payer", "relation_to_payer", "receipt_no",
              "window", "completes"]
    readonly_fields = fields
    verbose_name_plural = "缴费记录（通过“登记缴费”录入）"

    @admin.display(description="缴费人")
    def payer(self, obj):
        return shown_name(obj.payer_name)  # 脱敏规则 姓名 of the viewing user

    @admin.display(description="缴费期")
    def window(self, obj):
        return selectors.window_name(obj.enrollment.plan_year_id, obj.window_code)


class SuspensionInline(ReadOnlyTabularInline):
    model = Suspension
    fk_name = "enrollment"
    fields = ["date_from", "date_to", "reason", "source"]
    readonly_fields = fields
    verbose_name_plural = "暂停期间"


class PreExistingInline(admin.TabularInline):
    model = PreExistingDeclaration
    fields = ["group", "condition", "condition_text", "declared_on"]
    extra = 0
    verbose_name_plural = "特定既往症申报（三明：有申报即为既往症人群）"


class EnrollmentAddForm(forms.ModelForm):
    class Meta:
        model = Enrollment
        fields = ["person", "plan_year", "tier", "auto_renew", "auto_deduct", "basic_confirmed",
                  "note"]

    def clean(self):
        data = super().clean()
        person, plan_year = data.get("person"), data.get("plan_year")
        if person and plan_year:
            if plan_year.status == PlanYear.Status.CLOSED:
                raise ValidationError({"plan_year": f"年度方案“{plan_year}”已关闭，不能再登记参保"})
            refusal = selectors.enrollment_refusal(
                person, plan_year, basic_insured_in_region=True if data.get("basic_confirmed") else None)
            if refusal is not None:
                raise ValidationError({"person": refusal.message})
        return data


@admin.register(Enrollment)
class EnrollmentAdmin(PersonSearchMixin, RegionScopedAdminMixin, HistoryAdmin):
    person_path = "person__"
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a large list (listing.paging)
    show_full_result_count = False
    region_field = "plan_year__scheme__region"
    region_key_field = "plan_year"  # scoped by plan_year_id IN (…): no join (policies.access)
    # newest plan year first (plan years are created year after year), then newest
    # registration: the enrollment_recent index, for every user and every plan-year scope
    ordering = ["-plan_year_id", "-id"]
    list_filter = [("plan_year__scheme__region", through_keys(RegionListFilter, "plan_year")),
                   ("plan_year__scheme__kind", through_keys(admin.ChoicesFieldListFilter, "plan_year")),
                   ("plan_year__year", through_keys(admin.AllValuesFieldListFilter, "plan_year")),
                   # the enrollment's own copy of the person's category, per plan year
                   # (the enrollment_category index; docs/enrollment.md §人员类别)
                   ("person__category", within_keys(admin.ChoicesFieldListFilter, "plan_year", "category")),
                   EnrollmentIdentityFilter, "status", "origin",
                   ("auto_renew", within_keys(admin.BooleanFieldListFilter, "plan_year"))]
    list_select_related = ["person", "plan_year__scheme__region"]
    search_fields = ["=person__document_number", "^person__name"]
    search_help_text = "按参保人完整证件号码（精确）或姓名（从第一个字起）查找"
    autocomplete_fields = ["person"]
    actions = ["record_payment_action", "suspend_action", "resume_action", "terminate_action"]
    CHANGE_FIELDS = ["person", "plan_year", "tier", "status", "coverage_start", "coverage_end",
                     "paid_off_date", "window", "continuous_years", "auto_renew",
                     "auto_deduct", "basic_confirmed", "origin", "terminated_on", "note",
                     "payment_link"]
    READONLY_ON_CHANGE = ["person", "plan_year", "status", "coverage_start", "coverage_end",
                          "paid_off_date", "window", "origin", "terminated_on",
                          "payment_link"]

    def get_list_display(self, request):
        def document(obj):
            return masked_id(request, obj.person.document_number)

        document.short_description = "证件号码"
        return [masked_column(request, "person__name", "name", "参保人"), document, "scheme_name", "plan_year_year",
                "tier", "status", "coverage_start", "coverage_end", "paid_off_date", "paid_amount"]

    @admin.display(description="险种", ordering="plan_year__scheme__name")
    def scheme_name(self, obj):
        return f"{obj.plan_year.scheme.region.name}{obj.plan_year.scheme.name}"

    @admin.display(description="年度", ordering="plan_year__year")
    def plan_year_year(self, obj):
        return obj.plan_year.year

    def get_queryset(self, request):
        """The paid total of each listed row in the list's own query (a correlated sum the
        database computes for the rows of the page only), not one query per row."""
        paid = (Payment.objects.filter(enrollment=OuterRef("pk")).order_by().values("enrollment")
                .annotate(total=Sum(F("subsidy") + F("self_paid"))).values("total"))
        return super().get_queryset(request).annotate(paid_total=Subquery(paid))

    @admin.display(description="已缴（资助+个人，元）")
    def paid_amount(self, obj):
        if hasattr(obj, "paid_total"):
            return money_text(obj.paid_total or Decimal(0))
        total = obj.payments.aggregate(s=Sum("subsidy"), p=Sum("self_paid"))
        return money_text((total["s"] or Decimal(0)) + (total["p"] or Decimal(0)))

    @admin.display(description="适用缴费期")
    def window(self, obj):
        return selectors.window_name(obj.plan_year_id, obj.window_code)

    def history_value_texts(self, request):
        return window_texts(request, lambda record: record.plan_year_id)

    @admin.display(description="登记缴费")
    def payment_link(self, obj):
        if obj is None or obj.pk is None or obj.paid_off_date:
            return "已缴清" if obj is not None and obj.paid_off_date else "-"
        url = reverse("admin:enrollment_enrollment_record_payment", args=[obj.pk])
        return format_html('<a class="button" href="{}">登记缴费</a>', url)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EnrollmentAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return EnrollmentAddForm.Meta.fields if obj is None else self.CHANGE_FIELDS

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if services.coverage_entered_directly(obj.plan_year):
            return [f for f in self.READONLY_ON_CHANGE if f not in services.COVERAGE_FIELDS]
        return self.READONLY_ON_CHANGE

    def get_inlines(self, request, obj):
        return [] if obj is None else [PaymentInline, SuspensionInline, PreExistingInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "person":
            kwargs["queryset"] = person_scope(Person.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changed = {f: data[f] for f in form.changed_data if f in services.ENROLLMENT_EDITABLE}
            services.enrollment_update(enrollment=obj, acting_user=request.user, **changed)
            return
        saved = services.enrollment_create(
            person=data["person"], plan_year=data["plan_year"], tier=data["tier"],
            auto_renew=data["auto_renew"], auto_deduct=data["auto_deduct"], note=data["note"],
            basic_insured_in_region=True if data["basic_confirmed"] else None,
            acting_user=request.user)
        adopt_saved(obj, saved)

    def save_formset(self, request, form, formset, change):
        if formset.model is PreExistingDeclaration:
            save_inline_rows(formset, lambda row: services.pre_existing_declare(
                enrollment=form.instance, group=row.group, condition=row.condition,
                condition_text=row.condition_text, declared_on=row.declared_on,
                acting_user=request.user))
        else:
            super().save_formset(request, form, formset, change)

    # ------------------------------------------------------------------ 登记缴费

    # the actions are offered to who may run them: the permissions the services check
    def has_add_payment_permission(self, request):
        return request.user.has_perm("enrollment.add_payment")  # services.payment_record

    def has_add_suspension_permission(self, request):
        return request.user.has_perm("enrollment.add_suspension")  # services.enrollment_suspend

    def has_change_suspension_permission(self, request):
        return request.user.has_perm("enrollment.change_suspension")  # services.enrollment_resume

    @admin.action(description="登记缴费", permissions=["add_payment"])
    def record_payment_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "登记缴费：请只选择一条参保登记", messages.WARNING)
            return None
        return HttpResponseRedirect(
            reverse("admin:enrollment_enrollment_record_payment", args=[queryset.get().pk]))

    def _status_action(self, request, queryset, *, form_class, title, run):
        """Intermediate page asking for the date (and reason), then ``run(enrollment, data)``
        per selected enrollment through the services; refusals listed in Chinese."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, failed = 0, []
            for enrollment in queryset.select_related("person", "plan_year__scheme"):
                try:
                    run(enrollment, form.cleaned_data)
                    done += 1
                except (ValidationError, PermissionDenied) as exc:
                    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    failed.append(f"{enrollment}：{text}")
            if done:
                self.message_user(request, f"{title}：已处理 {done} 条参保登记", messages.SUCCESS)
            for text in failed:
                self.message_user(request, f"{title}未完成 — {text}", messages.ERROR)
            return None
        return TemplateResponse(request, "admin/enrollment/enrollment/status_action.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "title": title,
            "form": form, "queryset": queryset, "action": request.POST.get("action"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        })

    @admin.action(description="暂停参保（基本医保暂停时，随之暂停大病/补充/普惠险）", permissions=["add_suspension"])
    def suspend_action(self, request, queryset):
        return self._status_action(
            request, queryset, form_class=SuspendForm, title="暂停参保",
            run=lambda e, d: services.enrollment_suspend(
                enrollment=e, date_from=d["date_from"], date_to=d.get("date_to"),
                reason=d["reason"], acting_user=request.user))

    @admin.action(description="恢复参保", permissions=["change_suspension"])
    def resume_action(self, request, queryset):
        return self._status_action(
            request, queryset, form_class=ResumeForm, title="恢复参保",
            run=lambda e, d: services.enrollment_resume(
                enrollment=e, resume_date=d["resume_date"], acting_user=request.user))

    # services.enrollment_terminate: enrollment.change_enrollment
    @admin.action(description="终止参保（基本医保终止时，随之终止大病/补充/普惠险）", permissions=["change"])
    def terminate_action(self, request, queryset):
        return self._status_action(
            request, queryset, form_class=TerminateForm, title="终止参保",
            run=lambda e, d: services.enrollment_terminate(
                enrollment=e, terminate_date=d["terminate_date"], reason=d["reason"],
                acting_user=request.user))

    def get_urls(self):
        urls = [path("<path:object_id>/record-payment/",
                     self.admin_site.admin_view(self.record_payment_view),
                     name="enrollment_enrollment_record_payment")]
        return urls + super().get_urls()

    def record_payment_view(self, request, object_id):
        enrollment = self.get_object(request, unquote(object_id))
        if enrollment is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not request.user.has_perm("enrollment.add_payment") or not self.has_view_permission(
                request, enrollment):
            raise PermissionDenied
        form = PaymentForm(request.POST or None, enrollment=enrollment, request=request)
        preview, refusal = None, None
        if request.method == "POST" and form.is_valid():
            kwargs = form.payment_kwargs()
            try:
                preview = selectors.payment_preview(
                    enrollment, paid_date=kwargs["paid_date"], channel=kwargs["channel"],
                    relation_to_payer=kwargs["relation_to_payer"],
                    payer_person=kwargs["payer_person"],
                    basic_insured_in_region=kwargs["basic_insured_in_region"])
            except CaseError as exc:
                refusal = exc.message
            if preview is not None and "_confirm" in request.POST:
                try:
                    payment = services.payment_record(enrollment=enrollment,
                                                      acting_user=request.user, **kwargs)
                except ValidationError as exc:
                    _add_errors(form, exc)
                else:
                    self.message_user(request, (
                        f"已登记缴费 {payment.receipt_no}：应缴 {money_text(payment.amount_due)} 元，资助 "
                        f"{money_text(payment.subsidy)} 元，个人缴费 {money_text(payment.self_paid)} 元"
                        + ("；已缴清，待遇享受期 "
                           f"{date_text(preview.quote.coverage_start)} 至 "
                           f"{date_text(preview.quote.coverage_end)}"
                           if payment.completes else "")), messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:enrollment_enrollment_change", args=[enrollment.pk]))
        self_paid_now = None
        if preview is not None:
            given = form.cleaned_data.get("self_paid")
            self_paid_now = preview.remaining if given is None else given
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": f"登记缴费：{enrollment}", "enrollment": enrollment,
            "form": form, "preview": preview, "refusal": refusal, "self_paid_now": self_paid_now,
            "explanation": preview.quote.explanation(selectors.identity_names()) if preview else "",
            "payments": enrollment.payments.order_by("paid_date", "pk"),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/enrollment/enrollment/record_payment.html", context)


class SuspendForm(forms.Form):
    date_from = forms.DateField(label="暂停起始日", widget=IsoDateInput())
    date_to = forms.DateField(label="暂停终止日", required=False, help_text="留空 = 直至恢复",
                              widget=IsoDateInput())
    reason = forms.CharField(label="暂停原因", max_length=200)


class ResumeForm(forms.Form):
    resume_date = forms.DateField(label="恢复享受待遇日期", help_text="暂停期间截至其前一日",
                                  widget=IsoDateInput())


class TerminateForm(forms.Form):
    terminate_date = forms.DateField(label="终止日期", help_text="待遇享受期截至其前一日",
                                     widget=IsoDateInput())
    reason = forms.CharField(label="终止原因", max_length=200)


def _add_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class PaymentForm(forms.Form):
    """The fields of ``services.payment_record`` (Chinese labels)."""

    paid_date = forms.DateField(label="缴费日期", initial=timezone.localdate,  # Asia/Shanghai
                                widget=IsoDateInput())
    channel = forms.ChoiceField(label="缴费渠道",  # chosen by the clerk, never a silent first option
                                choices=[("", "请选择缴费渠道")] + list(codes.Channel.choices))
    self_paid = forms.DecimalField(label="个人缴费（元）", required=False, min_value=0,
                                   max_digits=14, decimal_places=2,
                                   help_text="留空 = 缴清全部应缴未缴金额")
    receipt_no = forms.CharField(label="票据/流水号", max_length=60)
    payer_name = forms.CharField(label="缴费人姓名", max_length=50, required=False)
    payer_document = forms.CharField(
        label="缴费人（账户持有人）证件号码", max_length=30, required=False,
        help_text="个人账户/家庭共济账户为他人缴费时填写；按已登记的家庭关系判断关系")
    relation_to_payer = forms.ChoiceField(
        label="参保人与缴费人的关系", required=False,
        choices=[("", "按家庭关系自动判断（本人缴费时为“本人”）")] + list(codes.Relation.choices))
    subsidy_payer = forms.ChoiceField(label="资助方", choices=Payment.SubsidyPayer.choices,
                                      initial=Payment.SubsidyPayer.GOVERNMENT)
    basic_confirmed = forms.BooleanField(
        label="已核实参加本统筹区基本医保", required=False,
        help_text="基本医保不在本系统登记时勾选（补充/商业保险要求参加本统筹区基本医保）")

    def __init__(self, *args, enrollment, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.enrollment = enrollment
        self.request = request
        if not args or args[0] is None:
            self.initial.setdefault("basic_confirmed", enrollment.basic_confirmed)

    def clean_payer_document(self):
        number = (self.cleaned_data.get("payer_document") or "").strip().upper()
        if not number:
            return None
        payer = person_scope(Person.objects.filter(document_number=number), self.request.user).first()
        if payer is None:
            raise ValidationError(f"找不到证件号码为“{number}”的参保人（须先登记缴费人）")
        return payer

    def payment_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "paid_date": data["paid_date"], "channel": data["channel"],
            "receipt_no": data["receipt_no"], "self_paid": data.get("self_paid"),
            "payer_name": data.get("payer_name") or "", "payer_person": data.get("payer_document"),
            "relation_to_payer": data.get("relation_to_payer") or None,
            "subsidy_payer": data["subsidy_payer"],
            "basic_insured_in_region": True if data.get("basic_confirmed") else None,
        }


# --------------------------------------------------------------------------- payments list


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, PersonSearchMixin, SheetAdminMixin, ExportMixin, RegionScopedAdminMixin, HistoryAdmin):
    person_path = "enrollment__person__"
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a large list (listing.paging)
    show_full_result_count = False
    sheet_kind = "payments"
    region_field = "scheme__region"
    region_key_field = "scheme"  # scoped by scheme_id IN (…): no join (policies.access)
    # newest first: the payment_recent index (with the scheme for a clerk's scope)
    ordering = ["-paid_date", "-id"]
    # no date_hierarchy: it reads the months by DISTINCT over every listed payment on each
    # page; 缴费日期 offers today / 7 days / this month / this year instead
    list_filter = [("scheme__region", through_keys(RegionListFilter, "scheme")),
                   ("scheme__kind", through_keys(admin.ChoicesFieldListFilter, "scheme")),
                   ("enrollment__plan_year__year",
                    through_keys(admin.AllValuesFieldListFilter, "enrollment__plan_year")),
                   ("paid_date", admin.DateFieldListFilter), "channel", "subsidy_payer",
                   ("subsidy_identity", RegionListFilter), "completes"]
    list_select_related = ["enrollment__person", "scheme__region", "subsidy_identity"]
    search_fields = ["=receipt_no", "=enrollment__person__document_number",
                     "^enrollment__person__name"]
    search_help_text = "按票据/流水号、参保人完整证件号码（精确）或姓名（从第一个字起）查找"
    exclude = ["window_code", "payer_name"]  # shown by its name (``window``); the payer masked
    readonly_fields = ["window", "payer"]

    @admin.display(description="缴费人")
    def payer(self, obj):
        return shown_name(obj.payer_name)  # 脱敏规则 姓名 of the viewing user

    @admin.display(description="缴费期")
    def window(self, obj):
        return selectors.window_name(obj.enrollment.plan_year_id, obj.window_code)

    def history_value_texts(self, request):
        plan_years = request.__dict__.setdefault("_history_payment_plan_years", {})

        def plan_year_of(record):
            if record.enrollment_id not in plan_years:
                plan_years[record.enrollment_id] = (Enrollment.objects.filter(pk=record.enrollment_id)
                                                    .values_list("plan_year_id", flat=True).first())
            return plan_years[record.enrollment_id]

        return window_texts(request, plan_year_of)

    def get_queryset(self, request):
        return selectors.with_refunded(super().get_queryset(request))  # 退费 column: no query per row

    def get_list_display(self, request):
        def document(obj):
            return masked_id(request, obj.enrollment.person.document_number)

        def refund(obj):
            return refund_link(request, obj)

        document.short_description = "证件号码"
        refund.short_description = "退费"
        return ["receipt_no", masked_column(request, "enrollment__person__name", "name", "参保人"), document, "scheme", "paid_date",
                money_column("amount_due", "应缴金额（元）"), money_column("subsidy", "资助金额（元）"),
                "subsidy_identity", money_column("self_paid", "个人缴费（元）"), "channel", "completes", refund]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The payment's page (read-only) carries 申请退费 (``admin.refunds``)."""
        extra_context = dict(extra_context or {})
        payment = self.get_object(request, unquote(object_id))
        if payment is not None:
            extra_context["refund_button"] = refund_link(request, payment)
        return super().change_view(request, object_id, form_url, extra_context)

