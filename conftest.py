"""Shared pytest fixtures, and the seed policies loaded once per run of tests that use them.

``loaded_policies``: the five seed systems' 2024 plan years as ``load_policies`` loads them.
Loading costs 1–2 s, so it is not done per test: when a test that uses the fixture runs in
a transaction (``db``, the default), the rows are loaded once into an outer transaction
that stays open while the following tests also use them, each test running in its own
savepoint inside it (pytest-django's ``db`` nests in an open transaction); the outer
transaction is rolled back before the first test that does not use them, so every other
test still starts from an empty database. A test whose database is not rolled back
(``transaction=True``, ``live_server``: flushed after the test) gets the same rows inserted
from a copy taken after the first load, then flushed with the rest.

``FastFlush``: after a ``transaction=True`` / live-server test the rows are deleted instead
of Django's flush (TRUNCATE of every table, 1–3 s on PostgreSQL, then ≈ 0.6 s recreating
the content types and permissions): the same empty tables, in milliseconds.
"""
import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the Django ORM calls made
# by the test itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

POLICIES = "loaded_policies"


def _transactional(item) -> bool:
    """Whether pytest-django runs ``item`` as a TransactionTestCase (same rule as its
    ``_django_db_helper``)."""
    names = getattr(item, "fixturenames", ())
    if {"transactional_db", "live_server", "django_db_reset_sequences"} & set(names):
        return True
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    from pytest_django.fixtures import validate_django_db

    transaction, reset_sequences, *_rest = validate_django_db(marker)
    return bool(transaction or reset_sequences)


def _rolled_back_with_policies(item) -> bool:
    return item is not None and POLICIES in getattr(item, "fixturenames", ()) and not _transactional(item)


class SeedPolicies:
    """The outer transaction holding the loaded policies, and a copy of the loaded rows."""

    def __init__(self):
        self.atomic = None
        self.blocker = None
        self.rows = None  # [(model, [concrete fields], [row values...])] after the first load

    @property
    def open(self) -> bool:
        return self.atomic is not None

    def begin(self, django_db_blocker):
        from django.db import transaction

        self.blocker = django_db_blocker
        with self.blocker.unblock():
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.load()

    def rollback(self, *, at_end=False):
        """``at_end``: after the worker's last test, whose teardown has already ended the
        session (test database destroyed, connection closed: nothing left to roll back)."""
        from django.db import connection, transaction

        with self.blocker.unblock():
            if not (at_end and not connection.in_atomic_block):
                transaction.set_rollback(True)
                self.atomic.__exit__(None, None, None)
        self.atomic = None

    def load(self):
        """``load_policies``, or the copy of its rows once it has run in this process."""
        if self.rows is not None:
            return self.insert_copy()
        from django.core.management import call_command

        call_command("load_policies", verbosity=0)
        self.rows = self.copy()

    @staticmethod
    def copy():
        from django.apps import apps

        rows = []
        for model in apps.get_app_config("policies").get_models(include_auto_created=True):
            if not model._meta.managed or model._meta.proxy:
                continue
            fields = list(model._meta.concrete_fields)
            values = list(model._base_manager.order_by("pk").values_list(*(f.attname for f in fields)))
            if values:
                rows.append((model, fields, values))
        return rows

    def insert_copy(self):
        """The copied rows written back as they were (PostgreSQL: ``COPY``; without a model
        instance per row: ``sheets.bulk_sql.insert_rows``), the sequences past them."""
        from django.core.management.color import no_style
        from django.db import connection, transaction

        from sheets.bulk_sql import insert_rows

        with transaction.atomic():  # foreign keys are checked at the end (deferred)
            for model, fields, values in self.rows:
                insert_rows(model, fields, values)
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [m for m, _f, _v in self.rows]):
                    cursor.execute(sql)


SEED = SeedPolicies()


def pytest_collection_finish(session):
    """Each test process's garbage collector as a web worker's (``config.worker_gc``): Django,
    the apps and the collected tests frozen out of the collector's sight, young collections
    every 10 000 new objects. With Python's defaults ≈ 14 % of a test process's CPU went to
    collections walking that heap (docs/benchmarks.md, "Tenth session: the suite on a quiet
    machine"); the tests' objects are still collected."""
    from config import worker_gc

    worker_gc.tune()


