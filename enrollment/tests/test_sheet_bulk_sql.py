"""Bulk helpers of the import engine (docs/benchmarks.md): ``InArray`` selects what
``__in`` selects (PostgreSQL: ``= ANY``), ``insert_values`` stores what ``save()`` stores
and returns the keys, and the parser cache keeps ``1``, ``1.0`` and ``True`` apart."""
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from enrollment.models import Person
from sheets.bulk_sql import InArray, insert_history, insert_history_stored, insert_values
from sheets.engine import parse_rows
from sheets.parsing import parse_decimal, parse_int
from sheets.registry import Column, SheetKind
from sheets.report import ImportResult

from .sheet_rows import id_number

pytestmark = pytest.mark.django_db


def _person(seq, **kw):
    return dict(document_type="id_card", document_number=id_number(seq), name=f"人{seq}", sex="male",
                birth_date=date(1980, 6, 15), category="resident", **kw)


def test_insert_values_returns_keys_and_stores_defaults():
    now = timezone.now()
    rows = [_person(1), _person(3, phone="13800001234")]
    with transaction.atomic():
        ids = insert_values(Person, rows, now=now)
        insert_history(Person, rows, user=None, reason="测试", when=now, created=True)
    assert [r["id"] for r in rows] == ids and len(set(ids)) == 2
    first, second = (Person.objects.get(pk=pk) for pk in ids)
    assert (first.document_number, first.phone, first.resettled, first.note) == (id_number(1), "", False, "")
    assert (second.phone, second.created_at, second.updated_at) == ("13800001234", now, now)
    history = second.history.get()
    assert (history.history_type, history.history_change_reason, history.phone) == ("+", "测试", "13800001234")
    more = insert_values(Person, [_person(5)], now=now)  # keys keep growing, no reuse
    assert more[0] > max(ids)


def test_insert_values_stores_each_time_as_given():
    """A date-time or date repeated from the row before is sent as the text psycopg writes
    for it (``bulk_sql._repeated_stamps``): what is stored is the same instant, row after
    row, in any time zone, and the same dates, beside new and given ones."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    now = timezone.now()
    shanghai = datetime(2024, 3, 1, 8, 0, 0, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    given = [None, None, None, shanghai, shanghai, now + timedelta(seconds=1), now, now]
    rows = [_person(i + 1, **({} if at is None else {"created_at": at})) for i, at in enumerate(given)]
    births = [date(1980, 6, 15), date(1980, 6, 15), date(1999, 12, 31), date(1980, 6, 15), date(1980, 6, 15),
              date(1980, 6, 16), date(1980, 6, 16), date(1980, 6, 15)]
    for row, birth in zip(rows, births, strict=True):
        row["birth_date"] = birth
    with transaction.atomic():
        ids = insert_values(Person, rows, now=now)
    stored = {pk: (at, birth) for pk, at, birth in Person.objects.filter(pk__in=ids).values_list(
        "pk", "created_at", "birth_date")}
    assert [stored[pk] for pk in ids] == [(now if at is None else at, birth) for at, birth in zip(given, births, strict=True)]
    assert set(Person.objects.filter(pk__in=ids).values_list("updated_at", flat=True)) == {now}


def test_history_stored_is_the_history_of_the_values():
    """``insert_history_stored`` (INSERT … SELECT by the database) writes the rows
    ``insert_history(created=True)`` writes from the values: same tracked values, date,
    user, reason and type; consecutive keys or not."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username="imp")
    now = timezone.now()
    with transaction.atomic():
        by_values = [_person(1, phone="13800001234"), _person(3)]
        insert_values(Person, by_values, now=now)
        insert_history(Person, by_values, user=user, reason="导入", when=now, created=True)
        by_sql = [_person(5, phone="13800001234"), _person(7)]
        ids = insert_values(Person, by_sql, now=now)
        assert insert_history_stored(Person, ids, user=user, reason="导入", when=now, created=True) == 2
        gap = insert_values(Person, [_person(9), _person(11), _person(13)], now=now)
        assert insert_history_stored(Person, [gap[0], gap[2]], user=None, reason=None, when=now, created=True) == 2

    def shown(pk):
        row = Person.history.model.objects.filter(id=pk).values().get()
        return {k: v for k, v in row.items()
                if k not in ("history_id", "id", "document_number", "name", "created_at", "updated_at")}

    for old, new in zip(by_values, by_sql, strict=True):
        assert shown(old["id"]) == shown(new["id"])
    assert shown(ids[0])["history_user_id"] == user.pk and shown(ids[0])["history_type"] == "+"
    assert Person.history.model.objects.get(id=ids[1]).name == "人7"
    assert Person.history.model.objects.get(id=ids[1]).history_date == now
    assert not Person.history.filter(id=gap[1]).exists()
    assert Person.history.get(id=gap[2]).history_change_reason is None


def test_in_array_selects_what_in_selects():
    now = timezone.now()
    insert_values(Person, [_person(s) for s in (1, 3, 5)], now=now)
    numbers = {id_number(1), id_number(5), "nope"}
    expected = set(Person.objects.filter(document_number__in=numbers).values_list("pk", flat=True))
    got = set(Person.objects.filter(InArray(F("document_number"), numbers)).values_list("pk", flat=True))
    assert got == expected and len(got) == 2
    assert not Person.objects.filter(InArray(F("pk"), [])).exists()
    ids = sorted(expected)
    assert list(Person.objects.filter(InArray(F("id"), ids)).values_list("pk", flat=True)) == ids


def test_in_array_of_many_values_selects_what_in_selects():
    """From ``InArray.JOINED_FROM`` values the keys go as one joined text on PostgreSQL:
    the same rows, whatever the texts hold (commas, braces, quotes, the separator)."""
    now = timezone.now()
    rows = [_person(s) for s in range(1, 200, 2)]
    rows[0]["name"], rows[1]["name"], rows[2]["name"] = "甲,乙", '{"丙"}', "丁\x1f戊"
    ids = insert_values(Person, rows, now=now)
    numbers = [r["document_number"] for r in rows[::2]] + [f"nope{i}" for i in range(80)]
    for field, values in (("document_number", numbers), ("name", [r["name"] for r in rows]),
                          ("name", [r["name"] for r in rows if "\x1f" not in r["name"]]), ("id", ids[::3] + [0, -5])):
        expected = set(Person.objects.filter(**{f"{field}__in": values}).values_list("pk", flat=True))
        got = set(Person.objects.filter(InArray(F(field), values)).values_list("pk", flat=True))
        assert got == expected and got, field


class _Sheet:
    def __init__(self, rows):
        self._rows = rows

    def rows_with_extra(self):  # (number, values, extra cells) as sheets.readers.SheetFile
        for number, values in enumerate(self._rows, start=2):
            yield number, values, []


class _Kind(SheetKind):
    name = "cache-test"

    def __init__(self):
        self.columns = [Column("n", "数", parse_int), Column("a", "额", parse_decimal)]


def test_parser_cache_keeps_types_apart():
    kind = _Kind()
    mapping = list(enumerate(kind.columns))
    result = ImportResult(kind="cache-test", file_name="x", dry_run=True)
    rows = list(parse_rows(_Sheet([[1, 1.5], [True, 1.5], [1.0, "1.5"], [1, 1.5]]), mapping, kind, result))
    assert [(r.number, r["n"], r["a"]) for r in rows] == [
        (2, 1, Decimal("1.50")), (4, 1, Decimal("1.50")), (5, 1, Decimal("1.50"))]
    assert [(e.row, e.column) for e in result.errors] == [(3, "数")]  # True is not an integer
