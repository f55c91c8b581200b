"""django-import-export resources of the claims app (exports; docs/spreadsheets.md).

Headers equal to the import columns of ``claims.sheet_kinds`` (an export re-imports as
无变化); codes written as their Chinese names (codes.md); the person's ID number masked
unless the user holds ``policies.view_full_identity``; every text cell guarded against
formula injection (``enrollment.resources.SheetResource``). The querysets are scoped by
the caller (the kind's ``export_queryset`` or the admin) to the user's regions.
"""
from __future__ import annotations

from import_export import fields

from enrollment.resources import SheetResource

from .models import Claim, Hospital
from .sheet_kinds import (
    CLAIM_HEADERS,
    GIVEN_NAMES,
    GIVEN_PARTS,
    HOSPITAL_HEADERS,
    given_header,
)


def _f(attribute, header, **kwargs):
    return fields.Field(attribute=attribute, column_name=header, readonly=True, **kwargs)


def _yes_no(value) -> str:
    return "是" if value else "否"


class HospitalResource(SheetResource):
    """定点医疗机构."""

    h = HOSPITAL_HEADERS
    code = _f("code", h["code"])
    name = _f("name", h["name"])
    region = _f("region", h["region"])
    province = _f("province", h["province"])
    level = _f("level", h["level"])
    grade = _f("grade", h["grade"])
    admin_level = _f("admin_level", h["admin_level"])
    tcm = _f("tcm", h["tcm"])
    children = _f("children", h["children"])
    public = _f("public", h["public"])
    cdrg = _f("cdrg", h["cdrg"])
    designated = _f("designated", h["designated"])
    note = _f("note", h["note"])

    class Meta:
        model = Hospital
        fields = ("code", "name", "region", "province", "level", "grade", "admin_level", "tcm",
                  "children", "public", "cdrg", "designated", "note")
        export_order = fields

    def dehydrate_region(self, obj):
        return obj.region.name if obj.region_id else ""

    def dehydrate_level(self, obj):
        return obj.get_level_display()

    def dehydrate_grade(self, obj):
        return obj.get_grade_display()

    def dehydrate_admin_level(self, obj):
        return obj.get_admin_level_display()

    def dehydrate_tcm(self, obj):
        return _yes_no(obj.tcm)

    def dehydrate_children(self, obj):
        return _yes_no(obj.children)

    def dehydrate_public(self, obj):
        return _yes_no(obj.public)

    def dehydrate_cdrg(self, obj):
        return _yes_no(obj.cdrg)

    def dehydrate_designated(self, obj):
        return _yes_no(obj.designated)


def _given_value(kind: str, part: str):
    def value(obj):
        for layer in obj.given_layers.all():  # prefetched by the export queryset
            if layer.scheme_kind == kind:
                return getattr(layer, part)
        return ""

    return value


CLAIM_FIELDS = (
    "document_type", "document_number", "name", "region", "claim_type", "service_date",
    "discharge_date", "hospital_code", "hospital_name", "settlement_no", "location", "filed",
    "total", "out_of_catalog", "class_b_copay", "compliant", "tcm_compliant", "special_drug",
    "drug_class_a", "drug_class_b", "class_b_items", "out_of_catalog_controlled", "disease",
    "major_disease", "special_b", "delivery_mode", "drug_list", "drug_class", "accepted_on",
    "offline_review", "note",
)
GIVEN_FIELDS = tuple(f"given_{kind}_{part}" for kind in GIVEN_NAMES for part in GIVEN_PARTS)
STATUS_FIELDS = ("year", "status", "fund_total", "personal", "settlement_version", "created_at")
ATTRIBUTES = {"document_type": "person__document_type", "document_number": "person__document_number",
              "name": "person__name", "region": "region__name", "hospital_code": "hospital__code",
              "hospital_name": "hospital__name", "disease": "disease__name"}


class _ClaimResourceBase(SheetResource):
    def dehydrate_document_type(self, obj):
        return obj.person.get_document_type_display()

    def dehydrate_document_number(self, obj):
        return self.id_number(obj.person.document_number)

    def dehydrate_claim_type(self, obj):
        return obj.get_claim_type_display()

    def dehydrate_location(self, obj):
        return obj.get_location_display()

    def dehydrate_filed(self, obj):
        return _yes_no(obj.filed)

    def dehydrate_class_b_items(self, obj):
        return "" if obj.class_b_items is None else obj.class_b_items

    def dehydrate_major_disease(self, obj):
        return obj.get_major_disease_display()

    def dehydrate_special_b(self, obj):
        return _yes_no(obj.special_b)

    def dehydrate_delivery_mode(self, obj):
        return obj.get_delivery_mode_display()

    def dehydrate_drug_class(self, obj):
        return obj.get_drug_class_display()

    def dehydrate_offline_review(self, obj):
        return _yes_no(obj.offline_review)

    def dehydrate_status(self, obj):
        return obj.get_status_display()


def _claim_resource():
    """理赔结算单: the claims import columns (given layers: 带入·<险种>支付/起付线/超封顶线,
    one set per scheme kind), then the settlement status columns."""
    attrs = {"__module__": __name__, "__doc__": "理赔结算单（导出）。"}
    for name in (*CLAIM_FIELDS, *STATUS_FIELDS):
        attrs[name] = _f(ATTRIBUTES.get(name, name), CLAIM_HEADERS[name])
    for kind in GIVEN_NAMES:
        for part in GIVEN_PARTS:
            attrs[f"given_{kind}_{part}"] = fields.Field(
                column_name=given_header(kind, part), readonly=True, dehydrate_method=_given_value(kind, part))
    order = (*CLAIM_FIELDS, *GIVEN_FIELDS, *STATUS_FIELDS)
    attrs["Meta"] = type("Meta", (), {"model": Claim, "fields": order, "export_order": order})
    return type("ClaimResource", (_ClaimResourceBase,), attrs)


ClaimResource = _claim_resource()
