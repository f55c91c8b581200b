"""django-import-export resources of the rule tables and the plan-year workbook
(spec README §5 "Parameters are rows", §6 bad input; docs/policy-sheets.md).

One resource per table of ``RULE_MODELS`` (``RULE_RESOURCES``), generated from the
model's fields: the headers are the fields' Chinese verbose names, the plan year is one
column “统筹区代码/险种/年度” (``500231/resident_basic/2024``), a foreign key is written as
a code (identity and disease codes, a window's or responsibility's code of the same plan
year), a choice as its Chinese label, a boolean as 是/否, a date as ``YYYY-MM-DD`` and a
number as a numeric cell. Every text cell is guarded against formula injection.

The same widgets read the cells back (``CellWidget.parse``): a choice accepts the code or
the Chinese label, an identity or a disease its code or its name. The plan-year import
(``policies.rule_sheets``) uses them; it does not go through django-import-export's
``import_data`` (all-or-nothing with every error reported, the loader's checks).

``write_plan_year_workbook`` writes one .xlsx with one sheet per rule table (every table,
a header-only sheet for a table without rows, so that the file is also the template).
"""
from __future__ import annotations

import functools
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import models
from import_export import fields, resources, widgets

from sheets.excel import export_file_name, export_text, typed_cell
from sheets.parsing import (
    CellError,
    CodeTable,
    normalise_text,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    text,
)

from .access import user_can_access
from .codes import SchemeKind
from .loading import data_fields
from .models import RULE_MODELS, ChronicDisease, Identity, PlanYear

PLAN_YEAR_HEADER = "统筹区代码/险种/年度"


def plan_year_code(plan_year: PlanYear) -> str:
    """The plan year as written in the workbook: ``500231/resident_basic/2024``."""
    return f"{plan_year.scheme.region.code}/{plan_year.scheme.kind}/{plan_year.year}"


def header_of(field: models.Field) -> str:
    return PLAN_YEAR_HEADER if field.name == "plan_year" else str(field.verbose_name)


def column_fields(model) -> list[models.Field]:
    """The workbook columns of a rule table: plan year, own fields, 备注/依据 last."""
    own = [f for f in data_fields(model) if f.name not in ("plan_year", "note")]
    return [model._meta.get_field("plan_year"), *own, model._meta.get_field("note")]


# --------------------------------------------------------------------------- widgets


class CellWidget(widgets.Widget):
    """Renders a field's value as a cell (export) and parses a non-empty cell back
    (``parse``; raises ``CellError`` with a Chinese message). ``lookups`` is the import's
    ``policies.rule_sheets.Lookups`` (codes of the plan year, identities, diseases)."""

    def __init__(self, field: models.Field):
        super().__init__()
        self.field = field
        self.header = header_of(field)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value

    def clean(self, value, row=None, **kwargs):  # django-import-export's entry point
        return self.parse(value, kwargs.get("lookups"))

    def parse(self, value, lookups):
        return text(value)


class ChoiceWidget(CellWidget):
    def __init__(self, field):
        super().__init__(field)
        self.table = CodeTable(self.header, field.choices)

    def render(self, value, obj=None, **kwargs):
        return self.table.label(value)

    def parse(self, value, lookups):
        return self.table(value)


class BoolWidget(CellWidget):
    def render(self, value, obj=None, **kwargs):
        return "" if value is None else ("是" if value else "否")

    def parse(self, value, lookups):
        return parse_bool(value)


class IntWidget(CellWidget):
    def parse(self, value, lookups):
        try:
            return parse_int(value)
        except CellError as exc:
            raise CellError(f"“{self.header}”须为整数：{value}") from exc


class DecimalWidget(CellWidget):
    def render(self, value, obj=None, **kwargs):
        return value  # a Decimal: a numeric cell

    def parse(self, value, lookups):
        places = self.field.decimal_places
        try:
            return parse_decimal(value, places=places, allow_negative=True)
        except CellError as exc:
            raise CellError(f"“{self.header}”须为数字，最多 {places} 位小数：{value}") from exc


