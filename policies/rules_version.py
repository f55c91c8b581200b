"""``PlanYear.rules_version``: the version of a plan year's rule rows, for the settlement
parameter cache (``policies.selectors.region_year_params``).

Every write of a rule row (the tables of ``RULE_MODELS``) gives the row's plan year a new
random ``rules_version``, and so does every write of a row the parameters read through a
rule row: a chronic disease (``ChronicDisease``: every plan year of its region) and a
special identity (``Identity``: every plan year). The database does it, by a trigger on
each of these tables and events, in the transaction of the write — so a save, a delete, a rule-sheet
import, a rollover, ``load_policies``, the admin's inlines, a ``QuerySet.update()`` and a
raw SQL statement all change the version, which no Django signal would guarantee.

The version is random (``gen_random_uuid()`` / ``randomblob``), never a counter: a
process that cached the parameters of a version its own transaction wrote and then rolled
back would otherwise meet the same number again after another transaction's change.

The triggers are (re)installed after every ``migrate`` (``post_migrate``, idempotent): a
later migration that rebuilds a table on SQLite (SQLite drops a table's triggers with it)
gets them back, and a new rule table in ``RULE_MODELS`` gets one without a migration.
``policies/tests/test_rules_version.py`` checks that each table has its trigger.
"""
from __future__ import annotations

from django.db import connections

PLAN_YEAR = "policies_planyear"
SCHEME = "policies_scheme"
# (event, trigger name suffix, the rows a SQLite trigger reads) of each trigger of a table
EVENTS = (("INSERT", "", ("NEW",)), ("UPDATE", "_upd", ("OLD", "NEW")), ("DELETE", "_del", ("OLD",)))


def _tables() -> list[tuple[str, str, str]]:
    """(table, trigger name stem, how the affected plan years are found): ``plan_year`` —
    the row's own plan year; ``region`` — the plan years of the row's region's schemes;
    ``all`` — every plan year."""
    from . import models as pm

    out = [(m._meta.db_table, m._meta.db_table, "plan_year") for m in pm.RULE_MODELS]
    out.append((pm.ChronicDisease._meta.db_table, pm.ChronicDisease._meta.db_table, "region"))
    out.append((pm.Identity._meta.db_table, pm.Identity._meta.db_table, "all"))
    out.append((PLAN_YEAR, PLAN_YEAR, "self"))
    return out


def trigger_names(vendor: str) -> set[tuple[str, str]]:
    """(table, trigger name) of every trigger ``install`` creates on ``vendor``: one per
    event (``EVENTS``); the plan year's own one on update only."""
    names = set()
    for table, stem, how in _tables():
        suffixes = [s for _, s, _ in EVENTS] if how != "self" else ["_upd" if vendor == "sqlite" else ""]
        names.update((table, f"{stem}_rules_version{suffix}") for suffix in suffixes)
    return names


# ---------------------------------------------------------------- PostgreSQL
# One trigger per statement and event, on the statement's rows (transition tables
# ``new_rows`` / ``old_rows``): a statement writing many rule rows (``load_policies``, a
# rollover, a rule-sheet import) gives each plan year it touches one new version, not
# one per row. An update's rows are paired by ``id`` (never changed): a row whose new
# values are its old ones (a page saved unchanged) changes nothing; any other row
# changes the plan years of its old and of its new values.

_PG_KEYS = {"plan_year": "{t}.plan_year_id", "region": "{t}.region_id", "all": "1"}
_PG_WHERE = {
    "plan_year": "WHERE id IN (SELECT k FROM changed)",
    "region": f"WHERE scheme_id IN (SELECT id FROM {SCHEME} WHERE region_id IN (SELECT k FROM changed))",
    "all": "WHERE EXISTS (SELECT FROM changed)",  # a statement without rows changes nothing
}


def _pg_changed(how: str, event: str) -> str:
    """The key (``_PG_KEYS``) of each row the statement changed."""
    key = _PG_KEYS[how]
    if event == "INSERT":
        return f"SELECT {key.format(t='n')} AS k FROM new_rows n"
    if event == "DELETE":
        return f"SELECT {key.format(t='o')} AS k FROM old_rows o"
    return (f"SELECT {key.format(t='n')} AS k FROM new_rows n WHERE NOT EXISTS "
            "(SELECT FROM old_rows o WHERE o.id = n.id AND o IS NOT DISTINCT FROM n) "
            f"UNION ALL SELECT {key.format(t='o')} FROM old_rows o WHERE NOT EXISTS "
            "(SELECT FROM new_rows n WHERE n.id = o.id AND n IS NOT DISTINCT FROM o)")


