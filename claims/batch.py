"""Batch settlement of entered claims (``settle_claims``; hospitals' monthly settlement
lists imported in bulk): the same engine and the same stored result as
``services.claim_settle``, with the reads and writes done per group of persons instead
of per claim.

For each (pooling region, plan year) the plan parameters are resolved once
(``fetch.RegionYear``). Persons are taken in chunks; each chunk is one transaction that
first locks the chunk's person rows (``fetch.lock_persons``: ``select_for_update``, in id
order — the lock ``claim_settle`` takes, so a clerk settling one claim of the same person
at the same time waits, README §6), then reads the settlement inputs in bulk as single
settlement reads them (``fetch.fetch_settlement_inputs``: the persons' enrollments,
identities, held registrations and already counted claims — the year-to-date history),
settles each person's entered claims in history order (service date, then id) with each
result appended to that person's history (``fetch.settle_in_order``), and writes the
result lines, the claims and the documents checklist in bulk (with history rows).

A claim the engine refuses (e.g. ``missing_rule``: a given layer not carried in) stays
as it was and is reported with the engine's Chinese message; the person's later claims
are settled without it (it is not counted until settled).
"""
from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from insurance_rules.errors import CaseError
from policies import models as pm
from sheets.bulk_sql import InArray, insert_history, insert_values, update_rows

from . import fetch, selectors, services
from .models import Claim, ClaimDocument, ClaimLayer

SETTLED_FIELDS = ["status", "settlement_version", "fund_total", "personal", "settled_at", "settled_by_id",
                  "approved_at", "approved_by_id", "status_reason"]  # services.mark_settled



@dataclass
class BatchReport:
    settled: int = 0
    persons: int = 0
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # (id, settlement no, message)
    handled: int = 0  # claims looked at (settled + failed)

    def merge(self, other: BatchReport) -> None:
        self.settled += other.settled
        self.persons += other.persons
        self.failed.extend(other.failed)
        self.handled += other.handled


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass
class _Group:
    """What every chunk of a (pooling region, plan year) shares, resolved once per process:
    the settlement context (``fetch.RegionYear``: plan parameters, scheme names, plan
    years, referenced rows) and the document rules."""

    context: fetch.RegionYear
    rules: list

    @classmethod
    def of(cls, region_id: int, year: int) -> _Group:
        region = pm.Region.objects.get(pk=region_id)
        return cls(context=fetch.RegionYear.of(region, year), rules=selectors.document_rules(region, year))


def _can_fork(workers: int) -> bool:
    """Worker processes only on PostgreSQL (each with its own connection; SQLite has one
    writer) and outside a caller's transaction (a worker would not see its rows)."""
    return (workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
            and "fork" in multiprocessing.get_all_start_methods())


def claims_settle_batch(*, claims, acting_user, chunk_persons: int = 500, workers: int = 1,
                        progress: Callable[[int], None] | None = None) -> BatchReport:
    """Settle the entered (录入/退回) claims among ``claims`` (a queryset); see the module
    docstring. ``progress(n)`` is called with the number of claims handled after each
    chunk. ``acting_user`` None = a system run (management command without --user).

    ``workers`` > 1 (PostgreSQL, outside a transaction): the chunks are shared out among
    that many processes, each with its own database connection. Chunks hold disjoint
    persons and each is its own transaction with the persons' rows locked, so the result
    is the one a single process gives (tests compare them)."""
    if acting_user is not None:
        if not acting_user.has_perm("claims.settle_claim"):
            raise PermissionDenied("您没有执行此操作的权限")
        claims = selectors.claims_visible_to(acting_user, claims)
    pending = claims.filter(status__in=Claim.EDITABLE)
    groups = defaultdict(list)
    for region_id, year, person_id in (pending.values_list("region_id", "year", "person_id")
                                       .distinct().order_by("region_id", "year", "person_id")):
        groups[(region_id, year)].append(person_id)
    tasks = [(region_id, year, chunk) for (region_id, year), person_ids in groups.items()
             for chunk in _chunks(person_ids, chunk_persons)]
    report = BatchReport()
    if _can_fork(workers) and len(tasks) > 1:
        connections.close_all()  # the workers open their own; none may share the parent's
        context = multiprocessing.get_context("fork")
        with context.Pool(min(workers, len(tasks)), initializer=_worker_init,
                          initargs=(pending, acting_user)) as pool:
            results = pool.imap_unordered(_worker_chunk, tasks)
            for part in results:
                report.merge(part)
                if progress is not None:
                    progress(part.handled)
        report.failed.sort()  # chunks finish in any order
        return report
    cache: dict[tuple, _Group] = {}
    for region_id, year, chunk in tasks:
        if (region_id, year) not in cache:
            cache[(region_id, year)] = _Group.of(region_id, year)
        part = _settle_chunk(pending, cache[(region_id, year)], chunk, acting_user)
        report.merge(part)
        if progress is not None:
            progress(part.handled)
    return report


