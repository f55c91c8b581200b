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

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from claims.engine.errors import CaseError
from claims.engine.facts import GivenLayer as EngineGiven
from claims.engine.facts import HeldIdentity
from claims.engine.settle import settle_claim
from enrollment.models import Enrollment, Person, PersonIdentity, PreExistingDeclaration, Suspension
from enrollment.selectors_registration import held_registrations_by_person
from policies import models as pm
from policies import selectors as policy_selectors
from sheets.bulk_sql import insert_history, insert_many

from . import selectors, services
from .models import Claim, ClaimDocument, ClaimLayer, GivenLayer, Hospital

SETTLED_FIELDS = ("status", "settlement_version", "fund_total", "personal", "settled_at", "settled_by_id",
                  "approved_at", "approved_by_id", "status_reason")


def _update_settled(claims: list[Claim]) -> None:
    """Write the settlement fields of ``claims`` (``services.mark_settled``) in one
    prepared statement run for every claim (``executemany``: pipelined on PostgreSQL);
    Django's ``bulk_update`` builds one CASE expression per field and row and costs more
    than the settlement itself."""
    ops = connection.ops
    table = connection.ops.quote_name(Claim._meta.db_table)
    columns = [Claim._meta.get_field(name.removesuffix("_id")).column for name in SETTLED_FIELDS]
    assignments = ", ".join(f"{ops.quote_name(c)} = %s" for c in columns)
    sql = f"UPDATE {table} SET {assignments} WHERE {ops.quote_name('id')} = %s"

    def value(claim, name):
        v = getattr(claim, name)
        if name in ("settled_at", "approved_at"):
            return ops.adapt_datetimefield_value(v)
        if name in ("fund_total", "personal"):
            return ops.adapt_decimalfield_value(v, 14, 2)
        return v

    with connection.cursor() as cursor:
        cursor.executemany(sql, [[value(c, n) for n in SETTLED_FIELDS] + [c.pk] for c in claims])


@dataclass
class BatchReport:
    settled: int = 0
    persons: int = 0
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # (id, settlement no, message)


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
        for c in claims:
            c.person = persons[c.person_id]
            c.region = self.region
            c.hospital = self.hospitals[c.hospital_id] if c.hospital_id else None
            c.disease = self.diseases[c.disease_id] if c.disease_id else None
        return claims


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def claims_settle_batch(*, claims, acting_user, chunk_persons: int = 500,
                        progress: Callable[[int], None] | None = None) -> BatchReport:
    """Settle the entered (录入/退回) claims among ``claims`` (a queryset); see the module
    docstring. ``progress(n)`` is called with the number of claims handled after each
    chunk. ``acting_user`` None = a system run (management command without --user)."""
    if acting_user is not None:
        if not acting_user.has_perm("claims.settle_claim"):
            raise PermissionDenied("您没有执行此操作的权限")
        claims = selectors.claims_visible_to(acting_user, claims)
    pending = claims.filter(status__in=Claim.EDITABLE)
    report = BatchReport()
    groups = defaultdict(list)
    for region_id, year, person_id in (pending.values_list("region_id", "year", "person_id")
                                       .distinct().order_by("region_id", "year", "person_id")):
        groups[(region_id, year)].append(person_id)
    for (region_id, year), person_ids in groups.items():
        region = pm.Region.objects.get(pk=region_id)
        plans = policy_selectors.region_plans(region_code=region.code, year=year)
        names = policy_selectors.scheme_names(region.code)
        rules = selectors.document_rules(region, year)
        refs = _References(region, year)
        for chunk in _chunks(person_ids, chunk_persons):
            done = _settle_chunk(pending, region, year, chunk, plans, names, rules, refs, acting_user,
                                 report)
            if progress is not None:
                progress(done)
    return report


