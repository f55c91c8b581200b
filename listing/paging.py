"""An admin paginator that never counts a large list exactly (issue 17).

Django's changelist asks ``paginator.count`` once per page: ``SELECT COUNT(*)`` of the
whole filtered list, a full scan of a million persons. ``EstimatedCountPaginator``
answers instead, on PostgreSQL:

- an unfiltered table: ``pg_class.reltuples`` (kept by autovacuum / ANALYZE);
- a filtered list: the planner's row estimate of the filtered query
  (``EXPLAIN (FORMAT JSON) SELECT pk …``: the plan is made, nothing is read);

and counts exactly when that estimate is below ``exact_below`` (10 000: a count the
indexes answer quickly, and a list short enough that its last page must be right). On
any other database (SQLite: the tests, ``make run``) the count is always exact.

An estimate may be a little off: a page beyond the estimated last one is still served
(empty when the list ends earlier), so a link never turns into an error. Use it with
``show_full_result_count = False`` (the second, unfiltered count) on the admin::

    class PersonAdmin(admin.ModelAdmin):
        paginator = EstimatedCountPaginator
        show_full_result_count = False

**Deep pages by a deferred join.** ``OFFSET 100000 LIMIT 100`` makes the database build
100 100 whole rows — their joins (``list_select_related``) and computed columns
(annotations) included — to throw 100 000 away. Past the first page, when the list is
ordered by columns of its own table ending in a unique one (the changelist's
``-service_date, -id``, ``-id``: ``local_total_ordering``), the page is read in two steps:

1. the page's primary keys: ``values_list("pk")[offset:offset + per_page]`` — the same
   filters and ordering without the joins and columns of the display, which an index of
   the ordering (holding the columns the filters read) answers by an index-only scan;
2. the rows: the list itself ``filter(pk__in=keys)`` — the same ordering, which is total,
   so the page is the same rows in the same order as ``OFFSET`` would give (and
   ``object_list`` stays a queryset).

Any other ordering (a column header through a join, an annotation, ``?``), a
``DISTINCT`` or grouped list, and the first page keep Django's plain slice.
"""
from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import F, OrderBy
from django.utils.functional import cached_property

EXACT_BELOW = 10_000


def _postgresql(queryset) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def table_estimate(queryset) -> int | None:
    """``pg_class.reltuples`` of the queryset's table (None when never analysed)."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                       [queryset.model._meta.db_table])
        row = cursor.fetchone()
    return None if row is None or row[0] is None or row[0] < 0 else int(row[0])


def planner_estimate(queryset) -> int:
    """The planner's estimate of the number of rows ``queryset`` returns (its filters and
    joins, without ordering or columns)."""
    query = queryset.order_by().values("pk").query
    sql, params = query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def estimated_count(queryset, *, exact_below: int = EXACT_BELOW) -> tuple[int, bool]:
    """(count, estimated): the estimate of a large list on PostgreSQL, else the exact count."""
    if not _postgresql(queryset) or queryset.query.is_sliced:
        return queryset.count(), False
    unfiltered = not queryset.query.where and not queryset.query.distinct
    try:
        estimate = table_estimate(queryset) if unfiltered else planner_estimate(queryset)
    except EmptyResultSet:  # a condition that selects nothing (``pk__in=[]``): no SQL at all
        return 0, False
    if estimate is None or estimate < exact_below:
        return queryset.count(), False
    return estimate, True


def _ordering_name(part) -> str | None:
    """The field name an ``order_by`` term sorts by (``"-id"``, ``F("id")``,
    ``F("id").desc()``), None for any other expression."""
    if isinstance(part, str):
        return part.removeprefix("-")
    if isinstance(part, OrderBy):
        part = part.expression
    if isinstance(part, F):
        return part.name
    return None


def local_total_ordering(queryset) -> bool:
    """True when ``queryset`` is ordered by columns of its own table only (no join, no
    annotation, no expression), one of them its primary key or another unique non-null
    column — an ordering an index of the table can serve, and a total one — and is
    neither sliced, ``DISTINCT``, grouped nor combined."""
    query = queryset.query
    if query.is_sliced or query.distinct or query.group_by is not None or query.combinator \
            or query.extra_order_by:
        return False
    ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
    opts, total = queryset.model._meta, False
    for part in ordering:
        name = _ordering_name(part)
        if name is None or name in query.annotations:
            return False
        if name == "pk":
            name = opts.pk.name
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            return False  # "?", a path through a relation
        if not field.concrete or field.many_to_many or (field.is_relation and name != field.attname):
            return False  # a foreign key by name sorts by the related model's ordering: a join
        total = total or field.primary_key or (field.unique and not field.null)
    return total


class EstimatedCountPaginator(Paginator):
    """``Paginator`` whose ``count`` is ``estimated_count`` of the list; ``estimated``
    says whether it is an estimate (the template may write 约)."""

    exact_below = EXACT_BELOW
    defer_from = 1  # the first row (offset) read by the deferred join; 0: every page

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        queryset = self.object_list
        if not hasattr(queryset, "query"):  # a list: Django's own count
            return super().count, False
        return estimated_count(queryset, exact_below=self.exact_below)

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @property
    def estimated(self) -> bool:
        return self._counted[1]

    def validate_number(self, number):
        """As Django's, except that an estimated list does not end at its estimate."""
        if not self.estimated:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        """As Django's, with the rows of a page after the first read by the deferred join
        (the module's docstring); an estimated list is not cut at its estimate."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.estimated and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.page_rows(bottom, top), number, self)

    def page_rows(self, bottom: int, top: int):
        """The rows ``bottom:top`` of the list: a deferred join when it can be one."""
        rows = self.object_list
        if bottom < self.defer_from or not hasattr(rows, "query") or not local_total_ordering(rows):
            return rows[bottom:top]
        keys = list(rows.values_list("pk", flat=True)[bottom:top])
        return rows.filter(pk__in=keys)