def check_outer_constraints(django_db_blocker):
    """Check now, once, the foreign keys of the rows written in an open outer transaction
    (the seed policies, a module's or a class's data).

    On PostgreSQL the foreign keys are checked at the commit (``DEFERRABLE INITIALLY
    DEFERRED``); a test that is rolled back checks them at its end instead
    (``TestCase._fixture_teardown``: ``SET CONSTRAINTS ALL IMMEDIATE``, inside the test's
    savepoint). The pending checks of the outer transaction's rows fire there too, and
    when the savepoint is rolled back PostgreSQL puts them back in the queue: every test
    on the seed policies re-checked each of their ≈ 4 000 rows. Fired here, in the outer
    transaction, they are done for every test that follows; the test's own rows are
    checked at its end as before."""
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            if connection.vendor == "postgresql" and connection.in_atomic_block:
                connection.check_constraints()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Before the test's own transaction opens, open the one holding the policies, and
    check the foreign keys of whatever an outer transaction holds."""
    if fixturedef.argname == "_django_db_helper" and not _transactional(request.node):
        blocker = request.getfixturevalue("django_db_blocker")
        if not SEED.open and _rolled_back_with_policies(request.node):
            SEED.begin(blocker)
        check_outer_constraints(blocker)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the test's transaction has been rolled back: keep the policies' transaction
    for a next test that uses them, roll it back otherwise."""
    result = yield
    if SEED.open and not _rolled_back_with_policies(nextitem):
        SEED.rollback(at_end=nextitem is None)
    return result


@pytest.fixture
def loaded_policies(db):
    """The five seed systems' 2024 plan years, loaded with ``load_policies``."""
    if not SEED.open:  # a transaction=True / live-server test: inserted, flushed afterwards
        SEED.load()


@pytest.fixture(scope="session")
def policies_loader():
    """``policies_loader()`` writes the seed policies (as ``loaded_policies`` has them) into
    the current transaction: ``load_policies`` the first time in this process, a copy of
    its rows after (tens of milliseconds instead of 1–2 s). For the module- or
    class-scoped fixtures that build a larger world on them (the demo) inside a
    transaction of their own."""
    return SEED.load


