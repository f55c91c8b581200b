"""Bulk writes without Django's per-value field machinery — PostgreSQL ``COPY`` (psycopg 3),
elsewhere one prepared INSERT run for many rows (``executemany``) — for the spreadsheet
imports (``sheets.engine``) and batch settlement (``claims.batch``), which write rows
and their history by the hundred thousand. Django's ``bulk_create`` compiles every
value of every row through the field machinery and costs more than the validation
itself (docs/benchmarks.md).

Values are adapted the way the model fields would (``get_db_prep_save``) only where the
Python type needs it (Decimal, date/datetime, JSON); everything else is passed as is.
History rows are the ones django-simple-history's ``bulk_history_create`` writes
(every tracked field, ``history_date``, ``history_user``, ``history_change_reason``,
``history_type``), built without a model instance per row — or, for rows just inserted,
written by the database from them (``insert_history_stored``: ``INSERT … SELECT``).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from operator import attrgetter, itemgetter

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, connections, models, router
from django.db.models.lookups import In
from django.db.transaction import TransactionManagementError

try:  # psycopg 3 (PostgreSQL): the global adapters, with the loaders in C where installed
    from psycopg import adapters as psycopg_adapters
    from psycopg.adapt import PyFormat, Transformer
    from psycopg.pq import Format
except ImportError:  # pragma: no cover - SQLite only
    psycopg_adapters = Format = PyFormat = Transformer = None


class JsonText(str):
    """A value of a JSON column already encoded as JSON text (e.g. joined from parts
    encoded once and reused): written as it is, not encoded again."""


def _adapter(field: models.Field):
    ops = connection.ops
    if isinstance(field, models.JSONField):
        if connection.vendor == "postgresql":  # COPY's text form of jsonb is the JSON text
            encoder = field.encoder
            return lambda v: v if type(v) is JsonText else json.dumps(v, cls=encoder)
        return lambda v: str(v) if type(v) is JsonText else field.get_db_prep_save(v, connection)
    if connection.vendor == "postgresql":  # the backend's adapt_*field_value return the value
        return None
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda v: ops.adapt_decimalfield_value(v, digits, places)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.UUIDField):  # no uuid type: 32 hex digits
        return lambda v: field.get_db_prep_save(v, connection)
    return None


def _insert_sql(model, fields) -> str:
    ops = connection.ops
    return (f"INSERT INTO {ops.quote_name(model._meta.db_table)} "
            f"({', '.join(ops.quote_name(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})")


def _params(fields, rows, *, encoded: bool = False) -> list[list]:
    adapters = [(i, a) for i, a in enumerate(_adapter(f) for f in fields) if a is not None]
    if encoded and connection.vendor == "postgresql":  # every JSON value already ``JsonText``
        adapters = [(i, a) for i, a in adapters if not isinstance(fields[i], models.JSONField)]
    if not adapters:  # tuples and lists are written as they are
        return [row if type(row) in (list, tuple) else list(row) for row in rows]
    params = []
    for row in rows:
        row = list(row)
        for i, adapt in adapters:
            if row[i] is not None:
                row[i] = adapt(row[i])
        params.append(row)
    return params


def insert_rows(model: type[models.Model], fields: list[models.Field], rows, *,
                return_ids: bool = False, encoded: bool = False):
    """INSERT ``rows`` (sequences of Python values, one per field of ``fields``) into
    ``model``'s table (COPY on PostgreSQL, else one prepared statement). Returns the
    number of rows, or with ``return_ids`` the primary keys given by the database, in
    the order of ``rows``. ``encoded``: every value of a JSON field is ``JsonText``
    (on PostgreSQL the rows are then written as they are, no value looked at)."""
    params = _params(fields, rows, encoded=encoded)
    if not params:
        return [] if return_ids else 0
    if connection.vendor == "postgresql":
        return _pg_copy(model, fields, params, return_ids)
    sql = _insert_sql(model, fields)
    with connection.cursor() as cursor:
        if not return_ids:
            cursor.executemany(sql, params)
            return len(params)
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"insert_rows(return_ids=True) on {connection.vendor}")
        # The statement runs inside the caller's transaction, which holds SQLite's write
        # lock from its first write: no other connection inserts in between, so the
        # AUTOINCREMENT keys of these rows are consecutive and end at last_insert_rowid().
        cursor.executemany(sql, params)
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
        first = last - len(params) + 1
        pk = connection.ops.quote_name(model._meta.pk.column)
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)} "
                       f"WHERE {pk} BETWEEN %s AND %s", [first, last])
        if cursor.fetchone()[0] != len(params):
            raise DatabaseError(f"{model._meta.db_table}: inserted keys are not consecutive")
        return list(range(first, last + 1))


# PostgreSQL: a new row's key from its table's own sequence (parameters: the table and its
# key column). The sequence is found once per statement (an InitPlan), not once per row:
# pg_get_serial_sequence is a catalog look-up, and per row it cost 8 times the keys themselves.
NEXT_KEY_SQL = "nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass))"


def _pg_copy(model, fields, params: list[list], return_ids: bool):
    """PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3) of the rows, in the caller's
    transaction. With ``return_ids`` the keys are first taken from the table's own
    sequence (``nextval``: safe under concurrency) and written explicitly."""
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = [f.column for f in fields]
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        ids = None
        if return_ids:
            pk = model._meta.pk.column
            cursor.execute(f"SELECT {NEXT_KEY_SQL} FROM generate_series(1, %s)",
                           [model._meta.db_table, pk, len(params)])
            ids = [r[0] for r in cursor.fetchall()]
            columns = [pk, *columns]
        rows = params if ids is None else ([pk_value, *row] for pk_value, row in zip(ids, params, strict=True))
        stamp = _repeated_stamps(cursor, fields, 0 if ids is None else 1)
        if stamp is not None:  # it replaces values in place: the caller's rows copied first
            rows = map(stamp, rows if ids is not None else map(list, rows))
        with cursor.copy(f"COPY {table} ({', '.join(ops.quote_name(c) for c in columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return ids if return_ids else len(params)


def _repeated_stamps(cursor, fields, shift: int):
    """``stamp(row)`` for the COPY rows of ``fields`` (at ``shift`` in the row), or None
    without a date or date-time field: a value repeated from the row before in its column
    is replaced by the text psycopg writes for it — the same characters sent, without
    formatting it again per row (in C, ≈ 1.2 µs a date-time with its time zone, ≈ 0.35 µs
    a date: a third of a person row's COPY). A date-time repeats when it is the very same
    object (a write's ``now``, in every row's ``created_at``/``updated_at``: two equal
    instants in other time zones are written apart), a ``date`` when it is equal (a file's
    payment date, an enrollment's coverage). Any other value is left to psycopg."""
    columns = [i + shift for i, f in enumerate(fields) if isinstance(f, models.DateField)]
    if not columns:
        return None
    transformer = Transformer.from_context(cursor)
    last = {i: (None, None) for i in columns}  # column → (the value, its text or None)

    def stamp(row: list) -> list:
        for i in columns:
            value = row[i]
            kind = type(value)
            if kind is datetime or kind is date:
                seen, shown = last[i]
                if value is not seen and (kind is not date or type(seen) is not date or value != seen):
                    last[i] = (value, None)  # a new value: left to psycopg, remembered
                    continue
                if shown is None:  # its second row: its text, as psycopg writes it
                    shown = bytes(transformer.get_dumper(value, PyFormat.TEXT).dump(value)).decode()
                    last[i] = (value, shown)
                row[i] = shown
        return row

    return stamp


def insert_values(model: type[models.Model], rows: list[dict], *, now, return_ids: bool = True):
    """INSERT ``rows`` (dicts of attname → value) as new rows of ``model``. Each dict is
    completed in place as ``save()`` would store it — a missing field gets its default
    (evaluated once per call), ``auto_now``/``auto_now_add`` fields ``now`` — and, with
    ``return_ids``, gets its primary key (so it can be passed on to ``insert_history``);
    returns the keys (else the number of rows)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        else:
            defaults[f.attname] = f.get_default()
    names = [f.attname for f in fields]
    for row in rows:
        for name in defaults.keys() - row.keys():  # a set difference in C, not a test per field
            row[name] = defaults[name]
    ids = insert_rows(model, fields, map(_getter(itemgetter, names), rows), return_ids=return_ids)
    if not return_ids:
        return ids
    pk = model._meta.pk.attname
    for row, value in zip(rows, ids, strict=True):
        row[pk] = value
    return ids


def update_rows(model: type[models.Model], names: list[str], objs, *, history: dict | None = None) -> int:
    """UPDATE the fields ``names`` (attnames) of ``objs`` (saved instances) by primary key.
    PostgreSQL: the new values are copied (``COPY``) into a temporary table and applied
    by one ``UPDATE … FROM``; elsewhere one prepared UPDATE run for every row. Django's
    ``bulk_update`` builds one CASE expression per field and row and costs more than the
    work it saves. ``history`` (``user``, ``reason``, ``when``): also the changed rows'
    django-simple-history rows, those ``insert_history(created=False)`` writes, in the
    order of ``objs`` — on PostgreSQL written by the same statement from the rows it
    updated (``WITH u AS (UPDATE … RETURNING …) INSERT INTO history … SELECT``: no value
    of the history sent from here), elsewhere by ``insert_history``."""
    ops = connection.ops
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    pk = meta.pk
    params = _params(fields, ([getattr(o, n) for n in names] for o in objs))
    if not params:
        return 0
    ids = [o.pk for o in objs]
    table = ops.quote_name(meta.db_table)
    if connection.vendor != "postgresql":
        sets = ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields)
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {ops.quote_name(pk.column)} = %s",
                               [[*row, pk_value] for row, pk_value in zip(params, ids, strict=True)])
        if history is not None:
            insert_history(model, objs, user=history["user"], reason=history["reason"], when=history["when"],
                           created=False)
        return len(params)
    columns = [pk.column, *(f.column for f in fields)]
    listed = ", ".join(ops.quote_name(c) for c in columns)
    temp = ops.quote_name(f"_update_{meta.db_table}")
    sets = ", ".join(f"{ops.quote_name(f.column)} = u.{ops.quote_name(f.column)}" for f in fields)
    where = f"t.{ops.quote_name(pk.column)} = u.{ops.quote_name(pk.column)}"
    statement, values = f"UPDATE {table} AS t SET {sets} FROM {temp} AS u WHERE {where}", []
    if history is not None:  # the order of ``objs`` kept by a column of the temporary table
        copied, own = _history_columns(model)
        into = ", ".join(ops.quote_name(c) for c in [*(h for h, _ in copied), *own])
        returned = ", ".join(f"t.{ops.quote_name(c)} AS _{i}" for i, (_, c) in enumerate(copied))
        statement = (f"WITH changed AS ({statement} RETURNING {returned}, u._order) "
                     f"INSERT INTO {ops.quote_name(model.history.model._meta.db_table)} ({into}) "
                     f"SELECT {', '.join(f'_{i}' for i in range(len(copied)))}, %s, %s, %s, %s "
                     "FROM changed ORDER BY _order")
        values = _history_own(model, history["user"], history["reason"], history["when"], created=False)
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS SELECT 0 AS _order, {listed} "
                       f"FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY {temp} (_order, {listed}) FROM STDIN") as copy:
            for order, (pk_value, row) in enumerate(zip(ids, params, strict=True)):
                copy.write_row([order, pk_value, *row])
        cursor.execute(statement, values)
        updated = cursor.rowcount
        cursor.execute(f"DROP TABLE {temp}")
    if updated != len(params):
        raise DatabaseError(f"{meta.db_table}: {len(params)} rows to update, {updated} updated")
    return updated


def _history_columns(model: type[models.Model]) -> tuple[list[tuple[str, str]], list[str]]:
    """The columns of ``model``'s history table copied from the model's own, as (history
    column, model column) pairs of the tracked fields in the history's column order, and
    the columns of the history's own values (``_history_own``); ``ValueError`` for a
    history field neither knows."""
    history = model.history.model
    own = ["history_date", "history_user_id", "history_change_reason", "history_type"]
    tracked = {f.attname: f.column for f in history.tracked_fields}
    fields = [f for f in history._meta.concrete_fields if f.attname != history._meta.pk.attname]
    unknown = {f.attname for f in fields} - set(tracked) - set(own)
    if unknown:  # a history field this writer does not know how to fill
        raise ValueError(f"{model._meta.label}: unexpected history fields {sorted(unknown)}")
    return ([(f.column, tracked[f.attname]) for f in fields if f.attname in tracked],
            [history._meta.get_field(n).column for n in own])


def _history_own(model: type[models.Model], user, reason: str | None, when, *, created: bool) -> list:
    """The values of the history's own columns (``_history_columns``), as a ``save()``
    records them."""
    date_field = model.history.model._meta.get_field("history_date")
    return [date_field.get_db_prep_save(when, connection), getattr(user, "pk", None), reason,
            "+" if created else "~"]


def insert_history(model: type[models.Model], objs: Iterable, *, user, reason: str | None, when,
                   created: bool) -> int:
    """The django-simple-history rows of ``objs`` (changed, or ``created``): the rows
    ``bulk_history_create`` would write, without building a model instance per row.
    ``objs`` are saved instances, or dicts of attname → value including the primary key."""
    history = model.history.model
    tracked = [f.attname for f in history.tracked_fields]
    meta = {"history_date": when, "history_user_id": getattr(user, "pk", None),
            "history_change_reason": reason, "history_type": "+" if created else "~"}
    fields = [f for f in history._meta.concrete_fields if f.attname != history._meta.pk.attname]
    names = [f.attname for f in fields]
    unknown = set(names) - set(tracked) - set(meta)
    if unknown:  # a history field this writer does not know how to fill
        raise ValueError(f"insert_history: unexpected history fields {sorted(unknown)}")
    # the tracked columns first, then the history's own (the same for every row)
    copied = [n for n in names if n not in meta]
    fields = sorted(fields, key=lambda f: f.attname in meta)
    constant = tuple(meta[f.attname] for f in fields if f.attname in meta)
    by_key, by_attr = _getter(itemgetter, copied), _getter(attrgetter, copied)

    def values(o):
        return (*(by_key if isinstance(o, Mapping) else by_attr)(o), *constant)

    return insert_rows(history, fields, map(values, objs))


_STORED_SQL: dict[tuple[str, str, str, str], str] = {}


def insert_history_stored(model: type[models.Model], ids, *, user, reason: str | None, when,
                          created: bool, column: str | None = None) -> int:
    """The django-simple-history rows of the stored rows of ``model`` whose primary key
    (or ``column``, e.g. ``claim_id``) is in ``ids``, copied by the database itself — one
    ``INSERT INTO history … SELECT … FROM table WHERE id …`` (``keys_match``; elsewhere
    ``IN``), in key order — with the history's own columns as ``insert_history`` sets them (the
    values a ``save()`` records: ``history_date`` = ``when``, ``history_user``, the
    reason, ``history_type`` ``+``/``~``). For rows just written: nothing is sent back
    and forth but the keys. The statement's text is built once per process."""
    ids = list(ids)
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        match, match_params = keys_match(ids)
    else:
        match, match_params = f"IN ({', '.join(['%s'] * len(ids))})", ids
    history = model.history.model
    ops = connection.ops
    source = model._meta.get_field(column).column if column else model._meta.pk.column
    key = (model._meta.label, source, connection.vendor, connection.alias)
    sql = _STORED_SQL.get(key)
    if sql is None:
        copied, own = _history_columns(model)
        table, pk = ops.quote_name(model._meta.db_table), ops.quote_name(model._meta.pk.column)
        sql = _STORED_SQL[key] = (
            f"INSERT INTO {ops.quote_name(history._meta.db_table)} "
            f"({', '.join(ops.quote_name(c) for c in [*(h for h, _ in copied), *own])}) "
            f"SELECT {', '.join(ops.quote_name(c) for _, c in copied)}, %s, %s, %s, %s "
            f"FROM {table} WHERE {ops.quote_name(source)} {{match}} ORDER BY {pk}")
    params = _history_own(model, user, reason, when, created=created)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(match=match), [*params, *match_params])
        return cursor.rowcount


