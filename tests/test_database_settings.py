"""The database aliases a deployment gets from its environment (config/databases.py;
docs/deploy.md §数据库连接): the read replica's alias only with ``DATABASE_REPLICA_URL``,
psycopg's pool with ``DATABASE_POOL``, persistent connections with health checks; the
replica never migrated. The last
test opens a real pooled connection when the suite itself runs with ``DATABASE_POOL=true``."""
import environ
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, router

from config.databases import REPLICA, databases
from policies.models import Region

PRIMARY = "postgres://medins@db:5432/medins"
STANDBY = "postgres://medins_ro@standby:5432/medins"
VARIABLES = ("DATABASE_URL", "DATABASE_REPLICA_URL", "DATABASE_POOL", "DATABASE_POOL_MIN_SIZE",
             "DATABASE_POOL_MAX_SIZE", "DATABASE_POOL_TIMEOUT", "DATABASE_CONN_MAX_AGE",
             "DATABASE_CONN_HEALTH_CHECKS")


@pytest.fixture
def read(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def read(**variables):
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return databases(environ.Env(), sqlite_file=tmp_path / "db.sqlite3")
    return read


def test_without_a_replica_url_there_is_only_the_primary(read):
    assert list(read()) == ["default"]  # the SQLite file of make run
    aliases = read(DATABASE_URL=PRIMARY)
    assert list(aliases) == ["default"]
    default = aliases["default"]
    assert (default["HOST"], default["NAME"], default["CONN_MAX_AGE"]) == ("db", "medins", 0)
    assert "pool" not in default["OPTIONS"]


def test_the_replica_url_adds_the_replica_alias_mirrored_in_tests(read):
    aliases = read(DATABASE_URL=PRIMARY, DATABASE_REPLICA_URL=STANDBY)
    assert list(aliases) == ["default", REPLICA]
    replica = aliases[REPLICA]
    assert (replica["HOST"], replica["USER"], replica["ENGINE"]) == ("standby", "medins_ro",
                                                                      "django.db.backends.postgresql")
    assert replica["TEST"] == {"MIRROR": "default"}  # a test run never creates a database there


def test_pool_on_each_postgresql_alias(read):
    aliases = read(DATABASE_URL=PRIMARY, DATABASE_REPLICA_URL=STANDBY, DATABASE_POOL="true")
    for alias in aliases.values():
        assert alias["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10.0}
        assert alias["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    sized = read(DATABASE_URL=PRIMARY, DATABASE_POOL="true", DATABASE_POOL_MIN_SIZE="2",
                 DATABASE_POOL_MAX_SIZE="8", DATABASE_POOL_TIMEOUT="3")
    assert sized["default"]["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 3.0}


def test_pool_and_persistent_connections_exclude_each_other(read):
    with pytest.raises(ImproperlyConfigured, match="CONN_MAX_AGE"):
        read(DATABASE_URL=PRIMARY, DATABASE_POOL="true", DATABASE_CONN_MAX_AGE="60")
    with pytest.raises(ImproperlyConfigured, match="CONN_MAX_AGE"):
        read(DATABASE_URL=PRIMARY + "?conn_max_age=600", DATABASE_POOL="true")


def test_persistent_connections_are_health_checked(read):
    assert read(DATABASE_URL=PRIMARY + "?conn_max_age=600")["default"]["CONN_MAX_AGE"] == 600
    default = read(DATABASE_URL=PRIMARY, DATABASE_CONN_MAX_AGE="60")["default"]  # the variable wins
    assert (default["CONN_MAX_AGE"], default["CONN_HEALTH_CHECKS"]) == (60, True)


def test_the_replica_is_never_migrated():
    """``migrate --database replica`` creates nothing: the standby is PostgreSQL's copy
    (config/db_routers.py; the test settings define the alias)."""
    assert router.allow_migrate(REPLICA, "claims", model_name="claim") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "claims", model_name="claim") is True
    assert not router.allow_migrate_model(REPLICA, Region)
    assert router.allow_migrate_model(DEFAULT_DB_ALIAS, Region)


def test_sqlite_has_no_pool_and_waits_for_a_writer(read):
    default = read(DATABASE_POOL="true")["default"]
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert default["OPTIONS"] == {"timeout": 20}


@pytest.mark.postgres
@pytest.mark.skipif(not settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
                    reason="the suite runs without DATABASE_POOL=true")
@pytest.mark.django_db
def test_a_pooled_connection_answers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    stats = connection.pool.get_stats()
    assert 1 <= stats["pool_size"] <= settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
