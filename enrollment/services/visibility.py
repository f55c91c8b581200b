"""Keeps ``enrollment.models.PersonRegion`` — the regions a person is visible in — equal to
what the persons and enrollments say (docs/access.md §参保人的可见范围): the 户籍所在地, the
常住地, and the region of each enrollment's scheme.

Every function is set-based SQL (portable: PostgreSQL and SQLite) run in the caller's
transaction:

``person_regions_add(person_ids=…)``
    insert the rows these persons lack (``INSERT … SELECT … ON CONFLICT DO NOTHING``):
    after new persons or enrollments (the sheet imports call it once after their COPY).
``person_regions_of_new(person_ids=…)``
    the rows of persons just created, which have none yet and no enrollment: their
    户籍 and 常住地 (the persons sheet import, once per chunk).
``person_regions_sync(person_ids=…)``
    also delete the rows these persons no longer justify: after a person moved (户籍/常住地
    changed) or an enrollment was deleted or moved to another plan year.
``person_regions_rebuild()``
    both over every person: ``manage.py rebuild_person_regions`` (idempotent).

The single-row writes (services, admin, any ORM ``save``/``delete``) are followed by
``enrollment.signals`` in the same transaction; bulk writes that bypass the ORM call the
functions above themselves.
"""
from __future__ import annotations

from django.db import connection

from enrollment.models import Enrollment, Person, PersonRegion
from policies import models as pm
from sheets.bulk_sql import keys_match

_CHUNK = 300  # ids per statement on SQLite (3 lists of them: under its 999 variables)


def _tables():
    q = connection.ops.quote_name
    return {"pr": q(PersonRegion._meta.db_table), "p": q(Person._meta.db_table),
            "e": q(Enrollment._meta.db_table), "py": q(pm.PlanYear._meta.db_table),
            "s": q(pm.Scheme._meta.db_table)}


def _id_filter(column: str, ids) -> tuple[str, list]:
    """`` AND column IN ids`` (PostgreSQL: a range or one text parameter) or nothing for
    ``None``."""
    if ids is None:
        return "", []
    if connection.vendor == "postgresql":  # a range, or one text of the keys (keys_match)
        match, params = keys_match(list(ids))
        return f" AND {column} {match}", params
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _chunks(person_ids):
    if person_ids is None:
        yield None
        return
    ids = sorted({int(i) for i in person_ids if i is not None})
    size = (len(ids) or 1) if connection.vendor == "postgresql" else _CHUNK
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _home_regions(t, where: str) -> str:
    """The persons' own regions, each row once: (person, 户籍所在地) and (person, 常住地)
    where it differs; ``where`` filters the persons (twice: its parameters go twice)."""
    return (f"SELECT id AS person_id, hukou_region_id AS region_id FROM {t['p']} "
            f"WHERE hukou_region_id IS NOT NULL{where} "
            f"UNION ALL SELECT id, residence_region_id FROM {t['p']} WHERE residence_region_id IS NOT NULL "
            f"AND (hukou_region_id IS NULL OR residence_region_id <> hukou_region_id){where}")


def _insert(ids) -> int:
    t = _tables()
    person_p, params_p = _id_filter("id", ids)
    person_e, params_e = _id_filter("e.person_id", ids)
    sql = (f"INSERT INTO {t['pr']} (person_id, region_id) "
           f"SELECT person_id, region_id FROM ("
           f"{_home_regions(t, person_p)} "
           f"UNION SELECT e.person_id, s.region_id FROM {t['e']} e "
           f"JOIN {t['py']} py ON py.id = e.plan_year_id JOIN {t['s']} s ON s.id = py.scheme_id "
           f"WHERE 1 = 1{person_e}"
           f") src WHERE 1 = 1 "  # the WHERE: SQLite's upsert after a SELECT needs one
           f"ON CONFLICT (person_id, region_id) DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, params_p + params_p + params_e)
        return max(cursor.rowcount, 0)


def _delete_stale(ids) -> int:
    t = _tables()
    person_pr, params = _id_filter("pr.person_id", ids)
    sql = (f"DELETE FROM {t['pr']} WHERE id IN (SELECT pr.id FROM {t['pr']} pr WHERE 1 = 1{person_pr} "
           f"AND NOT EXISTS (SELECT 1 FROM {t['p']} p WHERE p.id = pr.person_id "
           f"AND (p.hukou_region_id = pr.region_id OR p.residence_region_id = pr.region_id)) "
           f"AND NOT EXISTS (SELECT 1 FROM {t['e']} e JOIN {t['py']} py ON py.id = e.plan_year_id "
           f"JOIN {t['s']} s ON s.id = py.scheme_id "
           f"WHERE e.person_id = pr.person_id AND s.region_id = pr.region_id))")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def person_regions_add(*, person_ids) -> int:
    """Insert the visibility rows ``person_ids`` lack (new persons, new enrollments);
    returns how many were inserted."""
    return sum(_insert(ids) for ids in _chunks(person_ids) if ids != [])


def person_regions_of_new(*, person_ids) -> int:
    """The visibility rows of persons just created (a sheet import), set-based: a new
    person has no enrollment and no row yet, so its rows are exactly its 户籍所在地 and
    常住地 (what ``person_regions_add`` would insert, without its union over the
    enrollments and its conflict checks). Returns how many were inserted."""
    t = _tables()
    inserted = 0
    for ids in _chunks(person_ids):
        if not ids:
            continue
        first, last = ids[0], ids[-1]
        if last - first + 1 == len(ids):  # consecutive keys (SQLite's, most sequences'): a range
            where, params = " AND id BETWEEN %s AND %s", [first, last]
        else:
            where, params = _id_filter("id", ids)
        sql = f"INSERT INTO {t['pr']} (person_id, region_id) {_home_regions(t, where)}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params + params)
            inserted += max(cursor.rowcount, 0)
    return inserted


def person_regions_sync(*, person_ids) -> None:
    """Make the visibility rows of ``person_ids`` exactly what their 户籍, 常住地 and
    enrollments say (a person moved, an enrollment deleted or moved)."""
    for ids in _chunks(person_ids):
        if ids:
            _delete_stale(ids)
            _insert(ids)


def person_regions_rebuild() -> tuple[int, int]:
    """Rebuild every person's visibility rows from the persons and enrollments (stale rows
    deleted, missing ones inserted; idempotent). Returns (deleted, inserted)."""
    return _delete_stale(None), _insert(None)
