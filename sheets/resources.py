"""Export resources built from a kind's columns (docs/spreadsheets.md §导出): one
django-import-export ``ModelResource`` per kind, made by ``build_resource`` from the same
``Column`` list the import reads, so an export carries the import's Chinese headers in
the same order and re-imports unchanged.

The cell of a column (``SheetResource.export_field``):

- ``column.export(obj, resource)`` when the column has one (values that are not one
  attribute: the given layers of a claim, a window's name);
- else the value at ``column.attribute`` (an ORM path, default the key), written through
  ``column.render``, or the parser's ``label`` (a ``CodeTable``'s Chinese name, a
  region's name) when the parser has one;
- ``column.mask(user, value)`` for a user's export (``user=None``: a system job, full
  values): ID, phone and bank numbers the user may not see in full;
- native values for typed xlsx cells (``sheets.excel``: ``Decimal``, dates, local
  datetimes), 是/否 for booleans, and text guarded (``sheets.excel.export_text``).
"""
from __future__ import annotations

from datetime import datetime

from import_export import fields, resources

from .excel import export_text, local_naive


def field_name(column) -> str:
    """The resource field of a column (an attribute name: ``given:x:paid`` → ``given_x_paid``)."""
    return column.key.replace(":", "_")


class SheetResource(resources.ModelResource):
    """Base of the generated resources: the acting ``user`` and the columns
    (``sheets.registry.Column``) by field name."""

    sheet_columns: dict = {}

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def memo(self, key, compute):
        """``compute()`` once per export (e.g. a name looked up for many rows)."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def cell(self, column, field, obj):
        if column.export is not None:
            value = column.export(obj, self)
        else:
            value = field.get_value(obj)
            render = column.render or getattr(column.parser, "label", None)
            if render is not None:
                value = render(value)
        if column.mask is not None and self.user is not None:
            value = column.mask(self.user, value)
        return value

    def export_field(self, field, instance, **kwargs):
        value = self.cell(self.sheet_columns[self.get_field_name(field)], field, instance)
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, datetime):
            return local_naive(value)
        return export_text(value)


def build_resource(name: str, model, columns: list, doc: str = "") -> type[SheetResource]:
    """The export resource of ``model`` with one read-only field per column, in order."""
    attrs = {"__module__": __name__, "__doc__": doc or name, "sheet_columns": {}}
    for column in columns:
        key = field_name(column)
        attrs[key] = fields.Field(attribute=column.attribute or column.key, column_name=column.header,
                                  readonly=True)
        attrs["sheet_columns"][key] = column
    order = tuple(attrs["sheet_columns"])
    attrs["Meta"] = type("Meta", (), {"model": model, "fields": order, "export_order": order})
    return type(name, (SheetResource,), attrs)
