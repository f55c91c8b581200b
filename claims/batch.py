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

The chunks hold disjoint persons and each is its own transaction with those persons
locked, so they may run in any order, anywhere: ``claims_settle_batch`` runs them one
after the other in its own process (``import_sheet --settle``, ``settle_claims
--inline``, the admin action on a few claims); the job ``settle_claims``
(``claims.job_kinds``, started by ``claims_settle_start``) hands each chunk to a part
task, shared out among any number of Celery worker processes on any number of machines
(docs/claims.md §Batch settlement). Both call ``settle_chunk``, and the stored result is
the same (claims/tests/test_settle_workers.py compares them).
"""
from __future__ import annotations

import queue
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from insurance_rules.errors import CaseError
from jobs.models import Job
from jobs.services import job_start
from policies import models as pm
from policies.dashboard import dashboard_figures_changed
from sheets.bulk_sql import InArray, insert_history, update_rows

from . import fetch, selectors, services
from .gc_pause import gc_paused
from .models import Claim, ClaimDocument, ClaimLayer

SETTLED_FIELDS = services.SETTLED_FIELDS
CHUNK_PERSONS = 500  # persons per chunk: one transaction, one task of the job
THREADS = 2
"""Threads of ``claims_settle_batch`` on PostgreSQL outside a transaction, each with its
own connection: while one waits for the database, the other settles (docs/benchmarks.md
§Settlement: fewer statements, threads). 1 = the chunks one after the other."""


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


def _settleable(claims, acting_user):
    """The claims among ``claims`` that ``acting_user`` may (re-)settle: those of their
    regions (None = a system run: all of them); ``PermissionDenied`` without the
    permission."""
    if acting_user is not None:
        if not acting_user.has_perm("claims.settle_claim"):
            raise PermissionDenied("您没有执行此操作的权限")
        claims = selectors.claims_visible_to(acting_user, claims)
    return claims


def pending_claims(claims, acting_user):
    """The entered (录入/退回) claims among ``claims`` that ``acting_user`` may settle
    (``_settleable``)."""
    return _settleable(claims, acting_user).filter(status__in=Claim.EDITABLE)


def plan_chunks(pending, chunk_persons: int = CHUNK_PERSONS) -> list[tuple[int, int, list[int]]]:
    """The chunks of a run: (pooling region id, plan year, ids of at most ``chunk_persons``
    persons), each person in one chunk only, in region, year and person order."""
    groups = defaultdict(list)
    for region_id, year, person_id in (pending.values_list("region_id", "year", "person_id")
                                       .distinct().order_by("region_id", "year", "person_id")):
        groups[(region_id, year)].append(person_id)
    return [(region_id, year, chunk) for (region_id, year), person_ids in groups.items()
            for chunk in _chunks(person_ids, chunk_persons)]


def settle_chunk(pending, region_id: int, year: int, person_ids, acting_user, *,
                 groups: dict[tuple[int, int], _Group]) -> BatchReport:
    """Settle one chunk (``plan_chunks``) of ``pending`` in one transaction; ``groups``
    keeps what the chunks of one (region, year) share, resolved by the first of them."""
    if (region_id, year) not in groups:
        groups[(region_id, year)] = _Group.of(region_id, year)
    with gc_paused():  # the chunk's objects are not scanned again and again (gc_pause)
        return _settle_chunk(pending, groups[(region_id, year)], person_ids, acting_user)


def claims_settle_batch(*, claims, acting_user, chunk_persons: int = CHUNK_PERSONS,
                        progress: Callable[[int], None] | None = None) -> BatchReport:
    """Settle the entered (录入/退回) claims among ``claims`` (a queryset) in this process,
    chunk after chunk; see the module docstring. ``progress(n)`` is called with the number
    of claims handled after each chunk. ``acting_user`` None = a system run (management
    command without --user). The job ``settle_claims`` (``claims.job_kinds``) runs the
    same chunks as tasks shared out among the Celery workers."""
    pending = pending_claims(claims, acting_user)
    report = BatchReport()
    chunks = plan_chunks(pending, chunk_persons)
    threads = min(THREADS, len(chunks))
    if threads > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        for part in _threaded(pending, chunks, acting_user, threads):
            report.merge(part)
            if progress is not None:
                progress(part.handled)
        return report
    groups: dict[tuple[int, int], _Group] = {}
    for region_id, year, chunk in chunks:
        part = settle_chunk(pending, region_id, year, chunk, acting_user, groups=groups)
        report.merge(part)
        if progress is not None:
            progress(part.handled)
    return report


def _threaded(pending, chunks, acting_user, threads: int):
    """The chunks settled by ``threads`` threads, each on its own connection (Django's
    connections are per thread) and with its own ``_Group``s, each chunk its own
    transaction as in one thread; yields each chunk's report, in this (the calling)
    thread, as it is done. Only outside a transaction: a thread's connection would not
    see the caller's uncommitted rows. The first error stops the threads taking further
    chunks and is raised here (the chunks done stay committed, as one after the other)."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for chunk in chunks:
        todo.put(chunk)
    done: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def work():
        groups: dict[tuple[int, int], _Group] = {}
        try:
            while not stop.is_set():
                try:
                    region_id, year, chunk = todo.get_nowait()
                except queue.Empty:
                    break
                done.put(settle_chunk(pending, region_id, year, chunk, acting_user, groups=groups))
        except BaseException as exc:  # handed to the calling thread
            stop.set()
            done.put(exc)
        finally:
            connection.close()  # this thread's own
            done.put(None)

    workers = [threading.Thread(target=work, name=f"settle-{i}", daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    error, running = None, threads
    try:
        while running:
            item = done.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                error = error or item
            elif error is None:
                yield item
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    if error is not None:
        raise error


JOB_KIND = "settle_claims"  # claims.job_kinds


def claims_of_params(params: dict):
    """The claims a ``settle_claims`` job was started on, re-created from its parameters
    (``claims_settle_start``) in whichever process runs a part of it."""
    claims = Claim.objects.all()
    if params.get("claim_ids") is not None:
        claims = claims.filter(InArray(F("pk"), params["claim_ids"]))
    if params.get("region_id"):
        claims = claims.filter(region_id=params["region_id"])
    if params.get("year"):
        claims = claims.filter(year=params["year"])
    if params.get("statuses"):
        claims = claims.filter(status__in=params["statuses"])
    return claims


def _claim_params(*, claim_ids=None, region=None, year: int | None = None, statuses=None, **more) -> dict:
    """A run's claim filter as job parameters (what ``claims_of_params`` reads back)."""
    params = dict(more)
    if claim_ids is not None:
        params["claim_ids"] = sorted(int(pk) for pk in claim_ids)
    if region is not None:
        params["region_id"] = region.pk
    if year:
        params["year"] = int(year)
    if statuses:
        params["statuses"] = sorted(statuses)
    return params


def claims_settle_start(*, acting_user, claim_ids=None, region=None, year: int | None = None,
                        statuses=None, chunk_persons: int = CHUNK_PERSONS) -> Job:
    """Start the job ``settle_claims`` on the entered claims among ``claim_ids`` (the
    admin's selection), or of ``region`` (a pooling region), ``year`` and ``statuses``;
    the chunks then run on the Celery workers. ``PermissionDenied`` at once when the user
    may not settle."""
    params = _claim_params(claim_ids=claim_ids, region=region, year=year, statuses=statuses,
                           chunk_persons=chunk_persons)
    pending = pending_claims(claims_of_params(params), acting_user)
    regions = {r.pk: r.name for r in pm.Region.objects.filter(pk__in=pending.values("region_id").distinct())}
    if claim_ids is not None:
        title = f"批量结算所选的 {len(params['claim_ids'])} 件理赔"
    else:
        where = region.name if region is not None else "、".join(sorted(regions.values())) or "全部统筹区"
        title = f"批量结算{where}{f' {year} 年度' if year else ''}已录入的理赔"
    return job_start(kind=JOB_KIND, title=title, acting_user=acting_user, params=params,
                     region_ids=list(regions) + ([region.pk] if region is not None else []))


@transaction.atomic
def _settle_chunk(pending, group: _Group, person_ids, acting_user) -> BatchReport:
    """One transaction: lock the chunk's persons, read, settle, write (module docstring)."""
    context, rules, names = group.context, group.rules, group.context.names
    report = BatchReport()
    persons = fetch.lock_persons(person_ids, as_rows=True)  # before the history is read (README §6)
    dashboard_figures_changed(region_id=context.region.pk, year=context.year)  # after commit
    todo = fetch.claim_rows(pending.filter(InArray(F("person_id"), person_ids), region=context.region,
                                           year=context.year))  # as values, not model instances
    inputs = fetch.fetch_settlement_inputs(context, todo, persons=persons)

    now = timezone.now()
    rows: list[tuple] = []
    documents: list[ClaimDocument] = []
    done: list[fetch.ClaimRow] = []
    returned: list[tuple[fetch.ClaimRow, dict]] = []  # (claim, paid by scheme)
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
                documents.append(ClaimDocument(claim_id=claim.pk, scheme_kind=kind, rule=rule, code=rule.code,
                                               name=rule.name, copies=rule.copies, seq=rule.seq))
        else:
            returned.append((claim, settled.paid_by_scheme()))
        done.append(claim)
    if done:
        if returned:  # a returned claim's earlier lines stay as history, no longer current
            ClaimLayer.objects.filter(claim__in=[c.pk for c, _ in returned], is_current=True).update(
                is_current=False)
        services.insert_layers(rows)
        update_rows(Claim, SETTLED_FIELDS, done, history=dict(user=acting_user, reason="批量结算", when=now))
        if documents:
            ClaimDocument.objects.bulk_create(documents, batch_size=1000)
            insert_history(ClaimDocument, ClaimDocument.objects.filter(InArray(F("claim_id"),
                                                                               [c.pk for c in done])),
                           user=acting_user, reason="批量结算", when=now, created=True)
        if returned:  # keeps the items already received (services), on the model instances
            instances = Claim.objects.select_related("region", "hospital__region__parent").in_bulk(
                [c.pk for c, _ in returned])
            for claim, paid in returned:
                services.regenerate_documents(instances[claim.pk], paid, acting_user)
    report.settled = len(done)
    report.persons = len(persons)
    report.handled = len(inputs.claims)
    return report


RESETTLE_KIND = "resettle_claims"  # claims.job_kinds
RESETTLE_REASON = "参数调整后批量重新结算"


def resettle_candidates(claims, acting_user):
    """The settled, not yet approved (已结算) claims among ``claims`` that ``acting_user``
    may re-settle (``_settleable``)."""
    return _settleable(claims, acting_user).filter(status=Claim.Status.SETTLED)


def claims_resettle_start(*, acting_user, claim_ids=None, region=None, year: int | None = None,
                          reason: str = RESETTLE_REASON, chunk_persons: int = CHUNK_PERSONS) -> Job:
    """Start the job ``resettle_claims`` (after a parameter change): the 已结算 claims
    among ``claim_ids`` or of ``region``/``year`` are settled again under today's
    parameters, person by person in history order, each keeping its earlier version
    (``services.claim_resettle``); approved and paid claims are never touched."""
    params = _claim_params(claim_ids=claim_ids, region=region, year=year, chunk_persons=chunk_persons,
                           reason=reason.strip() or RESETTLE_REASON)
    todo = resettle_candidates(claims_of_params(params), acting_user)
    regions = list(todo.values_list("region_id", flat=True).distinct())
    where = f"所选的 {len(params['claim_ids'])} 件" if claim_ids is not None else (
        f"{region.name if region is not None else '全部统筹区'}{f' {year} 年度' if year else ''}")
    return job_start(kind=RESETTLE_KIND, title=f"重新结算{where}已结算理赔", acting_user=acting_user,
                     params=params, region_ids=regions + ([region.pk] if region is not None else []))
