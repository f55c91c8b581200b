"""Bulk writes for batch settlement: one prepared INSERT run for many rows
(``executemany``, pipelined by psycopg 3 on PostgreSQL), for the result lines and the
history rows that a batch writes by the hundred thousand. Django's ``bulk_create``
compiles every value of every row through the field machinery and costs more than the
settlement itself (docs/benchmarks.md).

Values are adapted the way the model fields would (``get_db_prep_save``) only where the
Python type needs it (Decimal, date/datetime, JSON); everything else is passed as is.
"""
from __future__ import annotations

from django.db import connection, models


def _adapter(field: models.Field):
    ops = connection.ops
    if isinstance(field, models.JSONField):
        return lambda v: field.get_db_prep_save(v, connection)
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda v: ops.adapt_decimalfield_value(v, digits, places)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    return None


def insert_rows(model: type[models.Model], fields: list[models.Field], rows) -> int:
    """INSERT ``rows`` (sequences of Python values, one per field of ``fields``) into
    ``model``'s table with one prepared statement."""
    ops = connection.ops
    sql = (f"INSERT INTO {ops.quote_name(model._meta.db_table)} "
           f"({', '.join(ops.quote_name(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    adapters = [(i, a) for i, a in enumerate(_adapter(f) for f in fields) if a is not None]
    params = []
    for row in rows:
        row = list(row)
        for i, adapt in adapters:
            if row[i] is not None:
                row[i] = adapt(row[i])
        params.append(row)
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)


def insert_many(model: type[models.Model], objs, *, exclude=("id",)) -> int:
    """INSERT ``objs`` (unsaved instances of ``model``); the primary key (``exclude``) is
    left to the database."""
    fields = [f for f in model._meta.concrete_fields if f.attname not in exclude]
    names = [f.attname for f in fields]
    return insert_rows(model, fields, ([getattr(o, n) for n in names] for o in objs))


def insert_history(model: type[models.Model], objs, *, user, reason: str, when, created: bool) -> int:
    """The django-simple-history rows of ``objs`` (changed, or ``created``): the rows
    ``bulk_history_create`` would write, without building a model instance per row."""
    history = model.history.model
    tracked = [f.attname for f in history.tracked_fields]
    meta = {"history_date": when, "history_user_id": getattr(user, "pk", None),
            "history_change_reason": reason, "history_type": "+" if created else "~"}
    fields = [f for f in history._meta.concrete_fields if f.attname != history._meta.pk.attname]
    names = [f.attname for f in fields]
    unknown = set(names) - set(tracked) - set(meta)
    if unknown:  # a history field this writer does not know how to fill
        raise ValueError(f"insert_history: unexpected history fields {sorted(unknown)}")
    return insert_rows(history, fields, ([meta[n] if n in meta else getattr(o, n) for n in names]
                                         for o in objs))