def keys_match(ids: list[int]) -> tuple[str, list]:
    """PostgreSQL: the condition (after an integer column) and its parameters that match
    exactly the integer keys ``ids`` (not empty): ``BETWEEN first AND last`` when they are
    every integer of that range (the keys of rows just written, taken from one sequence),
    else ``= ANY`` of the keys as one array parameter (``_array``: many integers sent as
    the array's text, not adapted value by value)."""
    if all(type(i) is int for i in ids):
        first, last = min(ids), max(ids)
        if len(set(ids)) == last - first + 1:
            return "BETWEEN %s AND %s", [first, last]
    return "= ANY(%s)", [_array(ids)]


def _getter(kind, names: list[str]):
    """``itemgetter``/``attrgetter`` of ``names`` that always returns a tuple."""
    if len(names) == 1:
        one = kind(names[0])
        return lambda o: (one(o),)
    return kind(*names)


class InArray(In):
    """``field IN (values)`` for a chunk's worth of keys, used as an expression:
    ``Person.objects.filter(InArray(F("document_number"), numbers))``. On PostgreSQL it
    is ``field = ANY(%s)`` with the values as one array parameter — Django's ``__in``
    writes one placeholder per value, which psycopg's client-side binding then parses
    and quotes one by one (most of a chunk's read time for 2 000 keys); elsewhere it is
    Django's ``IN``."""

    JOINED_FROM = 64  # values from which a list of ints or texts is sent as one text

    def get_prep_lookup(self):
        # Built on an unresolved F(), Django's loop over the values keeps each as it is
        # after two attribute tests per value: ints and texts are kept at once
        rhs = self.rhs
        if (type(rhs) in (list, tuple, set, frozenset) and not hasattr(self.lhs, "output_field")
                and all(type(v) is int or type(v) is str for v in rhs)):
            return list(rhs)
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        lhs_sql, params = self.process_lhs(compiler, connection)
        values = [v for v in self.rhs if v is not None]
        if len(values) >= self.JOINED_FROM:
            # psycopg adapts an array parameter value by value in Python (≈ 1.5 µs each):
            # a chunk's keys go as one text split by the server instead — integers joined
            # by commas, texts by the unit separator, which no imported cell may hold
            # (sheets.parsing.CONTROL_CHARS) and which is checked for anyway
            kind = self.lhs.output_field.get_internal_type()
            if kind in _INTEGER_FIELDS and all(type(v) is int for v in values):
                return (f"{lhs_sql} = ANY(string_to_array(%s, ',')::bigint[])",
                        (*params, ",".join(map(str, values))))
            if kind in ("CharField", "TextField") and all(type(v) is str and v for v in values):
                joined = "\x1f".join(values)
                if joined.count("\x1f") == len(values) - 1:
                    return f"{lhs_sql} = ANY(string_to_array(%s, chr(31)))", (*params, joined)
        return f"{lhs_sql} = ANY(%s)", (*params, values)


