"""Batch settlement of entered claims (``settle_claims``; hospitals' monthly settlement
lists imported in bulk): the same engine and the same stored result as
``services.claim_settle``, with the reads and writes done per group of persons instead
of per claim.

For each (pooling region, plan year) the plan parameters are resolved once. Persons are
taken in chunks; each chunk is one transaction that first locks the chunk's person rows
(``select_for_update``, in id order — the lock ``claim_settle`` takes, so a clerk settling
one claim of the same person at the same time waits, README §6), then reads in bulk the
persons' enrollments, identities, approved registrations and already counted claims (the
year-to-date history), settles each person's entered claims in history order (service
date, then id) with each result appended to that person's history, and writes the result
lines, the claims and the documents checklist in bulk (with history rows).

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

from enrollment.models import Enrollment, Person, PersonIdentity, PreExistingDeclaration, Suspension
from enrollment.selectors.registrations import held_registrations_by_person
from insurance_rules.errors import CaseError
from insurance_rules.facts import GivenLayer as EngineGiven
from insurance_rules.facts import HeldIdentity
from insurance_rules.settle import settle_claim
from policies import models as pm
from policies import selectors as policy_selectors
from sheets.bulk_sql import InArray, insert_history, insert_values, update_rows

from . import selectors, services
from .models import Claim, ClaimDocument, ClaimLayer, GivenLayer, Hospital

SETTLED_FIELDS = ["status", "settlement_version", "fund_total", "personal", "settled_at", "settled_by_id",
                  "approved_at", "approved_by_id", "status_reason"]  # services.mark_settled


_PERSON, _REGION, _HOSPITAL, _DISEASE = (Claim._meta.get_field(name)
                                         for name in ("person", "region", "hospital", "disease"))
_PLAN_YEAR = Enrollment._meta.get_field("plan_year")


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


class _References:
    """The rows a group's claims and enrollments point to (the pooling region, its plan
    years, hospitals, diseases), read once per (region, plan year) and attached to the
    claims instead of joined into every claim row (a model instance per join and row
    costs more than the settlement)."""

    def __init__(self, region: pm.Region, year: int):
        self.region = region
        self.plan_years = pm.PlanYear.objects.filter(scheme__region=region, year=year).select_related(
            "scheme").in_bulk()
        self.hospitals: dict = {}
        self.diseases: dict = {}

    def attach(self, claims: list[Claim], persons: dict) -> list[Claim]:
        missing = {c.hospital_id for c in claims if c.hospital_id} - self.hospitals.keys()
        if missing:
            self.hospitals.update(Hospital.objects.select_related("region__parent").in_bulk(missing))
        missing = {c.disease_id for c in claims if c.disease_id} - self.diseases.keys()
        if missing:
            self.diseases.update(pm.ChronicDisease.objects.in_bulk(missing))
        for c in claims:  # as select_related caches them (the descriptors' checks cost more)
            _PERSON.set_cached_value(c, persons[c.person_id])
            _REGION.set_cached_value(c, self.region)
            _HOSPITAL.set_cached_value(c, self.hospitals[c.hospital_id] if c.hospital_id else None)
            _DISEASE.set_cached_value(c, self.diseases[c.disease_id] if c.disease_id else None)
        return claims


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass
class _Group:
    """What every chunk of a (pooling region, plan year) shares, resolved once per process:
    the plan parameters, scheme names, document rules and the referenced rows."""

    region: pm.Region
    year: int
    plans: dict
    names: dict
    rules: list
    refs: _References

    @classmethod
    def of(cls, region_id: int, year: int) -> _Group:
        region = pm.Region.objects.get(pk=region_id)
        return cls(region=region, year=year,
                   plans=policy_selectors.region_plans(region_code=region.code, year=year),
                   names=policy_selectors.scheme_names(region.code),
                   rules=selectors.document_rules(region, year), refs=_References(region, year))


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
    region, year, plans, names, rules, refs = (group.region, group.year, group.plans, group.names,
                                               group.rules, group.refs)
    report = BatchReport()
    of_persons = InArray(F("person_id"), person_ids)  # one array parameter, not 500 placeholders
    persons = {p.pk: p for p in Person.objects.select_for_update().filter(InArray(F("pk"), person_ids))
               .order_by("pk")}
    todo = refs.attach(list(pending.filter(of_persons, region=region, year=year)
                            .order_by("person_id", "service_date", "id")), persons)
    counted = refs.attach(list(Claim.objects.filter(of_persons, region=region, year=year,
                                                    status__in=Claim.COUNTED)
                               .order_by("person_id", "service_date", "id")), persons)
    given = defaultdict(dict)  # one query instead of a prefetch queryset per claim
    for g in GivenLayer.objects.filter(InArray(F("claim_id"), [c.pk for c in (*todo, *counted)])):
        given[g.claim_id][g.scheme_kind] = EngineGiven(paid=g.paid, deductible=g.deductible,
                                                       over_cap=g.over_cap)
    enrollments = defaultdict(list)
    for e in (Enrollment.objects.filter(of_persons, plan_year__in=list(refs.plan_years))
              .order_by("person_id", "plan_year__scheme__settlement_order")):
        _PLAN_YEAR.set_cached_value(e, refs.plan_years[e.plan_year_id])
        enrollments[e.person_id].append(e)
    enrollment_ids = [e.pk for rows in enrollments.values() for e in rows]
    of_enrollments = InArray(F("enrollment_id"), enrollment_ids)
    suspensions = defaultdict(list)
    for row in Suspension.objects.filter(of_enrollments).order_by("date_from", "id"):
        suspensions[row.enrollment_id].append(row)
    pre_existing = defaultdict(list)
    for enrollment_id, group in (PreExistingDeclaration.objects.filter(of_enrollments)
                                 .order_by("id").values_list("enrollment_id", "group")):
        pre_existing[enrollment_id].append(group)
    identities = defaultdict(list)
    for pi in PersonIdentity.objects.filter(of_persons).select_related("identity"):
        identities[pi.person_id].append(HeldIdentity(pi.identity.code, pi.valid_from, pi.valid_to))
    registrations = held_registrations_by_person(person_ids)
    history = defaultdict(list)
    for claim, settled in zip(counted, selectors.settled_history(counted, given=given), strict=True):
        history[claim.person_id].append(settled)

    now = timezone.now()
    facts_of: dict[int, tuple] = {}
    rows: list[dict] = []
    documents: list[ClaimDocument] = []
    done: list[Claim] = []
    returned: list[tuple[Claim, dict]] = []  # (claim, paid by scheme)
    for claim in todo:
        pid = claim.person_id
        if pid not in facts_of:
            mine = enrollments[pid]
            facts_of[pid] = (
                selectors.person_facts_from(persons[pid], region, year, mine,
                                            identities=tuple(identities[pid]),
                                            registrations=registrations.get(pid, ()),
                                            pre_existing=pre_existing),
                selectors.coverages_from(mine, suspensions))
        person, coverages = facts_of[pid]
        try:
            settled = settle_claim(plans=plans, person=person, coverages=coverages,
                                   claim=selectors.claim_facts(claim, given=given[claim.pk]),
                                   history=tuple(history[pid]),
                                   scheme_names=names)
        except CaseError as exc:
            report.failed.append((claim.pk, claim.settlement_no, exc.message))
            continue
        history[pid].append(settled)
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
    report.handled = len(todo)
    return report