@transaction.atomic
def _settle_chunk(pending, region, year, person_ids, plans, names, rules, refs: _References,
                  acting_user, report: BatchReport) -> int:
    persons = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=person_ids).order_by("pk")}
    todo = refs.attach(list(pending.filter(region=region, year=year, person_id__in=person_ids)
                            .order_by("person_id", "service_date", "id")), persons)
    counted = refs.attach(list(Claim.objects.filter(person_id__in=person_ids, region=region, year=year,
                                                    status__in=Claim.COUNTED)
                               .order_by("person_id", "service_date", "id")), persons)
    given = defaultdict(dict)  # one query instead of a prefetch queryset per claim
    for g in GivenLayer.objects.filter(claim__in=[c.pk for c in (*todo, *counted)]):
        given[g.claim_id][g.scheme_kind] = EngineGiven(paid=g.paid, deductible=g.deductible,
                                                       over_cap=g.over_cap)
    enrollments = defaultdict(list)
    for e in (Enrollment.objects.filter(person_id__in=person_ids, plan_year__year=year,
                                        plan_year__scheme__region=region)
              .order_by("person_id", "plan_year__scheme__settlement_order")):
        e.plan_year = refs.plan_years[e.plan_year_id]
        enrollments[e.person_id].append(e)
    enrollment_ids = [e.pk for rows in enrollments.values() for e in rows]
    suspensions = defaultdict(list)
    for row in Suspension.objects.filter(enrollment_id__in=enrollment_ids).order_by("date_from", "id"):
        suspensions[row.enrollment_id].append(row)
    pre_existing = defaultdict(list)
    for enrollment_id, group in (PreExistingDeclaration.objects.filter(enrollment_id__in=enrollment_ids)
                                 .order_by("id").values_list("enrollment_id", "group")):
        pre_existing[enrollment_id].append(group)
    identities = defaultdict(list)
    for pi in PersonIdentity.objects.filter(person_id__in=person_ids).select_related("identity"):
        identities[pi.person_id].append(HeldIdentity(pi.identity.code, pi.valid_from, pi.valid_to))
    registrations = held_registrations_by_person(person_ids)
    history = defaultdict(list)
    for claim, settled in zip(counted, selectors.settled_history(counted, given=given), strict=True):
        history[claim.person_id].append(settled)

    now = timezone.now()
    facts_of: dict[int, tuple] = {}
    rows: list[ClaimLayer] = []
    documents: list[ClaimDocument] = []
    done: list[Claim] = []
    returned: list[tuple[Claim, list[ClaimLayer]]] = []
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
        lines = services.layer_rows(claim, settled, version=version, now=now, acting_user=acting_user,
                                    names=names)
        rows.extend(lines)
        services.mark_settled(claim, settled, version=version, now=now, acting_user=acting_user)
        claim.status_reason = ""
        claim._change_reason = "批量结算"
        if version == 1:
            for kind, rule in selectors.required_documents(claim, lines, rules):
                documents.append(ClaimDocument(claim=claim, scheme_kind=kind, rule=rule, code=rule.code,
                                               name=rule.name, copies=rule.copies, seq=rule.seq))
        else:
            returned.append((claim, lines))
        done.append(claim)
    if done:
        if returned:  # a returned claim's earlier lines stay as history, no longer current
            ClaimLayer.objects.filter(claim__in=[c for c, _ in returned], is_current=True).update(
                is_current=False)
        insert_many(ClaimLayer, rows)
        _update_settled(done)
        insert_history(Claim, done, user=acting_user, reason="批量结算", when=now, created=False)
        if documents:
            ClaimDocument.objects.bulk_create(documents, batch_size=1000)
            insert_history(ClaimDocument, ClaimDocument.objects.filter(claim__in=done),
                           user=acting_user, reason="批量结算", when=now, created=True)
        for claim, lines in returned:  # keeps the items already received (services)
            services.regenerate_documents(claim, lines, acting_user)
    report.settled += len(done)
    report.persons += len(persons)
    return len(todo)