_INTEGER_FIELDS = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                   "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
                   "PositiveSmallIntegerField", "ForeignKey", "OneToOneField"}


def _array(values) -> list | str:
    """An array parameter of ``PreparedValues``: many integers as the text of a PostgreSQL
    array (``'{1,2,3}'``, typed by the server as the column's array), which psycopg sends
    as it is, instead of adapting the list value by value in Python (``InArray``'s
    reason); anything else as a list."""
    values = list(values)
    if len(values) >= InArray.JOINED_FROM and all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    return values


class PreparedValues:
    """A read of values (a ``values_list`` queryset) whose SQL Django compiles once per
    process and database: ``build(*args)`` returns the queryset for the call's arguments,
    each a key (int) or a list of keys filtered with ``InArray``. On PostgreSQL, where
    ``InArray`` is one array parameter whatever the number of keys, the SQL compiled for
    stand-in arguments is kept and run again with each call's arguments, its rows
    converted as the queryset converts them (the compiler's converters); compiling a
    query costs more than running it for the few rows of a single settlement. Elsewhere
    (SQLite: one placeholder per key) ``rows`` runs the queryset itself. A locking read
    (``select_for_update``) passes ``locking=True``: the compiled SQL skips the
    queryset's transaction check, so ``rows`` makes it (outside a transaction the lock
    would end with the statement)."""

    # each argument gets its own stand-in: values in range of every integer field (Django
    # compiles an out-of-range value to an empty result); one that a constant parameter
    # of the query also has is found twice and refused (``_compile``)
    _STAND_IN = 32_111

    def __init__(self, build, *, locking: bool = False):
        self.build = build
        self.locking = locking
        self.model = None
        self._compiled: dict[str, tuple] = {}

    def _stand_ins(self, args) -> tuple[list[int], list]:
        stand_ins = [self._STAND_IN - i for i in range(len(args))]
        return stand_ins, [[v] if isinstance(a, list) else v for a, v in zip(args, stand_ins, strict=True)]

    def _compile(self, alias: str, args):
        stand_ins, passed = self._stand_ins(args)
        compiler = self.build(*passed).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        fields = [s[0] for s in compiler.select[:compiler.col_count]]
        converters = compiler.get_converters(fields)
        slots = []
        for value in params:  # an int may come wrapped (psycopg's Int2 for a small field)
            if isinstance(value, int) and type(value) is not bool and value in stand_ins:
                slots.append((stand_ins.index(value), type(value)))
            elif type(value) is list and len(value) == 1 and value[0] in stand_ins:
                slots.append((stand_ins.index(value[0]), list))
            else:
                slots.append((None, value))
        found = sorted(i for i, _ in slots if i is not None)
        if found != list(range(len(args))):  # an argument not passed through as a parameter
            raise ValueError("PreparedValues: each argument must be one parameter of the query")
        return sql, slots, list(converters.items())

    def rows(self, *args) -> list[tuple]:
        """The rows of ``build(*args)`` as tuples, in its order, from the database the
        queryset would read (``router.db_for_read``; ``db_for_write`` when ``locking``)."""
        if self.model is None:
            self.model = self.build(*self._stand_ins(args)[1]).model
        # a locking read goes where the queryset would lock (``select_for_update``: for write)
        using = (router.db_for_write if self.locking else router.db_for_read)(self.model)
        conn = connections[using]
        if conn.vendor != "postgresql":
            return list(self.build(*args).using(using))
        if self.locking and conn.get_autocommit():  # as the SQL compiler refuses it
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using, args)
        sql, slots, converters = compiled
        params = [value if i is None else _array(args[i]) if value is list else value(args[i]) for i, value in slots]
        return _fetch(conn, sql, params, converters)