def _pg_function(how: str) -> str:
    branches = " ELS".join(
        f"IF TG_OP = '{event}' THEN WITH changed AS ({_pg_changed(how, event)}) "
        f"UPDATE {PLAN_YEAR} SET rules_version = gen_random_uuid() {_PG_WHERE[how]};"
        for event, _suffix, _rows in EVENTS)
    return f"""CREATE OR REPLACE FUNCTION policies_rules_version_{how}() RETURNS trigger
               LANGUAGE plpgsql AS $$ BEGIN {branches} END IF; RETURN NULL; END $$"""


_PG_TRANSITION = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                  "DELETE": "OLD TABLE AS old_rows"}
# the plan year's own row: any update that changes it (a save of a stale instance too: its
# old version differs) gets a new version; a save that changes nothing keeps it
_PG_SELF = """CREATE OR REPLACE FUNCTION policies_rules_version_self() RETURNS trigger
              LANGUAGE plpgsql AS $$ BEGIN
              IF NEW IS DISTINCT FROM OLD THEN NEW.rules_version := gen_random_uuid(); END IF;
              RETURN NEW; END $$"""


def _pg_sql() -> list[tuple[str | None, str]]:
    sql = [(None, _pg_function(how)) for how in _PG_KEYS]
    sql.append((None, _PG_SELF))
    for table, stem, how in _tables():
        if how == "self":
            sql.append((table, f"""CREATE OR REPLACE TRIGGER {stem}_rules_version BEFORE UPDATE ON {table}
                                   FOR EACH ROW EXECUTE FUNCTION policies_rules_version_self()"""))
            continue
        # (replaces the earlier trigger of the same name, one per row and event)
        sql.extend((table, f"""CREATE OR REPLACE TRIGGER {stem}_rules_version{suffix} AFTER {event} ON {table}
                               REFERENCING {_PG_TRANSITION[event]}
                               FOR EACH STATEMENT EXECUTE FUNCTION policies_rules_version_{how}()""")
                   for event, suffix, _rows in EVENTS)
    return sql


# ---------------------------------------------------------------- SQLite

_SQLITE_NEW = "lower(hex(randomblob(16)))"  # a UUIDField is 32 hex digits on SQLite


def _sqlite_update(how: str, row: str) -> str:
    if how == "plan_year":
        where = f"WHERE id = {row}.plan_year_id"
    elif how == "self":  # (SQLite runs no trigger recursively: this update fires nothing)
        where = f"WHERE id = {row}.id"
    elif how == "region":
        where = f"WHERE scheme_id IN (SELECT id FROM {SCHEME} WHERE region_id = {row}.region_id)"
    else:
        where = ""
    return f"UPDATE {PLAN_YEAR} SET rules_version = {_SQLITE_NEW} {where};"



def _sqlite_changed(table: str) -> str:
    """``WHEN`` clause of an update trigger: some column of the row changed (an update
    that changes nothing, a page saved unchanged, keeps the version)."""
    from django.apps import apps

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    columns = [f.column for f in model._meta.concrete_fields]
    return " WHEN " + " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in columns)


def _sqlite_sql() -> list[tuple[str | None, str]]:
    sql = []
    for table, stem, how in _tables():
        for event, suffix, rows in EVENTS:
            if how == "self" and event != "UPDATE":
                continue
            if how == "self":
                rows = ("NEW",)
            body = " ".join(_sqlite_update(how, row) for row in rows)
            when = _sqlite_changed(table) if event == "UPDATE" else ""
            sql.append((table, f"DROP TRIGGER IF EXISTS {stem}_rules_version{suffix}"))
            sql.append((table, f"CREATE TRIGGER {stem}_rules_version{suffix} "
                               f"AFTER {event} ON {table} FOR EACH ROW{when} BEGIN {body} END"))
    return sql


def install(using: str = "default") -> None:
    """Create (or replace) the triggers on the database ``using`` (idempotent); tables
    not (yet) created are skipped."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        statements = _pg_sql()
    elif connection.vendor == "sqlite":
        statements = _sqlite_sql()
    else:  # pragma: no cover - the project runs on PostgreSQL and SQLite only
        raise NotImplementedError(f"rules_version triggers on {connection.vendor}")
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table, statement in statements:
            if table is None or table in existing:
                cursor.execute(statement)


def installed(using: str = "default") -> set[tuple[str, str]]:
    """(table, trigger name) of the triggers present on the database ``using``."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT event_object_table, trigger_name FROM information_schema.triggers")
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        return {(table, name) for table, name in cursor.fetchall()}


def after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate receiver: install the triggers once the tables exist."""
    connection = connections[using]
    if PLAN_YEAR in connection.introspection.table_names():
        install(using)