@pytest.fixture(scope="module")
def module_policies(django_db_setup, django_db_blocker):
    """The seed policies (as ``loaded_policies`` has them) in a transaction opened for one
    module and rolled back after its last test, for test data that costs seconds to build
    and that the module's tests only read or change through the database: a module-scoped
    fixture that depends on this one builds its rows once, inside it (``with
    django_db_blocker.unblock():``), and each test (``db``) runs in a savepoint inside it,
    its own writes undone as usual. The tests take ``db``, not ``loaded_policies``."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        SEED.load()
        yield
        transaction.set_rollback(True)


class FastFlush:
    """The flush after a ``transaction=True`` / live-server test, without TRUNCATE.

    Django's flush (``TransactionTestCase._fixture_teardown``) truncates every table — on
    PostgreSQL a new file for each of ≈ 135 tables and their indexes, 1–3 s — and then
    emits ``post_migrate``, which recreates the content types and permissions it truncated
    and renames the permissions (``policies.permission_names``), ≈ 0.6 s more. After these
    tests most tables are empty: deleting the rows leaves the same database in a few
    milliseconds. The content types and permissions (the only rows ``post_migrate``
    writes) are kept when the test left them as they were at its start (compared row by
    row), so ``post_migrate`` has nothing to recreate; otherwise, or when a test narrows
    ``available_apps`` or uses ``serialized_rollback``, Django's own flush runs. On
    PostgreSQL the deletes run with ``session_replication_role = replica`` (a superuser's
    setting, as the test database's owner is here; without it Django's flush runs): no
    trigger fires, as with TRUNCATE — the append-only triggers of the audit log, the
    ledger and the frozen year-end statements refuse a DELETE, and foreign keys are not
    checked between tables that are all emptied. Sequences are not reset, as in Django's.
    """

    def __init__(self):
        self.before = {}  # database alias -> the kept rows at the start of the test

    @staticmethod
    def kept_tables():
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType

        return [ContentType._meta.db_table, Permission._meta.db_table]

    def kept_rows(self, connection):
        rows = []
        with connection.cursor() as cursor:
            for table in self.kept_tables():
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
                rows.append(cursor.fetchall())
        return rows

    def pre_setup(self, testcase):
        from django.db import connections

        self.before = {}
        if testcase.available_apps is None and not testcase.serialized_rollback:
            for alias in testcase._databases_names(include_mirrors=False):
                self.before[alias] = self.kept_rows(connections[alias])

    def flush(self, connection) -> bool:
        """Empty every table but the kept ones; False when this cannot stand for Django's flush."""
        from django.core.management.color import no_style
        from django.db import transaction

        before = self.before.get(connection.alias)
        if before is None or self.kept_rows(connection) != before:
            return False
        kept = set(self.kept_tables())
        tables = [t for t in connection.introspection.django_table_names(only_existing=True, include_views=False)
                  if t not in kept]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('is_superuser')")
                if cursor.fetchone()[0] != "on":
                    return False
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute("; ".join(f"DELETE FROM {connection.ops.quote_name(t)}" for t in tables))
        else:  # SQLite: Django's flush is already DELETE; only the post_migrate is saved
            connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), tables))
        return True

    def install(self):
        from django.db import connections
        from django.test import TestCase, TransactionTestCase

        pre_setup = TransactionTestCase.__dict__["_pre_setup"].__func__  # a classmethod
        fixture_teardown = TransactionTestCase._fixture_teardown
        flusher = self

        def _pre_setup(cls):
            if not issubclass(cls, TestCase):  # TestCase rolls back: nothing to flush
                flusher.pre_setup(cls)
            return pre_setup(cls)

        def _fixture_teardown(testcase):
            aliases = list(testcase._databases_names(include_mirrors=False))
            if not all(flusher.flush(connections[alias]) for alias in aliases):
                fixture_teardown(testcase)  # whatever a fast flush emptied is empty for it too

        TransactionTestCase._pre_setup = classmethod(_pre_setup)
        TransactionTestCase._fixture_teardown = _fixture_teardown


