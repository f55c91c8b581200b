"""``PlanYear.rules_version``: the version of a plan year's rule rows, for the settlement
parameter cache (``policies.selectors.region_year_params``).

Every write of a rule row (the tables of ``RULE_MODELS``) gives the row's plan year a new
random ``rules_version``, and so does every write of a row the parameters read through a
rule row: a chronic disease (``ChronicDisease``: every plan year of its region) and a
special identity (``Identity``: every plan year). The database does it, by a trigger on
each of these tables, in the transaction of the write — so a save, a delete, a rule-sheet
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
    """(table, trigger name) of every trigger ``install`` creates on ``vendor`` (on
    SQLite one per event; the plan year's own one on update only)."""
    names = set()
    for table, stem, how in _tables():
        suffixes = ["_upd"] if vendor == "sqlite" and how == "self" else (
            [s for _, s, _ in SQLITE_EVENTS] if vendor == "sqlite" else [""])
        names.update((table, f"{stem}_rules_version{suffix}") for suffix in suffixes)
    return names


# ---------------------------------------------------------------- PostgreSQL

_PG_FUNCTIONS = {
    "plan_year": f"""
        IF TG_OP <> 'INSERT' THEN
            UPDATE {PLAN_YEAR} SET rules_version = gen_random_uuid() WHERE id = OLD.plan_year_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE {PLAN_YEAR} SET rules_version = gen_random_uuid() WHERE id = NEW.plan_year_id;
        END IF;""",
    "region": f"""
        IF TG_OP <> 'INSERT' THEN
            UPDATE {PLAN_YEAR} SET rules_version = gen_random_uuid()
             WHERE scheme_id IN (SELECT id FROM {SCHEME} WHERE region_id = OLD.region_id);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE {PLAN_YEAR} SET rules_version = gen_random_uuid()
             WHERE scheme_id IN (SELECT id FROM {SCHEME} WHERE region_id = NEW.region_id);
        END IF;""",
    "all": f"""
        UPDATE {PLAN_YEAR} SET rules_version = gen_random_uuid();""",
}
# the plan year's own row: any update that changes it (a save of a stale instance too: its
# old version differs) gets a new version; a save that changes nothing keeps it
_PG_SELF = """CREATE OR REPLACE FUNCTION policies_rules_version_self() RETURNS trigger
              LANGUAGE plpgsql AS $$ BEGIN
              IF NEW IS DISTINCT FROM OLD THEN NEW.rules_version := gen_random_uuid(); END IF;
              RETURN NEW; END $$"""


def _pg_sql() -> list[tuple[str | None, str]]:
    # an UPDATE that changes nothing (a page saved unchanged) keeps the version
    sql = [(None, f"""CREATE OR REPLACE FUNCTION policies_rules_version_{how}() RETURNS trigger
                      LANGUAGE plpgsql AS $$ BEGIN
                      IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN RETURN NULL; END IF;
                      {body}
                      RETURN NULL; END $$""") for how, body in _PG_FUNCTIONS.items()]
    sql.append((None, _PG_SELF))
    for table, stem, how in _tables():
        when = "BEFORE UPDATE" if how == "self" else "AFTER INSERT OR UPDATE OR DELETE"
        sql.append((table, f"""CREATE OR REPLACE TRIGGER {stem}_rules_version
                               {when} ON {table}
                               FOR EACH ROW EXECUTE FUNCTION policies_rules_version_{how}()"""))
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


SQLITE_EVENTS = (("INSERT", "", ("NEW",)), ("UPDATE", "_upd", ("OLD", "NEW")), ("DELETE", "_del", ("OLD",)))


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
        for event, suffix, rows in SQLITE_EVENTS:
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
