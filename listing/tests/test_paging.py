"""``listing.paging.EstimatedCountPaginator``: exact on SQLite and for small lists, the
planner's estimate for a large list on PostgreSQL, never an exact COUNT(*) then."""
import pytest
from django.contrib.auth.models import Permission
from django.core.paginator import EmptyPage
from django.db import connection, models
from django.db.models.functions import Lower
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


# --------------------------------------------------------------------------- deferred join

ORDERINGS = [("-pk",), ("name", "-id"), ("content_type_id", "codename", "id"), ("-codename", "pk"),
             ("content_type", "id"), ("content_type__app_label", "-id"), ("name",)]
FILTERS = [{}, {"codename__startswith": "view_"}, {"content_type__app_label": "enrollment"}]


def plain_pages(qs, per_page):
    """Django's own paginator: every page by OFFSET."""
    from django.core.paginator import Paginator

    paginator = Paginator(qs, per_page)
    return [[p.pk for p in paginator.page(n).object_list] for n in paginator.page_range]


def deferred_pages(qs, per_page):
    paginator = EstimatedCountPaginator(qs, per_page)
    paginator.exact_below = 10**9  # exact on both databases: the same page range as Django's
    return [[p.pk for p in paginator.page(n).object_list] for n in paginator.page_range]


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("filters", FILTERS)
def test_every_page_is_the_same_rows_in_the_same_order_as_offset(ordering, filters):
    qs = Permission.objects.filter(**filters).select_related("content_type").order_by(*ordering)
    assert qs.count() > 14  # three pages at least
    assert deferred_pages(qs, 7) == plain_pages(qs, 7)


def test_a_local_total_ordering_is_recognised():
    from listing.paging import local_total_ordering

    base = Permission.objects.all()
    assert local_total_ordering(base.order_by("-pk"))
    assert local_total_ordering(base.order_by("content_type_id", "codename", "-id"))
    assert local_total_ordering(base.order_by(models.F("name").asc(), models.F("id").desc()))
    assert not local_total_ordering(base.order_by("name"))  # not total
    assert not local_total_ordering(base.order_by("content_type", "id"))  # the related model's ordering
    assert not local_total_ordering(base.order_by("content_type__model", "id"))
    assert not local_total_ordering(base.order_by("?"))
    assert not local_total_ordering(base.annotate(n=models.Count("group")).order_by("n", "id"))
    assert not local_total_ordering(base.order_by("id").distinct())
    assert not local_total_ordering(base.order_by(Lower("name"), "id"))


def test_a_deep_page_reads_its_keys_first_then_its_rows_by_key():
    qs = Permission.objects.select_related("content_type").order_by("-id")
    paginator = EstimatedCountPaginator(qs, 5)
    paginator.count  # noqa: B018 (counted outside the captured queries)
    with CaptureQueriesContext(connection) as queries:
        rows = list(paginator.page(3).object_list)
    sqls = [q["sql"] for q in queries.captured_queries if "auth_permission" in q["sql"]]
    assert len(sqls) == 2 and len(rows) == 5
    keys, page = sqls
    # the keys: the primary key alone, no join of the display, sliced
    assert keys.split(" FROM ")[0].count(",") == 0 and "JOIN" not in keys.upper()
    assert "OFFSET 10" in keys.upper()
    # the rows: by key, with the display's join, not sliced
    assert "JOIN" in page.upper() and " IN (" in page and "OFFSET" not in page.upper()


def test_the_first_page_and_other_orderings_keep_the_plain_slice():
    paginator = EstimatedCountPaginator(Permission.objects.order_by("-id"), 5)
    paginator.count  # noqa: B018
    with CaptureQueriesContext(connection) as queries:
        list(paginator.page(1).object_list)
    assert len([q for q in queries.captured_queries if "auth_permission" in q["sql"]]) == 1
    paginator = EstimatedCountPaginator(Permission.objects.order_by("content_type__model", "id"), 5)
    paginator.count  # noqa: B018
    with CaptureQueriesContext(connection) as queries:
        list(paginator.page(3).object_list)
    sqls = [q["sql"] for q in queries.captured_queries if "auth_permission" in q["sql"]]
    assert len(sqls) == 1 and "OFFSET 10" in sqls[0].upper()


def test_a_list_that_selects_nothing_counts_zero_without_sql():
    """``pk__in=[]`` (a clerk without plan years, a filter choice outside the user's
    scope): Django sends no SQL, and neither does the estimate (EXPLAIN of no query)."""
    paginator = EstimatedCountPaginator(Permission.objects.filter(pk__in=[]).order_by("-id"), 5)
    paginator.exact_below = 0
    assert (paginator.count, paginator.estimated) == (0, False)
    assert list(paginator.page(1).object_list) == []
