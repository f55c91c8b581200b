"""PostgreSQL COPY of model rows: the columns come from the model (so a column another
branch adds, with its default, is filled), the ids are taken ahead from the table's
sequence so that rows can point at each other without reading them back."""
from __future__ import annotations

from django.db import connection
from django.db.models import NOT_PROVIDED
from django.utils import timezone
from psycopg.types.json import Jsonb


class Table:
    """One model's COPY: ``write(**values)`` per row; unset fields take the field's default
    (``auto_now``/``auto_now_add``: now; a nullable field without default: NULL)."""

    def __init__(self, model, copy, fields):
        self.model, self.copy = model, copy
        self.fields = fields
        self.rows = 0

    def write(self, **values):
        row = self.template.copy()
        for name, value in values.items():
            row[self.index[name]] = value
        self.copy.write_row(row)
        self.rows += 1


def _fields(model, ids: bool):
    return [f for f in model._meta.concrete_fields if ids or not f.primary_key]


def _defaults(fields):
    now = timezone.now()
    names, template = [], []
    for field in fields:
        names.append(field.attname)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            template.append(now)
        elif field.default is not NOT_PROVIDED:
            value = field.get_default()
            template.append(Jsonb(value) if isinstance(value, (dict, list)) else value)
        elif field.null:
            template.append(None)
        elif field.empty_strings_allowed and field.get_internal_type() not in ("DateField", "DateTimeField",
                                                                                "TimeField"):
            template.append("")
        else:
            template.append(None)  # must be given by the caller
    return names, template


class copy_rows:
    """``with copy_rows(cursor, Model) as table: table.write(id=…, field=…)`` — one COPY
    statement; ``ids=False``: the ids come from the table's sequence. The ledger's balance
    trigger runs once per statement: write whole journals."""

    def __init__(self, cursor, model, *, ids: bool = True):
        self.cursor, self.model = cursor, model
        self.fields = _fields(model, ids)

    def __enter__(self) -> Table:
        names, template = _defaults(self.fields)
        columns = [f.column for f in self.fields]
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        self._copy_cm = self.cursor.copy(f"COPY {self.model._meta.db_table} ({quoted}) FROM STDIN")
        copy = self._copy_cm.__enter__()
        table = Table(self.model, copy, names)
        index = {}
        for i, field in enumerate(self.fields):
            index[field.attname] = i
            index[field.name] = i
        table.index, table.template = index, template
        return table

    def __exit__(self, *exc):
        return self._copy_cm.__exit__(*exc)


def reserve_ids(cursor, model, n: int) -> int:
    """The first of ``n`` consecutive ids reserved from the table's sequence."""
    table = model._meta.db_table
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s)", [sequence])
    first = cursor.fetchone()[0]
    cursor.execute("SELECT setval(%s, %s)", [sequence, first + n])
    return first
