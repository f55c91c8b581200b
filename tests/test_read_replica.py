"""The reports' read replica (config/db_routers.py, jobs/replica.py; docs/deploy.md §只读副本).

The test settings define ``replica`` as a mirror of the test database: a second connection
to the same rows, standing in for a streaming-replication standby. These tests switch
``REPORTS_READ_REPLICA`` on and capture the SQL of each connection: the report reads (the
dashboard's figures, a figure's xlsx, an export job's rows) go to ``replica``; every write
(the audit row, the job's own rows), every other read, a read inside a transaction on the
primary and the requests of a browser that has just written go to ``default``. The rows are
committed (``transaction=True``), as a standby only sees committed rows."""
import re

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.db_routers import PIN_COOKIE, REPLICA
from enrollment.models import Person
from jobs.models import Job
from jobs.replica import primary_pinned, reports_read
from jobs.runner import execute
from policies.models import Region
from reports.tests import dataset
from reports.tests.factories import user_with

BOTH = [DEFAULT_DB_ALIAS, REPLICA]
pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH)

# a write: INSERT / UPDATE / DELETE, or a data-modifying WITH (the audit log's append,
# audit.services._insert_and_move_head)
WRITE = re.compile(r"^\s*(?:WITH\b.*?\b)?(INSERT|UPDATE|DELETE)\b", re.IGNORECASE | re.DOTALL)


@pytest.fixture
def replica_on(settings):
    settings.REPORTS_READ_REPLICA = True


class Captured:
    """The SQL each connection ran inside the ``with`` block."""

    def __enter__(self):
        self._contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in BOTH}
        for context in self._contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self._contexts.values():
            context.__exit__(*exc)
        self.default = [q["sql"] for q in self._contexts[DEFAULT_DB_ALIAS].captured_queries]
        self.replica = [q["sql"] for q in self._contexts[REPLICA].captured_queries]

    @staticmethod
    def reading(queries, table):
        return [sql for sql in queries if f'FROM "{table}"' in sql and not WRITE.match(sql)]

    @staticmethod
    def writes(queries):
        return [sql for sql in queries if WRITE.match(sql)]


def test_report_reads_go_to_the_replica_and_writes_to_the_primary(replica_on):
    Region.objects.create(code="350400", name="三明市")
    with Captured() as sql:
        with reports_read():
            region = Region.objects.get(code="350400")
            Region.objects.create(code="371500", name="聊城市")  # a write inside
        outside = Region.objects.get(code="350400")
    assert region._state.db == REPLICA and outside._state.db == DEFAULT_DB_ALIAS
    assert len(sql.reading(sql.replica, "policies_region")) == 1 and not sql.writes(sql.replica)
    # the row and its history row, on the primary; the read outside reports_read() too
    assert [q.split(" (")[0] for q in sql.writes(sql.default)] == [
        'INSERT INTO "policies_region"', 'INSERT INTO "policies_historicalregion"']
    assert len(sql.reading(sql.default, "policies_region")) == 1
    # a row read from the replica is saved to the primary
    with Captured() as sql:
        region.name = "三明"
        region.save()
    assert sql.writes(sql.default) and not sql.replica
    assert Region.objects.get(code="350400").name == "三明"


def test_reads_stay_on_the_primary_inside_its_transaction_and_when_pinned(replica_on):
    with Captured() as sql:
        with transaction.atomic():
            Region.objects.create(code="350400", name="三明市")
            with reports_read():
                # read-your-writes: the replica has not got the uncommitted row
                assert Region.objects.filter(code="350400").exists()
        with primary_pinned(), reports_read():
            assert Region.objects.filter(code="350400").exists()
    assert not sql.replica
    assert len(sql.reading(sql.default, "policies_region")) == 2


def test_without_the_setting_nothing_reads_the_replica(settings):
    assert settings.REPORTS_READ_REPLICA is False  # the test settings, as with no DATABASE_REPLICA_URL
    Region.objects.create(code="350400", name="三明市")
    with Captured() as sql, reports_read():
        assert Region.objects.get(code="350400")._state.db == DEFAULT_DB_ALIAS
    assert not sql.replica and sql.reading(sql.default, "policies_region")
    assert router.db_for_read(Region) == DEFAULT_DB_ALIAS and router.db_for_write(Region) == DEFAULT_DB_ALIAS


def test_dashboard_and_figure_export_read_the_replica(client, replica_on):
    data = dataset.build()
    root = user_with("root", superuser=True)
    client.force_login(root)
    with Captured() as sql:
        page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert "三明市 三明普惠医联保 2024" in page.content.decode()  # the figures, read from the replica
    assert sql.reading(sql.replica, "reports_planyearsummary") and not sql.writes(sql.replica)
    assert not sql.reading(sql.default, "reports_planyearsummary")
    assert sql.reading(sql.default, "django_session")  # the request's own reads: the primary

    with Captured() as sql:
        export = client.get(reverse("reports:export", args=["participation"]))
    assert export.status_code == 200
    assert sql.reading(sql.replica, "reports_planyearsummary") and not sql.writes(sql.replica)
    assert not sql.reading(sql.default, "reports_planyearsummary")
    assert any('INSERT INTO "audit_' in q for q in sql.writes(sql.default))  # the export's audit row
    assert data.sm_commercial.pk


def test_a_browser_that_has_just_written_reads_the_primary(client, replica_on, settings):
    data = dataset.build()
    client.force_login(user_with("root", superuser=True))
    with Captured() as sql:
        response = client.post(reverse("reports:freeze", args=[data.sm_commercial.pk]),
                               {"next": reverse("admin:index")})
        page = client.get(response["Location"])  # the dashboard right after the save
    assert response.cookies[PIN_COOKIE]["max-age"] == settings.DATABASE_REPLICA_PIN_SECONDS
    assert "已将" in page.content.decode()  # the freeze's message: it was saved
    assert not sql.replica
    assert sql.reading(sql.default, "reports_planyearsummary")

    client.cookies.pop(PIN_COOKIE)  # the pin has expired
    with Captured() as sql:
        client.get(reverse("admin:index"))
    assert sql.reading(sql.replica, "reports_planyearsummary")


def test_an_export_job_reads_its_rows_from_the_replica_and_writes_its_own_to_the_primary(replica_on):
    data = dataset.build()
    root = user_with("root", superuser=True)
    job = Job.objects.create(kind="sheet_export", title="导出参保人", created_by=root,
                             params={"sheet_kind": "persons", "fmt": "csv"})
    with Captured() as sql:
        execute(job.pk)  # as a worker runs it: outside any transaction
    job.refresh_from_db()
    assert (job.status, job.counts) == (Job.Status.SUCCEEDED, {"rows": Person.objects.count()})
    assert data.p[1].name in job.result_file.open().read().decode("utf-8-sig")
    assert sql.reading(sql.replica, "enrollment_person") and not sql.writes(sql.replica)
    assert not sql.reading(sql.default, "enrollment_person")
    written = " ".join(sql.writes(sql.default))
    assert 'UPDATE "jobs_job"' in written and 'INSERT INTO "audit_' in written
