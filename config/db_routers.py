"""The read replica for reports (docs/deploy.md §只读副本, docs/scale.md).

``DATABASE_REPLICA_URL`` set (config/databases.py) → the alias ``replica`` (a PostgreSQL
streaming-replication standby, read-only) and ``REPORTS_READ_REPLICA`` on. Then
``ReportsReplicaRouter`` sends the report reads (``jobs.replica.reports_read()``) to
``replica`` and every other read and every write to ``default``; a report read goes to
``default`` too while the primary is pinned (``PrimaryAfterWriteMiddleware``) or inside a
transaction on ``default`` (it must see that transaction's own writes). ``replica`` is never
migrated. Without the setting the router says nothing and Django behaves as with no router.
"""
from __future__ import annotations

from contextlib import nullcontext

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from jobs.replica import primary_pinned, replica_allowed

REPLICA = "replica"
PIN_COOKIE = "medins_primary"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def replica_enabled() -> bool:
    return bool(getattr(settings, "REPORTS_READ_REPLICA", False)) and REPLICA in settings.DATABASES


class ReportsReplicaRouter:
    def db_for_read(self, model, **hints):
        if not replica_enabled():
            return None
        if replica_allowed() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA
        # explicit: not the database an instance came from (a row read from the replica
        # whose relation is followed later, outside the report read, reads the primary)
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS if replica_enabled() else None

    def allow_relation(self, obj1, obj2, **hints):
        # both aliases hold the same rows: a row read from the replica may be linked to one
        # being written to the primary
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # the replica is a copy of the primary made by PostgreSQL: never migrated itself
        return False if db == REPLICA else None


class PrimaryAfterWriteMiddleware:
    """Read-your-writes across requests: a request that may write (not GET/HEAD/…) reads
    only the primary, and so do the same browser's requests for
    ``DATABASE_REPLICA_PIN_SECONDS`` after it (a cookie), e.g. the dashboard shown right
    after 冻结参保率 redirects to it. Nothing happens without a replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_enabled():
            return self.get_response(request)
        writes = request.method not in SAFE_METHODS
        with primary_pinned() if writes or PIN_COOKIE in request.COOKIES else nullcontext():
            response = self.get_response(request)
        if writes:
            response.set_cookie(PIN_COOKIE, "1", max_age=settings.DATABASE_REPLICA_PIN_SECONDS, httponly=True,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response