class DateWidget(CellWidget):
    def render(self, value, obj=None, **kwargs):
        return value if isinstance(value, date) else ""  # a date cell (yyyy-mm-dd)

    def parse(self, value, lookups):
        return parse_date(value)


class IdentityWidget(CellWidget):
    """特殊身份 by code (export) — code or name on import."""

    def render(self, value, obj=None, **kwargs):
        return value.code if value is not None else ""

    def parse(self, value, lookups):
        return lookups.identity(value, self.header)


class DiseaseWidget(CellWidget):
    """病种 of the plan year's region catalogue by code (export) — code or name on import."""

    def render(self, value, obj=None, **kwargs):
        return value.code if value is not None else ""

    def parse(self, value, lookups):
        return lookups.disease(value, self.header)


class RowWidget(CellWidget):
    """A row of the same plan year (a standard's window, a ratio's responsibility) by its
    ``code``."""

    def render(self, value, obj=None, **kwargs):
        return value.code if value is not None else ""

    def parse(self, value, lookups):
        return lookups.row(self.field.related_model, value, self.header)


class PlanYearWidget(CellWidget):
    """The plan year as “统筹区代码/险种/年度”; on import it must name the target plan year
    (region by code or name, scheme kind by code or Chinese name)."""

    kinds = CodeTable("险种类别", SchemeKind.choices)

    def render(self, value, obj=None, **kwargs):
        return plan_year_code(value) if value is not None else ""

    def parse(self, value, lookups):
        target = lookups.plan_year
        parts = [p.strip() for p in text(value).replace("／", "/").split("/")]
        if len(parts) != 3:
            raise CellError(f"须写成“统筹区代码/险种/年度”，如 {plan_year_code(target)}")
        region, kind, year = parts
        region_ok = normalise_text(region) in (target.scheme.region.code,
                                               normalise_text(target.scheme.region.name))
        try:
            kind_ok = self.kinds(kind) == target.scheme.kind
            year_ok = parse_int(year) == target.year
        except CellError:
            kind_ok = year_ok = False
        if not (region_ok and kind_ok and year_ok):
            raise CellError(f"本行属于另一年度方案；导入目标为 {plan_year_code(target)}"
                            f"（{target.scheme.region.name} {target.scheme.name} {target.year} 年度）")
        return target


def widget_for(field: models.Field) -> CellWidget:
    if field.name == "plan_year":
        return PlanYearWidget(field)
    if field.is_relation:
        if field.related_model is Identity:
            return IdentityWidget(field)
        if field.related_model is ChronicDisease:
            return DiseaseWidget(field)
        if field.related_model in RULE_MODELS:
            return RowWidget(field)
        raise TypeError(f"{field} 不能写入参数表")  # a new kind of foreign key: add a widget
    if field.choices:
        return ChoiceWidget(field)
    if isinstance(field, models.BooleanField):
        return BoolWidget(field)
    if isinstance(field, models.DecimalField):
        return DecimalWidget(field)
    if isinstance(field, models.DateField):
        return DateWidget(field)
    if isinstance(field, models.IntegerField):
        return IntWidget(field)
    return CellWidget(field)


# --------------------------------------------------------------------------- resources


class RuleResource(resources.ModelResource):
    """Base of the generated rule-table resources (export; see module docstring)."""

    rule_model: type[models.Model] | None = None

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def export_field(self, field, instance, **kwargs):
        return export_text(super().export_field(field, instance, **kwargs))

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related(*related_paths(self.rule_model))


def related_paths(model) -> list[str]:
    paths = ["plan_year__scheme__region"]
    paths += [f.name for f in data_fields(model) if f.is_relation and f.name != "plan_year"]
    return paths


