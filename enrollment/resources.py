"""django-import-export resources of the enrollment app (exports; docs/spreadsheets.md).

Chinese column headers — the same as the import columns of ``enrollment.sheet_kinds``,
so that an exported file re-imports unchanged; codes written as their Chinese names
(codes.md); ID numbers and phones masked unless the user holds
``policies.view_full_identity`` (policies/masking.py; ``user=None`` = a system job, full
values); every text cell guarded against formula injection (a leading ``'`` before
= + - @). The querysets are scoped by the caller (admin ``get_queryset``, or the kind's
``export_queryset``) to the user's regions. Imports do not go through these resources
but through the all-or-nothing validator (``sheets.engine``).
"""
from __future__ import annotations

from datetime import datetime

from import_export import fields, resources, widgets

from enrollment.sheet_kinds.columns import (
    PAYMENT_HEADERS,
    PERSON_HEADERS,
)
from insurance_rules.enrollment.vocab import TIER_NAMES
from policies import codes
from policies.masking import masked_id, masked_phone
from sheets.excel import local_naive
from sheets.parsing import escape_formula

from . import selectors
from .models import Enrollment, FamilyRelation, Payment, Person, PersonIdentity

DEPARTMENTS = dict(codes.Department.choices)
RELATION_NAMES = dict(codes.Relation.choices)


def _yes_no(value) -> str:
    return "是" if value else "否"


def _region(region) -> str:
    return region.name if region is not None else ""


class SheetResource(resources.ModelResource):
    """Base: the acting ``user`` (masking) and formula escaping on every exported cell."""

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def id_number(self, value) -> str:
        return value if self.user is None else masked_id(self.user, value)

    def phone_number(self, value) -> str:
        return value if self.user is None else masked_phone(self.user, value)

    def export_field(self, field, instance, **kwargs):
        """Native values (``Decimal``, ``date``, local ``datetime``) so that the writers
        (``sheets.excel``) make typed xlsx cells; 是/否 for booleans; text guarded."""
        kwargs["force_native_type"] = True
        dehydrate = field.get_dehydrate_method(self.get_field_name(field))
        if (not callable(dehydrate) and getattr(self, dehydrate, None) is None
                and type(field.widget) is widgets.Widget):
            value = field.get_value(instance)  # the base widget would make it a string
        else:
            value = super().export_field(field, instance, **kwargs)
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, datetime):
            return local_naive(value)
        return escape_formula(value)


def _f(attribute, header, **kwargs):
    return fields.Field(attribute=attribute, column_name=header, readonly=True, **kwargs)


class PersonResource(SheetResource):
    """参保人."""

    h = PERSON_HEADERS
    document_type = _f("document_type", h["document_type"])
    document_number = _f("document_number", h["document_number"])
    name = _f("name", h["name"])
    sex = _f("sex", h["sex"])
    birth_date = _f("birth_date", h["birth_date"])
    category = _f("category", h["category"])
    phone = _f("phone", h["phone"])
    hukou_region = _f("hukou_region", h["hukou_region"])
    residence_region = _f("residence_region", h["residence_region"])
    resettled = _f("resettled", h["resettled"])
    long_term_resident = _f("long_term_resident", h["long_term_resident"])
    hk_macao_taiwan = _f("hk_macao_taiwan", h["hk_macao_taiwan"])
    basic_insured_in_province = _f("basic_insured_in_province", h["basic_insured_in_province"])
    bank_name = _f("bank_name", h["bank_name"])
    bank_account_name = _f("bank_account_name", h["bank_account_name"])
    bank_account_number = _f("bank_account_number", h["bank_account_number"])
    bank_place = _f("bank_place", h["bank_place"])
    note = _f("note", h["note"])
    created_at = _f("created_at", h["created_at"])
    updated_at = _f("updated_at", h["updated_at"])

    class Meta:
        model = Person
        fields = ("document_type", "document_number", "name", "sex", "birth_date", "category",
                  "phone", "hukou_region", "residence_region", "resettled", "long_term_resident",
                  "hk_macao_taiwan", "basic_insured_in_province", "bank_name",
                  "bank_account_name", "bank_account_number", "bank_place", "note",
                  "created_at", "updated_at")
        export_order = fields
        import_id_fields = ("document_type", "document_number")

    def dehydrate_document_type(self, obj):
        return obj.get_document_type_display()

    def dehydrate_document_number(self, obj):
        return self.id_number(obj.document_number)

    def dehydrate_sex(self, obj):
        return obj.get_sex_display()

    def dehydrate_category(self, obj):
        return obj.get_category_display()

    def dehydrate_phone(self, obj):
        return self.phone_number(obj.phone)

    def dehydrate_hukou_region(self, obj):
        return _region(obj.hukou_region)

    def dehydrate_residence_region(self, obj):
        return _region(obj.residence_region)

    def dehydrate_resettled(self, obj):
        return _yes_no(obj.resettled)

    def dehydrate_long_term_resident(self, obj):
        return _yes_no(obj.long_term_resident)

    def dehydrate_hk_macao_taiwan(self, obj):
        return _yes_no(obj.hk_macao_taiwan)

    def dehydrate_basic_insured_in_province(self, obj):
        return _yes_no(obj.basic_insured_in_province)

    def dehydrate_bank_account_number(self, obj):
        # a bank account identifies a person as much as the ID number does
        return self.id_number(obj.bank_account_number) if obj.bank_account_number else ""