def values_rows(queryset) -> list[tuple]:
    """The rows of a ``values_list`` queryset as tuples, as iterating it gives them — on
    PostgreSQL read by ``_fetch`` (its timestamps by psycopg's own loader); elsewhere the
    queryset itself. For the reads of thousands of rows with timestamps (batch settlement,
    the simulation: ``claims.fetch.claim_rows``/``person_rows``)."""
    conn = connections[queryset.db]
    if conn.vendor != "postgresql" or queryset.query.select_for_update:
        return list(queryset)
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    fields = [s[0] for s in compiler.select[:compiler.col_count]]
    return _fetch(conn, sql, params, list(compiler.get_converters(fields).items()))


_TIMESTAMPTZ = psycopg_adapters.types["timestamptz"].oid if psycopg_adapters is not None else None


def _fetch(conn, sql: str, params, converters) -> list[tuple]:
    """Run ``sql`` on ``conn`` (PostgreSQL) and return its rows converted as Django's
    compiler converts them (``converters``: position → (functions, expression)). Where
    Django's own time zone and the session's are both UTC, the ``timestamptz`` values are
    read by psycopg's loader (in C): Django's (in Python: ≈ 4 µs a value, a tenth of a
    batch's reads) reads them with that loader and then sets the same UTC ``tzinfo``."""
    with conn.cursor() as cursor:
        raw = cursor.cursor
        if conn.timezone is UTC and raw.connection.info.timezone is UTC:
            raw.adapters.register_loader(_TIMESTAMPTZ, psycopg_adapters.get_loader(_TIMESTAMPTZ, Format.TEXT))
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not converters:
        return rows
    out = []
    for row in rows:
        row = list(row)
        for pos, (functions, expression) in converters:
            value = row[pos]
            for convert in functions:
                value = convert(value, expression, conn)
            row[pos] = value
        out.append(tuple(row))
    return out