_worker: dict = {}  # in a worker process: the queryset, the user and the groups resolved


def _worker_init(pending, acting_user) -> None:
    connections.close_all()  # inherited closed; make sure nothing of the parent's is reused
    _worker.update(pending=pending, acting_user=acting_user, groups={})


def _worker_chunk(task) -> BatchReport:
    region_id, year, chunk = task
    groups = _worker["groups"]
    if (region_id, year) not in groups:
        groups[(region_id, year)] = _Group.of(region_id, year)
    return _settle_chunk(_worker["pending"], groups[(region_id, year)], chunk, _worker["acting_user"])


@transaction.atomic
def _settle_chunk(pending, group: _Group, person_ids, acting_user) -> BatchReport:
    """One transaction: lock the chunk's persons, read, settle, write (module docstring)."""
    context, rules, names = group.context, group.rules, group.context.names
    report = BatchReport()
    persons = fetch.lock_persons(person_ids)  # before the history is read (README §6)
    todo = list(pending.filter(InArray(F("person_id"), person_ids), region=context.region,
                               year=context.year))
    inputs = fetch.fetch_settlement_inputs(context, todo, persons=persons)

    now = timezone.now()
    rows: list[dict] = []
    documents: list[ClaimDocument] = []
    done: list[Claim] = []
    returned: list[tuple[Claim, dict]] = []  # (claim, paid by scheme)
    for claim, settled in fetch.settle_in_order(inputs):
        if isinstance(settled, CaseError):
            report.failed.append((claim.pk, claim.settlement_no, settled.message))
            continue
        version = claim.settlement_version + 1
        rows.extend(services.layer_values(claim, settled, version=version, now=now,
                                          acting_user=acting_user, names=names))
        services.mark_settled(claim, settled, version=version, now=now, acting_user=acting_user)
        claim.status_reason = ""
        claim._change_reason = "批量结算"
        if version == 1:
            for kind, rule in selectors.required_documents(claim, settled.paid_by_scheme(), rules):
                documents.append(ClaimDocument(claim=claim, scheme_kind=kind, rule=rule, code=rule.code,
                                               name=rule.name, copies=rule.copies, seq=rule.seq))
        else:
            returned.append((claim, settled.paid_by_scheme()))
        done.append(claim)
    if done:
        if returned:  # a returned claim's earlier lines stay as history, no longer current
            ClaimLayer.objects.filter(claim__in=[c.pk for c, _ in returned], is_current=True).update(
                is_current=False)
        insert_values(ClaimLayer, rows, now=now, return_ids=False)
        update_rows(Claim, SETTLED_FIELDS, done)
        insert_history(Claim, done, user=acting_user, reason="批量结算", when=now, created=False)
        if documents:
            ClaimDocument.objects.bulk_create(documents, batch_size=1000)
            insert_history(ClaimDocument, ClaimDocument.objects.filter(InArray(F("claim_id"),
                                                                               [c.pk for c in done])),
                           user=acting_user, reason="批量结算", when=now, created=True)
        for claim, paid in returned:  # keeps the items already received (services)
            services.regenerate_documents(claim, paid, acting_user)
    report.settled = len(done)
    report.persons = len(persons)
    report.handled = len(inputs.claims)
    return report