class PersonIdentityResource(SheetResource):
    """参保人特殊身份."""

    document_number = _f("person__document_number", "证件号码")
    person_name = _f("person__name", "姓名")
    identity = _f("identity__name", "特殊身份")
    valid_from = _f("valid_from", "认定起始日")
    valid_to = _f("valid_to", "认定终止日")
    department = _f("department", "认定部门")
    document_ref = _f("document_ref", "认定文书编号")
    note = _f("note", "备注")

    class Meta:
        model = PersonIdentity
        fields = ("document_number", "person_name", "identity", "valid_from", "valid_to",
                  "department", "document_ref", "note")
        export_order = fields

    def dehydrate_document_number(self, obj):
        return self.id_number(obj.person.document_number)

    def dehydrate_department(self, obj):
        return DEPARTMENTS.get(obj.department or obj.identity.department, "")


class FamilyRelationResource(SheetResource):
    """家庭关系: the relative is the person's <关系>."""

    document_number = _f("person__document_number", "参保人证件号码")
    person_name = _f("person__name", "参保人姓名")
    relation = _f("relation", "亲属是参保人的")
    relative_number = _f("relative__document_number", "亲属证件号码")
    relative_name = _f("relative__name", "亲属姓名")
    note = _f("note", "备注")

    class Meta:
        model = FamilyRelation
        fields = ("document_number", "person_name", "relation", "relative_number",
                  "relative_name", "note")
        export_order = fields

    def dehydrate_document_number(self, obj):
        return self.id_number(obj.person.document_number)

    def dehydrate_relative_number(self, obj):
        return self.id_number(obj.relative.document_number)

    def dehydrate_relation(self, obj):
        return RELATION_NAMES.get(obj.relation, obj.relation)


class PaymentResource(SheetResource):
    """参保登记与缴费: one row per payment with its enrollment (the payments import columns,
    plus the computed window, coverage and status)."""

    h = PAYMENT_HEADERS
    document_type = _f("enrollment__person__document_type", h["document_type"])
    document_number = _f("enrollment__person__document_number", h["document_number"])
    name = _f("enrollment__person__name", h["name"])
    region = _f("scheme__region__name", h["region"])
    scheme = _f("scheme__kind", h["scheme"])
    year = _f("enrollment__plan_year__year", h["year"])
    tier = _f("enrollment__tier", h["tier"])
    paid_date = _f("paid_date", h["paid_date"])
    amount_due = _f("amount_due", h["amount_due"])
    subsidy = _f("subsidy", h["subsidy"])
    self_paid = _f("self_paid", h["self_paid"])
    channel = _f("channel", h["channel"])
    subsidy_payer = _f("subsidy_payer", h["subsidy_payer"])
    payer_name = _f("payer_name", h["payer_name"])
    relation_to_payer = _f("relation_to_payer", h["relation_to_payer"])
    receipt_no = _f("receipt_no", h["receipt_no"])
    basic_confirmed = _f("enrollment__basic_confirmed", h["basic_confirmed"])
    subsidy_identity = _f("subsidy_identity__name", h["subsidy_identity"])
    window_code = _f("window_code", h["window_code"])
    coverage_start = _f("enrollment__coverage_start", h["coverage_start"])
    coverage_end = _f("enrollment__coverage_end", h["coverage_end"])
    status = _f("enrollment__status", h["status"])
    created_at = _f("created_at", h["created_at"])

    class Meta:
        model = Payment
        fields = ("document_type", "document_number", "name", "region", "scheme", "year", "tier",
                  "paid_date", "amount_due", "subsidy", "self_paid", "channel", "subsidy_payer",
                  "payer_name", "relation_to_payer", "receipt_no", "basic_confirmed",
                  "subsidy_identity", "window_code", "coverage_start", "coverage_end", "status",
                  "created_at")
        export_order = fields

    def dehydrate_document_type(self, obj):
        return obj.enrollment.person.get_document_type_display()

    def dehydrate_document_number(self, obj):
        return self.id_number(obj.enrollment.person.document_number)

    def dehydrate_scheme(self, obj):
        return obj.scheme.get_kind_display()

    def dehydrate_tier(self, obj):
        return TIER_NAMES.get(obj.enrollment.tier, "")

    def dehydrate_channel(self, obj):
        return obj.get_channel_display()

    def dehydrate_subsidy_payer(self, obj):
        return obj.get_subsidy_payer_display() if obj.subsidy_payer else ""

    def dehydrate_relation_to_payer(self, obj):
        return obj.get_relation_to_payer_display()

    def dehydrate_basic_confirmed(self, obj):
        return _yes_no(obj.enrollment.basic_confirmed)

    def dehydrate_window_code(self, obj):
        """The window's name (e.g. 集中缴费期), not its code; export-only column."""
        if not obj.window_code:
            return ""
        key = (obj.enrollment.plan_year_id, obj.window_code)
        names = self.__dict__.setdefault("_window_names", {})
        if key not in names:
            names[key] = selectors.window_name(*key)
        return names[key]

    def dehydrate_status(self, obj):
        return Enrollment.Status(obj.enrollment.status).label