def make_rule_resource(model) -> type[RuleResource]:
    attrs, names = {}, []
    for f in column_fields(model):
        attrs[f.name] = fields.Field(attribute=f.name, column_name=header_of(f),
                                     widget=widget_for(f), readonly=True)
        names.append(f.name)
    meta = type("Meta", (), {"model": model, "fields": tuple(names), "export_order": tuple(names)})
    return type(f"{model.__name__}Resource", (RuleResource,),
                {**attrs, "Meta": meta, "rule_model": model, "__module__": __name__,
                 "__doc__": f"{model._meta.verbose_name}（{model.__name__}）."})


RULE_RESOURCES: dict[type[models.Model], type[RuleResource]] = {
    model: make_rule_resource(model) for model in RULE_MODELS}
"""One django-import-export resource per rule table."""


@functools.cache
def sheet_resource(model) -> RuleResource:
    """The table's resource as the plan-year workbook uses it — its headers, each row's
    cells (``export_resource``) and its fields' widgets (the import's cell parsers) — built
    once per process: a resource keeps nothing between calls, and building one deep-copies
    its fields (≈ 5 ms per table, 24 tables per workbook). The workbook's permission check
    is ``check_export_permission``'s, not the resource's."""
    return RULE_RESOURCES[model]()


# --------------------------------------------------------------------------- workbook


def sheet_title(model) -> str:
    return str(model._meta.verbose_name)[:31]


def plan_year_rows(model, plan_year: PlanYear):
    """The rows of one table of a plan year in the admin's order (then by id)."""
    ordering = [o for o in (model._meta.ordering or []) if o.lstrip("-") != "plan_year"]
    return (model.objects.filter(plan_year=plan_year).select_related(*related_paths(model))
            .order_by(*ordering, "pk"))


def workbook_tables(plan_year: PlanYear, *, user=None):
    """(model, headers, rows as cell values) of every rule table of the plan year."""
    for model in RULE_MODELS:
        resource = sheet_resource(model)
        headers = resource.get_export_headers()
        rows = [resource.export_resource(obj) for obj in plan_year_rows(model, plan_year)]
        yield model, headers, rows


def check_export_permission(user, plan_year: PlanYear) -> None:
    """``user`` may export the plan year: view permission and the plan year's region."""
    if user is None:
        return
    if not user.has_perm("policies.view_planyear") or not user_can_access(
            user, plan_year, "scheme__region"):
        raise PermissionDenied(f"您无权导出年度方案“{plan_year}”的参数表")


HEADER_STYLE = "表头"


def write_plan_year_workbook(plan_year: PlanYear, target, *, user=None) -> dict:
    """Write the plan year's workbook to ``target`` (path or binary file). ``user``:
    checked against the plan year's region (``None`` = a system job). Returns the number
    of rows per table (model → n)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, NamedStyle, PatternFill
    from openpyxl.utils import get_column_letter

    check_export_permission(user, plan_year)
    book = Workbook(write_only=True)
    # the header cells' style, registered once: a cell then takes its index, instead of
    # a Font and a PatternFill built and looked up (hashed) per header cell
    book.add_named_style(NamedStyle(name=HEADER_STYLE, font=Font(bold=True),
                                    fill=PatternFill("solid", fgColor="DDEBF7")))
    counts = {}
    for model, headers, rows in workbook_tables(plan_year, user=user):
        sheet = book.create_sheet(title=sheet_title(model))
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(header) * 2 + 4))
        sheet.freeze_panes = "B2"
        head = []
        for header in headers:
            cell = typed_cell(sheet, header)
            cell.style = HEADER_STYLE
            head.append(cell)
        sheet.append(head)
        for row in rows:
            sheet.append([typed_cell(sheet, "" if v is None else v) for v in row])
        counts[model] = len(rows)
    book.save(target)
    return counts


def workbook_file_name(plan_year: PlanYear) -> str:
    scheme = plan_year.scheme
    return export_file_name(f"{plan_year.year}年度参数表", scheme.region.name, scheme.name)