class TemplateDatabase:
    """One ``migrate`` per run instead of one per xdist worker.

    Each worker builds its test database in ``setup_databases``; Django's ``migrate`` of
    the 132 models costs ≈ 6 s of CPU (docs/benchmarks.md §Ninth session: migrations
    folded). Under xdist the first worker to take the lock migrates its own test database
    as usual and keeps a copy (PostgreSQL: ``CREATE DATABASE …_tpl TEMPLATE`` its
    database, before any test connects;
    SQLite in memory: the ``sqlite3`` backup API into a file); every other worker creates
    its database from that copy (PostgreSQL: ``CREATE DATABASE … TEMPLATE …_tpl``; SQLite:
    the backup back into its in-memory database) instead of migrating. The copy holds
    everything ``migrate`` leaves (tables, triggers, the content types and permissions of
    ``post_migrate``, the migration records) and nothing else: the copy is taken before
    any test runs. The controller passes the folder and the template's name to the
    workers and removes both at the end. Other engines, ``--reuse-db`` and runs without
    xdist migrate as before.
    """

    def __init__(self, folder: str, postgres_name: str):
        from pathlib import Path

        self.folder = Path(folder)
        self.postgres_name = postgres_name

    @staticmethod
    def supported(connection) -> bool:
        if connection.vendor == "postgresql":
            return True
        return connection.vendor == "sqlite" and connection.creation.is_in_memory_db(
            connection.creation._get_test_db_name())

    def create_test_db(self, original, creation, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
        import fcntl

        connection = creation.connection
        if keepdb or not self.supported(connection):
            return original(creation, verbosity, autoclobber, serialize, keepdb)
        ready = self.folder / f"{connection.alias}.ready"
        with open(self.folder / f"{connection.alias}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if ready.exists():
                name = self.restore(creation)
            else:
                name = original(creation, verbosity, autoclobber, False, keepdb)
                self.save(creation)
                ready.touch()
        if serialize:
            connection._test_serialized_contents = creation.serialize_db_to_string()
        return name

    def sqlite_file(self, connection) -> str:
        return str(self.folder / f"{connection.alias}.sqlite3")

    def save(self, creation):
        import sqlite3

        connection = creation.connection
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(self.sqlite_file(connection))
            connection.connection.backup(target)
            target.close()
            return
        connection.close()  # CREATE DATABASE … TEMPLATE needs the source without sessions
        self.create_postgres(creation, self.postgres_name, template=connection.settings_dict["NAME"])

    def restore(self, creation) -> str:
        import sqlite3

        from django.conf import settings

        connection = creation.connection
        name = creation._get_test_db_name()
        if connection.vendor == "postgresql":
            self.create_postgres(creation, name, template=self.postgres_name)
        connection.close()
        settings.DATABASES[connection.alias]["NAME"] = name
        connection.settings_dict["NAME"] = name
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            source = sqlite3.connect(self.sqlite_file(connection))
            source.backup(connection.connection)
            source.close()
        return name

    @staticmethod
    def create_postgres(creation, name: str, *, template: str):
        quoted = creation._quote_name(name)
        with creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
            cursor.execute(f"CREATE DATABASE {quoted} TEMPLATE {creation._quote_name(template)}")

    @staticmethod
    def drop_postgres(name: str):
        """At the end of the run, in the controller (no Django connection is opened there)."""
        import psycopg
        from django.db import connections

        connection = connections["default"]
        if connection.vendor != "postgresql":
            return
        params = {**connection.get_connection_params(), "dbname": "postgres"}
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")

    def install(self):
        from django.db.backends.base.creation import BaseDatabaseCreation

        original = BaseDatabaseCreation.create_test_db
        template = self

        def create_test_db(creation, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
            return template.create_test_db(original, creation, verbosity, autoclobber, serialize, keepdb)

        BaseDatabaseCreation.create_test_db = create_test_db


def pytest_configure(config):
    FastFlush().install()
    workerinput = getattr(config, "workerinput", None)
    if workerinput and workerinput.get("medins_template_folder"):
        TemplateDatabase(workerinput["medins_template_folder"], workerinput["medins_template_name"]).install()
    elif workerinput is None and getattr(config.option, "numprocesses", None):
        import tempfile

        from django.db import connection

        config.medins_template = (tempfile.mkdtemp(prefix="medins-test-template-"),
                                  connection.creation._get_test_db_name() + "_tpl")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist (controller): the template's folder and PostgreSQL name for each worker."""
    folder, name = getattr(node.config, "medins_template", (None, None))
    if folder:
        node.workerinput["medins_template_folder"] = folder
        node.workerinput["medins_template_name"] = name


def pytest_unconfigure(config):
    folder, name = getattr(config, "medins_template", (None, None))
    if folder:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        TemplateDatabase.drop_postgres(name)


# The longest tests, with a rough duration in seconds (CI, PostgreSQL): started first, spread
# over the xdist workers, so that no worker starts a one-minute test while the other is done.
SLOW_FIRST = [
    ("tests/browser/test_browser_round_trip.py::test_every_change_form", 45),  # four parts of ≈ 19 pages
    ("tests/test_page_scan.py", 37),  # one role's whole day per test
    ("tests/browser/", 15),
    ("claims/tests/test_settle_workers.py", 15),  # starts real Celery workers
]


def pytest_addoption(parser):
    parser.addoption(
        "--skip-db-free", action="store_true",
        help="deselect the tests that use no database (CI's SQLite pass: they ran, identically, in "
             "the PostgreSQL pass; deselected, not removed)")


DATABASE_WORDS = ("vendor", "DATABASES", "sqlite", "postgres")
_mentions_database = {}


def needs_test_database(item) -> bool:
    """Whether ``item`` uses the test database (a ``db``/``transactional_db``/``live_server``
    fixture, the ``django_db`` marker, a unittest case): its worker must have created it
    first. Any other test cannot touch a database: pytest-django blocks the access."""
    import unittest

    if {"django_db_setup", "live_server"} & set(getattr(item, "fixturenames", ())):
        return True
    return bool(item.get_closest_marker("django_db") or isinstance(getattr(item, "cls", None), type)
                and issubclass(item.cls, unittest.TestCase))


def uses_database(item) -> bool:
    """Whether ``item`` may behave differently on another database: it uses the test
    database (``needs_test_database``), or its module names a database engine or setting
    and the test is not marked ``own_database``: one that reads no database setting and
    starts its processes on a database of its own (as every test this deselects must:
    ``own_database_guard``)."""
    if needs_test_database(item):
        return True
    if item.get_closest_marker("own_database"):
        return False
    path = str(item.path)
    if path not in _mentions_database:
        text = item.path.read_text(encoding="utf-8", errors="replace")
        _mentions_database[path] = any(word in text for word in DATABASE_WORDS)
    return _mentions_database[path]


@pytest.fixture(autouse=True)
def own_database_guard(request, monkeypatch):
    """A test that ``--skip-db-free`` deselects (``uses_database`` false) runs alike on any
    database only if each process it starts is given a ``DATABASE_URL`` other than the
    run's: it fails otherwise. ``own_database`` on a test that uses the test database
    would deselect nothing: refused."""
    node = request.node
    assert not (node.get_closest_marker("own_database") and needs_test_database(node)), \
        "own_database: the test uses the test database"
    if uses_database(node):
        return
    import subprocess

    popen_init, run_url = subprocess.Popen.__init__, os.environ.get("DATABASE_URL")

    def checked_init(self, args, *rest, **options):
        url = (options.get("env") or {}).get("DATABASE_URL")
        assert url and url != run_url, f"{args} started without a DATABASE_URL of its own"
        popen_init(self, args, *rest, **options)

    monkeypatch.setattr(subprocess.Popen, "__init__", checked_init)


def expected_seconds(item) -> int:
    return next((seconds for prefix, seconds in SLOW_FIRST if item.nodeid.startswith(prefix)), 0)


@pytest.hookimpl(trylast=True)  # after pytest-django's order (rolled-back tests first)
def pytest_collection_modifyitems(config, items):
    """With xdist's ``worksteal`` each of the n workers first receives one n-th of the list,
    in order, and an idle worker later takes half of the others' remaining tests from their
    end. The slow tests are dealt out over those n parts (longest first, to the part with the
    least slow time) and put at the start of their part; the tests that need no database
    go before them on every part but the first (``needs_test_database``); every other test
    keeps its place in the order. The order only decides where tests run, never whether they run (every
    test leaves the database as it found it: rolled back or flushed).

    ``--skip-db-free`` (CI's second pass, on SQLite) first deselects the tests that use no
    database (``uses_database``): they ran in the first pass with the same code."""
    if config.getoption("skip_db_free"):
        kept = [item for item in items if uses_database(item)]
        if len(kept) < len(items):
            config.hook.pytest_deselected(items=[item for item in items if not uses_database(item)])
            items[:] = kept
    workers = getattr(config, "workerinput", {}).get("workercount", 0)
    if workers < 2 or not items:
        return
    slow = sorted((item for item in items if expected_seconds(item)), key=expected_seconds, reverse=True)
    if not slow:
        return
    sizes, left = [], len(items)  # how worksteal deals the list out
    for k in range(workers):
        sizes.append(left // (workers - k))
        left -= sizes[-1]
    parts, load = [[] for _ in sizes], [0] * workers
    for item in slow:
        k = min((k for k in range(workers) if len(parts[k]) < sizes[k]), key=lambda k: load[k])
        parts[k].append(item)
        load[k] += expected_seconds(item)
    # The tests that need no database go first on every worker but the first: the first
    # worker builds the test database (TemplateDatabase: one migrate) while the others
    # would otherwise wait for it doing nothing.
    free = [item for item in items if not expected_seconds(item) and not needs_test_database(item)]
    for j, item in enumerate(free):
        parts[1 + j % (workers - 1)].insert(j // (workers - 1), item)
    chosen = set(map(id, slow)) | set(map(id, free))
    spill = [item for k, size in enumerate(sizes) for item in parts[k][size:]]  # beyond a part's share
    for k, size in enumerate(sizes):
        del parts[k][size:]
    rest = iter(spill + [item for item in items if id(item) not in chosen])
    for k, size in enumerate(sizes):
        parts[k].extend(next(rest) for _ in range(size - len(parts[k])))
    items[:] = [item for part in parts for item in part]
