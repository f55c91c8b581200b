"""Which reads may go to the read replica (config/db_routers.py; docs/deploy.md §只读副本,
docs/scale.md).

A read goes to the replica only when the code says it is a report read, by running it
inside ``reports_read()``: the dashboard's figures, the figure exports and the export
jobs (reports/, sheets/job_kinds.py). Everything else, and every write, stays on the
primary (``default``); so does a report read while the primary is pinned by
``primary_pinned()`` (a request that writes, and the requests of the same browser for a
few seconds after: config.db_routers.PrimaryAfterWriteMiddleware), or inside a
transaction on the primary (the router checks that). Without a replica configured these
do nothing.

Here, in the lowest layer that runs report reads' code (sheets' export jobs sit just above),
so that every app can mark its reads; it is plain context state and imports nothing."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

_report_read: ContextVar[bool] = ContextVar("medins_report_read", default=False)
_primary_pinned: ContextVar[bool] = ContextVar("medins_primary_pinned", default=False)


@contextmanager
def reports_read():
    """The reads inside are report reads: the router may send them to the replica, which
    may be a moment behind the primary. Writes inside still go to the primary."""
    token = _report_read.set(True)
    try:
        yield
    finally:
        _report_read.reset(token)


@contextmanager
def primary_pinned():
    """Every read inside goes to the primary, report reads too (read-your-writes)."""
    token = _primary_pinned.set(True)
    try:
        yield
    finally:
        _primary_pinned.reset(token)


def replica_allowed() -> bool:
    """Inside ``reports_read()`` and not pinned to the primary."""
    return _report_read.get() and not _primary_pinned.get()
