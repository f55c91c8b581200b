"""The database aliases from the environment (config/settings.py; docs/deploy.md §数据库连接).

- ``DATABASE_URL`` → ``default``, the primary (a SQLite file when unset: ``make run``).
- ``DATABASE_REPLICA_URL`` → ``replica``: a read-only standby of the primary that the
  reports read (config/db_routers.py). Unset: no such alias, nothing changes. In a test
  run it is a mirror of the test database (``TEST: MIRROR``), never a database of its own.
- ``DATABASE_POOL=true`` → psycopg's connection pool in each process (PostgreSQL only;
  needs ``psycopg_pool``), ``DATABASE_POOL_MIN_SIZE`` (1), ``DATABASE_POOL_MAX_SIZE`` (4:
  a sync gunicorn worker or a prefork Celery child uses one connection at a time, a
  threaded one one per thread), ``DATABASE_POOL_TIMEOUT`` (10 s waiting for a free
  connection, then an error instead of a hung request). A pool excludes persistent
  connections: ``CONN_MAX_AGE`` is 0 with it.
- ``DATABASE_CONN_MAX_AGE`` (seconds; else ``?conn_max_age=`` of the URL, else 0: a
  connection per request) keeps connections open between requests without a pool;
  ``CONN_HEALTH_CHECKS`` (``DATABASE_CONN_HEALTH_CHECKS``, on) tests a kept connection
  before reusing it, so a restarted database costs one reconnect, not an error page.
"""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

REPLICA = "replica"


def _connections(env, settings_dict: dict) -> None:
    options = settings_dict.setdefault("OPTIONS", {})
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        options["timeout"] = 20  # wait for a writer instead of failing at once ("database is locked")
        return
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        return
    settings_dict["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=True)
    max_age = env.int("DATABASE_CONN_MAX_AGE", default=int(settings_dict.get("CONN_MAX_AGE") or 0))
    if env.bool("DATABASE_POOL", default=False):
        if max_age:
            raise ImproperlyConfigured(
                "DATABASE_POOL=true excludes persistent connections: unset DATABASE_CONN_MAX_AGE and "
                "conn_max_age in the URL（使用连接池时不能同时设置 CONN_MAX_AGE）")
        options["pool"] = {"min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
                           "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
                           "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0)}
    settings_dict["CONN_MAX_AGE"] = max_age


def databases(env, *, sqlite_file) -> dict:
    """The ``DATABASES`` setting read from ``env`` (a django-environ ``Env``)."""
    aliases = {"default": env.db("DATABASE_URL", default=f"sqlite:///{sqlite_file}")}
    replica_url = env("DATABASE_REPLICA_URL", default="")
    if replica_url:
        aliases[REPLICA] = {**env.db_url_config(replica_url), "TEST": {"MIRROR": "default"}}
    for settings_dict in aliases.values():
        _connections(env, settings_dict)
    return aliases
