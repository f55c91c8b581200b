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
"""
from __future__ import annotations

import json

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connections
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
    estimate = table_estimate(queryset) if unfiltered else planner_estimate(queryset)
    if estimate is None or estimate < exact_below:
        return queryset.count(), False
    return estimate, True


class EstimatedCountPaginator(Paginator):
    """``Paginator`` whose ``count`` is ``estimated_count`` of the list; ``estimated``
    says whether it is an estimate (the template may write 约)."""

    exact_below = EXACT_BELOW

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
