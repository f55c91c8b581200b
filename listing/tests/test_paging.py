"""``listing.paging.EstimatedCountPaginator``: exact on SQLite and for small lists, the
planner's estimate for a large list on PostgreSQL, never an exact COUNT(*) then."""
import pytest
from django.contrib.auth.models import Permission
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from listing.paging import EstimatedCountPaginator, estimated_count

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner")


def test_small_list_is_counted_exactly():
    qs = Permission.objects.filter(codename__startswith="view_")
    paginator = EstimatedCountPaginator(qs.order_by("pk"), 10)
    assert paginator.count == qs.count()
    assert not paginator.estimated
    with pytest.raises(EmptyPage):  # an exact list ends where it ends
        paginator.page(paginator.num_pages + 1)


def test_sqlite_is_always_exact(settings):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    paginator = EstimatedCountPaginator(Permission.objects.order_by("pk"), 10)
    paginator.exact_below = 0
    assert (paginator.count, paginator.estimated) == (Permission.objects.count(), False)


@on_postgresql
def test_large_list_on_postgresql_uses_the_planner_not_count():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE auth_permission")
    qs = Permission.objects.filter(codename__startswith="view_").order_by("pk")
    with CaptureQueriesContext(connection) as queries:
        count, estimated = estimated_count(qs, exact_below=0)
    assert estimated and count > 0
    assert [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()] == []
    assert any(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)


@on_postgresql
def test_unfiltered_table_on_postgresql_reads_reltuples():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE auth_permission")
    with CaptureQueriesContext(connection) as queries:
        count, estimated = estimated_count(Permission.objects.order_by("pk"), exact_below=0)
    assert estimated and count == Permission.objects.count()  # analysed just now
    assert "reltuples" in queries.captured_queries[0]["sql"]


@on_postgresql
def test_a_page_beyond_the_estimate_is_served_empty():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE auth_permission")
    paginator = EstimatedCountPaginator(Permission.objects.order_by("pk"), 10)
    paginator.exact_below = 0
    assert paginator.estimated
    assert list(paginator.page(paginator.num_pages + 5).object_list) == []
