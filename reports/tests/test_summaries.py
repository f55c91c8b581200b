"""The dashboard's summary tables (docs/reports.md §汇总表): the figures read from them equal
the figures computed from the rows, each figure is one query, and they are refreshed by
the command, the nightly job and the services' hook after the commit."""
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment.models import Payment
from policies.dashboard import dashboard_figures_changed, figures_changed
from policies.models import PlanYear
from reports import figures, services
from reports.models import CountySummary, PlanYearSummary, SubsidySummary
from reports.selectors import plan_years_for

from . import dataset
from .factories import user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    return dataset.build()


def all_plan_years():
    return list(PlanYear.objects.select_related("scheme__region").order_by(
        "scheme__region__code", "scheme__settlement_order", "year"))


def table(figure_list):
    return [(f.key, f.rows, f.chart) for f in figure_list]


def test_summary_figures_equal_the_direct_figures(data):
    assert services.dashboard_refresh() == PlanYear.objects.count()
    plan_years = all_plan_years()
    direct = figures.build_figures(plan_years, figures.DIRECT)
    assert any(f.rows for f in direct)
    assert table(figures.build_figures(plan_years)) == table(direct)
    # and for one pooling region, one year
    some = [py for py in plan_years if py.scheme.region_id == data.sanming.pk and py.year == 2024]
    assert table(figures.build_figures(some)) == table(figures.build_figures(some, figures.DIRECT))


def test_a_stale_summary_shows_the_old_figure_until_refreshed(data):
    services.dashboard_refresh()
    row = Payment.objects.filter(enrollment__plan_year=data.sm_commercial).first()
    Payment.objects.filter(pk=row.pk).update(self_paid=row.self_paid + Decimal("1000"),
                                             amount_due=row.amount_due + Decimal("1000"))
    summary = figures.build_figures([data.sm_commercial])
    direct = figures.build_figures([data.sm_commercial], figures.DIRECT)
    assert table(summary) != table(direct)  # the comparison can fail
    call_command("refresh_dashboard", "--region", "350400", "--year", "2024", stdout=StringIO())
    assert table(figures.build_figures([data.sm_commercial])) == table(direct)


def test_each_figure_is_one_query(data):
    services.dashboard_refresh()
    plan_years = all_plan_years()
    for key, builder in figures.BUILDERS.items():
        with CaptureQueriesContext(connection) as ctx:
            figure = builder(plan_years)
        # 健康管理基金: a second query for the year-end expense rows of the plan years it shows
        expected = 2 if key == "health_fund" and figure.rows else 1
        assert len(ctx.captured_queries) == expected, (key, [q["sql"] for q in ctx.captured_queries])


def test_dashboard_page_queries_do_not_grow_with_the_plan_years(client, data):
    user = user_with("boss", superuser=True)
    client.force_login(user)
    client.get(reverse("admin:index"))  # fills the summaries of plan years never refreshed
    assert PlanYearSummary.objects.count() == PlanYear.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("admin:index")).status_code == 200
    few = len(ctx.captured_queries)
    for year in (2021, 2022):
        dataset._plan_year(data.sanming, "inclusive_commercial", 5, year=year,
                           status=PlanYear.Status.CLOSED)
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("admin:index"))
    assert len(ctx.captured_queries) == few
    assert few <= 40, [q["sql"] for q in ctx.captured_queries]


def test_refresh_replaces_the_rows_of_its_region_years_only(data):
    services.dashboard_refresh()
    counties = CountySummary.objects.count()
    subsidies = SubsidySummary.objects.count()
    services.dashboard_refresh(pairs={(data.sanming.pk, 2024)})
    assert (CountySummary.objects.count(), SubsidySummary.objects.count()) == (counties, subsidies)
    before = PlanYearSummary.objects.get(plan_year=data.lc_commercial).refreshed_at
    services.dashboard_refresh(plan_year_ids=[data.sm_commercial.pk])
    assert PlanYearSummary.objects.get(plan_year=data.lc_commercial).refreshed_at == before


def test_hook_refreshes_after_the_commit_once_per_transaction(data, django_capture_on_commit_callbacks):
    services.dashboard_refresh()
    sent = []

    def receiver(sender, *, pairs, plan_year_ids, **kwargs):
        sent.append((pairs, plan_year_ids))

    figures_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                dashboard_figures_changed(region_id=data.sanming.pk, year=2024)
                dashboard_figures_changed(plan_year_id=data.sm_commercial.pk)
                dashboard_figures_changed(region_id=data.sanming.pk, year=2024)
                dashboard_figures_changed(region_id=None, year=2024)  # nothing
        assert len(callbacks) == 1
        assert sent == [({(data.sanming.pk, 2024)}, {data.sm_commercial.pk})]
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    dashboard_figures_changed(region_id=data.liaocheng.pk, year=2024)
                    raise RuntimeError
            except RuntimeError:
                pass
            with transaction.atomic():
                dashboard_figures_changed(region_id=data.sanming.pk, year=2024)
        assert sent == [({(data.sanming.pk, 2024)}, set())]  # the rolled-back pair is not sent
    finally:
        figures_changed.disconnect(receiver)


def test_an_enrollment_service_refreshes_the_figures(data, django_capture_on_commit_callbacks):
    from enrollment import services as enrollment_services

    services.dashboard_refresh()
    before = PlanYearSummary.objects.get(plan_year=data.sm_commercial)
    user = user_with("clerk", superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_services.enrollment_terminate(enrollment=data.e[1], terminate_date=date(2024, 1, 1),
                                                 reason="测试", acting_user=user)
    after = PlanYearSummary.objects.get(plan_year=data.sm_commercial)
    assert after.enrollees == before.enrollees - 1  # P1 no longer counts
    assert table(figures.build_figures([data.sm_commercial])) == table(
        figures.build_figures([data.sm_commercial], figures.DIRECT))


def test_nightly_job_and_command(data):
    from jobs.services import job_start_periodic

    job = job_start_periodic("dashboard_refresh")
    job.refresh_from_db()
    assert job.status == job.Status.SUCCEEDED, job.summary if hasattr(job, "summary") else job
    assert PlanYearSummary.objects.count() == PlanYear.objects.count()
    out = StringIO()
    call_command("refresh_dashboard", stdout=out)
    assert f"已刷新 {PlanYear.objects.count()} 个年度方案" in out.getvalue()


def test_scoped_user_sees_only_the_summaries_of_their_plan_years(data):
    services.dashboard_refresh()
    user = user_with("lc", regions=[data.liaocheng], perms=["reports.view_report"])
    mine = list(plan_years_for(user))
    assert {py.scheme.region_id for py in mine} == {data.liaocheng.pk}
    assert table(figures.build_figures(mine)) == table(figures.build_figures(mine, figures.DIRECT))


def test_the_task_skips_what_was_refreshed_after_it_was_queued(data):
    from django.utils import timezone

    queued = timezone.now().isoformat()
    services.dashboard_refresh()  # ran after the task was queued
    pairs = [(data.sanming.pk, 2024)]
    assert services.refresh_dashboard_task(pairs, [], queued) == 0
    assert services.refresh_dashboard_task(pairs, [], timezone.now().isoformat()) > 0
    assert services.refresh_dashboard_task(pairs, []) > 0
