"""The hook by which the services say that the dashboard's figures of a pooling region's
year have changed (docs/reports.md §汇总表).

The dashboard reads summary tables (the ``reports`` app, at the top of the layers); the
services that change what they sum — payments, enrollments, settlement and the claim's
later states — live below it and cannot import it. They call
``dashboard_figures_changed(region_id=…, year=…)`` or ``(plan_year_id=…)`` instead: the
(pooling region, year) pairs and plan years of one transaction are gathered and, once it
commits, sent once as the signal ``figures_changed`` (``pairs``: a set of ``(region_id,
year)``, ``plan_year_ids``: a set of ids, no query spent here); the reports app
refreshes their summaries (``reports.apps``). Nothing is sent for a rolled-back
transaction. Without a receiver (e.g. a process without the reports app) nothing happens.
"""
from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

figures_changed = Signal()
"""Sent after the commit with ``pairs`` (set of (pooling region id, year)) and
``plan_year_ids`` (set of ids)."""


class _Pending:
    """The pairs of one outermost transaction, sent once when it commits."""

    def __init__(self, connection):
        self.connection = connection
        self.pairs: set[tuple[int, int]] = set()
        self.plan_year_ids: set[int] = set()

    def __call__(self):
        if getattr(self.connection, "_dashboard_pending", None) is self:
            self.connection._dashboard_pending = None
        if self.pairs or self.plan_year_ids:
            figures_changed.send(sender=None, pairs=set(self.pairs),
                                 plan_year_ids=set(self.plan_year_ids))


def dashboard_figures_changed(*, region_id: int | None = None, year: int | None = None,
                              plan_year_id: int | None = None, using=None) -> None:
    """Mark the figures of pooling region ``region_id`` in ``year`` (or of the plan year
    ``plan_year_id``'s region and year) as changed by the current transaction: refreshed
    after its commit, at once outside a transaction. A missing value marks nothing."""
    pair = (region_id, year) if region_id is not None and year is not None else None
    if pair is None and plan_year_id is None:
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        figures_changed.send(sender=None, pairs={pair} if pair else set(),
                             plan_year_ids={plan_year_id} if plan_year_id else set())
        return
    pending = getattr(connection, "_dashboard_pending", None)
    # a pending callback dropped by a rollback is no longer queued: start a new one
    if pending is None or not any(func is pending for _, func, _ in connection.run_on_commit):
        pending = _Pending(connection)
        connection._dashboard_pending = pending
        transaction.on_commit(pending, using=using)
    if pair:
        pending.pairs.add(pair)
    if plan_year_id:
        pending.plan_year_ids.add(plan_year_id)
