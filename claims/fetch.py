"""Settlement inputs, gathered in bulk: the one path by which single settlement
(``services.claim_settle`` / ``claim_resettle`` / ``claim_trial``), batch settlement
(``batch``) and the policy simulation (``simulation``) read what the pure engine
(``insurance_rules.settle.settle_claim``) takes — after Saleor's ``order/fetch.py``: plain,
frozen info objects, one query per kind of input for a whole set of claims. Spec README
§4 settlement, §4.4 year-to-date history, §6 concurrent settlement.

- ``RegionYear.of(region, year)``: what every claim of one pooling region and plan year
  shares, read once — each scheme's resolved plan parameters (``PlanParams``), the scheme
  names, the plan years — and a cache of the hospitals and diseases claims point to.
- ``fetch_settlement_inputs(context, claims)``: for claims of that region and year, the
  persons' enrollments of the year in the region with their suspensions and declared
  pre-existing groups, identities and held registrations (→ ``PersonFacts``,
  ``Coverage``), the year-to-date history — every counted (settled/approved/paid) claim
  of the persons in the region and year other than the claims being settled, rebuilt
  from its current stored result lines (``stored_history``, never recomputed, README
  §4.8) — and the claims' carried-in layers (→ ``ClaimFacts``): ``SettlementInputs``.
- ``settle_in_order(inputs)``: the engine over them, each person's claims in history
  order (service date, then id), each result appended to that person's history.
- ``claim_rows(queryset)``: claims read as values (``ClaimRow``), not model instances —
  batch settlement, the simulation and every year-to-date history read them so.

Locking (README §6): a settlement reads the history only after it holds the lock of the
persons' rows, so that two settlements of one person are serialised. ``lock_persons`` is
that lock (``select_for_update``, in id order); single and batch settlement take it
first in their transaction and hand the locked rows to ``fetch_settlement_inputs``. The
trial calculation, the YTD panel and the simulation read without it.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from django.db import router
from django.db.models import F, QuerySet

from enrollment.models import Enrollment, Person, PersonIdentity, PreExistingDeclaration, Suspension
from enrollment.selectors.registrations import held_registrations_by_person
from insurance_rules.errors import CaseError
from insurance_rules.facts import ClaimFacts, Coverage, HeldIdentity, PersonFacts
from insurance_rules.facts import GivenLayer as EngineGiven
from insurance_rules.params import PlanParams
from insurance_rules.results import SettledClaim
from insurance_rules.settle import settle_claim
from policies import models as pm
from policies import selectors as policy_selectors
from policies.lookups import RegionLookup
from sheets.bulk_sql import InArray, PreparedValues, values_rows

from . import selectors
from .models import Claim, ClaimLayer, GivenLayer, Hospital

_PERSON, _REGION, _HOSPITAL, _DISEASE = (Claim._meta.get_field(name)
                                         for name in ("person", "region", "hospital", "disease"))
CLAIM_COLUMNS = tuple(f.attname for f in Claim._meta.concrete_fields)
PERSON_COLUMNS = tuple(f.attname for f in Person._meta.concrete_fields)
ENROLLMENT_COLUMNS = tuple(f.attname for f in Enrollment._meta.concrete_fields)
_PLAN_YEAR_AT = ENROLLMENT_COLUMNS.index("plan_year_id")


class ClaimRow:
    """A stored claim read as values (``claim_rows``), for batch settlement, the
    simulation and the year-to-date history, which read thousands of claims: every column
    of ``Claim`` by attname (``id``, ``person_id``, …, also ``pk``), and the ``person``,
    ``region``, ``hospital`` and ``disease`` rows set by ``RegionYear.attach`` — what the
    settlement reads of a ``Claim`` and writes back by column (``batch``), without a
    model instance per row (its construction cost more than settling the claim)."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    @property
    def pk(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<ClaimRow {self.id} {self.settlement_no}>"


class PersonRow:
    """A stored person read as values (``person_rows``), for batch settlement and the
    simulation, which read thousands: every column of ``Person`` by attname (also ``pk``),
    and ``hukou_region``/``residence_region`` from the regions of a ``RegionLookup``
    shared by the rows of one read and loaded only if one of them is asked for (each
    region with its parent, so ``pooling_region`` runs no query) — what the settlement
    reads of a person (``enrollment.selectors.person_facts``)."""

    def __init__(self, values: dict, regions: RegionLookup):
        self.__dict__.update(values)
        self._regions = regions

    @property
    def pk(self) -> int:
        return self.id

    @property
    def hukou_region(self) -> pm.Region | None:
        return None if self.hukou_region_id is None else self._regions.get(self.hukou_region_id)

    @property
    def residence_region(self) -> pm.Region | None:
        return None if self.residence_region_id is None else self._regions.get(self.residence_region_id)

    def __repr__(self) -> str:
        return f"<PersonRow {self.id}>"


def person_rows(queryset) -> dict[int, PersonRow]:
    """The persons of ``queryset`` as ``PersonRow``s by id (one query, in its order;
    ``select_for_update`` kept; read by ``bulk_sql.values_rows``)."""
    regions = RegionLookup()
    return {values[0]: PersonRow(dict(zip(PERSON_COLUMNS, values, strict=True)), regions)
            for values in values_rows(queryset.values_list(*PERSON_COLUMNS))}


class EnrollmentRow:
    """An enrollment read as values for the settlement (``_person_inputs``): every
    column of ``Enrollment`` by attname (also ``pk``) and its ``plan_year`` (the row of
    ``RegionYear.plan_years``, with its scheme)."""

    def __init__(self, values: dict, plan_year: pm.PlanYear):
        self.__dict__.update(values)
        self.plan_year = plan_year

    @property
    def pk(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<EnrollmentRow {self.id}>"


def claim_rows(queryset) -> list[ClaimRow]:
    """The claims of ``queryset`` as ``ClaimRow``s (one query, in its order; read by
    ``bulk_sql.values_rows``: their timestamps by psycopg's loader)."""
    return [ClaimRow(dict(zip(CLAIM_COLUMNS, values, strict=True)))
            for values in values_rows(queryset.values_list(*CLAIM_COLUMNS))]


def _is_cached(claim, field) -> bool:
    if isinstance(claim, Claim):
        return field.is_cached(claim)
    return field.name in claim.__dict__


def _set_cached(claim, field, value) -> None:
    if isinstance(claim, Claim):
        field.set_cached_value(claim, value)
    else:
        claim.__dict__[field.name] = value


HOSPITAL_COLUMNS = tuple(f.attname for f in Hospital._meta.concrete_fields)
REGION_COLUMNS = tuple(f.attname for f in pm.Region._meta.concrete_fields)
_HOSPITALS = PreparedValues(lambda ids: Hospital.objects.filter(InArray(F("pk"), ids)).order_by().values_list(
    *HOSPITAL_COLUMNS, *(f"region__{c}" for c in REGION_COLUMNS), *(f"region__parent__{c}" for c in REGION_COLUMNS)))


def hospitals_by_id(ids: list[int]) -> dict[int, Hospital]:
    """The hospitals ``ids`` by id, each with its region and the region's parent cached
    (what ``Hospital.objects.select_related("region__parent").in_bulk(ids)`` returns),
    read by a statement compiled once per process (``PreparedValues``: a settlement reads
    one or two)."""
    db = router.db_for_read(Hospital)
    h, r = len(HOSPITAL_COLUMNS), len(REGION_COLUMNS)
    out = {}
    for values in _HOSPITALS.rows(ids):
        hospital = Hospital.from_db(db, HOSPITAL_COLUMNS, values[:h])
        region = parent = None
        if values[h] is not None:
            region = pm.Region.from_db(db, REGION_COLUMNS, values[h:h + r])
            if values[h + r] is not None:
                parent = pm.Region.from_db(db, REGION_COLUMNS, values[h + r:])
            _REGION_PARENT.set_cached_value(region, parent)
        _HOSPITAL_REGION.set_cached_value(hospital, region)
        out[hospital.pk] = hospital
    return out


_HOSPITAL_REGION, _REGION_PARENT = Hospital._meta.get_field("region"), pm.Region._meta.get_field("parent")


@dataclass
class RegionYear:
    """What the claims of one pooling region and plan year share: the schemes' plan
    parameters in settlement order (``kind → PlanParams`` or None), the scheme names, the
    plan years (id → row, with the scheme); and the hospitals and diseases already read,
    attached to the claims instead of joined into every claim row (a model instance per
    join and row costs more than the settlement)."""

    region: pm.Region
    year: int
    plans: dict[str, PlanParams | None]
    names: dict[str, str]
    plan_years: dict[int, pm.PlanYear]
    hospitals: dict[int, Hospital] = field(default_factory=dict, init=False, repr=False)
    diseases: dict[int, pm.ChronicDisease] = field(default_factory=dict, init=False, repr=False)
    hospital_facts: dict[tuple[int, str], object] = field(default_factory=dict, init=False, repr=False)

    def claim_facts(self, claim, given: dict) -> ClaimFacts:
        """``selectors.claim_facts`` with the engine's hospital facts built once per
        hospital and location."""
        key = (claim.hospital_id, claim.location)
        if claim.hospital_id is None:
            facts = None
        elif key in self.hospital_facts:
            facts = self.hospital_facts[key]
        else:
            facts = self.hospital_facts[key] = selectors.hospital_facts(claim)
        return selectors.claim_facts(claim, given=given, hospital=facts)

    @classmethod
    def of(cls, region: pm.Region, year: int, *, plan_status: str = "active") -> RegionYear:
        """One query (the schemes and their plan years): the parameters themselves come from the
        process's cache while the plan years' ``rules_version`` is unchanged
        (``policies.selectors.region_year_params``)."""
        region = region.pooling_region
        params = policy_selectors.region_year_params(region, year, plan_status)
        return cls(region=region, year=year, plans=params.plans, names=params.names,
                   plan_years=params.plan_years)

    def attach(self, claims: list[Claim], persons: dict[int, Person] | None = None) -> list[Claim]:
        """Set the claims' region, hospital, disease (and person, from ``persons``) as
        ``select_related`` caches them; relations already cached are kept."""
        missing = {c.hospital_id for c in claims
                   if c.hospital_id and not _is_cached(c, _HOSPITAL)} - self.hospitals.keys()
        if missing:
            self.hospitals.update(hospitals_by_id(sorted(missing)))
        missing = {c.disease_id for c in claims
                   if c.disease_id and not _is_cached(c, _DISEASE)} - self.diseases.keys()
        if missing:
            self.diseases.update(pm.ChronicDisease.objects.in_bulk(missing))
        for c in claims:  # the descriptors' checks cost more than the settlement
            if type(c) is ClaimRow:
                values = c.__dict__
                if persons is not None:
                    values["person"] = persons[c.person_id]
                values.setdefault("region", self.region)
                if "hospital" not in values:
                    values["hospital"] = self.hospitals[c.hospital_id] if c.hospital_id else None
                if "disease" not in values:
                    values["disease"] = self.diseases[c.disease_id] if c.disease_id else None
                continue
            if persons is not None:
                _PERSON.set_cached_value(c, persons[c.person_id])
            if not _REGION.is_cached(c):
                _REGION.set_cached_value(c, self.region)
            if not _HOSPITAL.is_cached(c):
                _HOSPITAL.set_cached_value(c, self.hospitals[c.hospital_id] if c.hospital_id else None)
            if not _DISEASE.is_cached(c):
                _DISEASE.set_cached_value(c, self.diseases[c.disease_id] if c.disease_id else None)
        return claims


@dataclass(frozen=True)
class PersonInputs:
    """A person's facts for the plan year in the region: ``facts`` and ``coverages`` as
    the engine takes them, ``tiers`` (scheme kind → the enrollment's tier, paid or not)
    and ``history``, the counted claims before those being settled, in history order."""

    person: Person
    facts: PersonFacts
    coverages: tuple[Coverage, ...]
    tiers: dict[str, int]
    history: tuple[SettledClaim, ...]


@dataclass(frozen=True)
class ClaimInputs:
    claim: Claim
    facts: ClaimFacts


@dataclass(frozen=True)
class SettlementInputs:
    """Everything ``settle_claim`` takes for a set of claims of one region and year:
    ``claims`` in history order (person, service date, id), ``persons`` by id."""

    context: RegionYear
    persons: dict[int, PersonInputs]
    claims: tuple[ClaimInputs, ...]


_LOCKED_PERSONS = PreparedValues(lambda ids: Person.objects.select_for_update().filter(InArray(F("pk"), ids))
                                 .order_by("pk").values_list(*PERSON_COLUMNS), locking=True)


def lock_persons(person_ids: Iterable[int], *, as_rows: bool = False) -> dict[int, Person]:
    """Lock the persons' rows (``select_for_update``, in id order: the lock every
    settlement of these persons waits for, README §6) and return them by id (``as_rows``:
    as ``PersonRow``s, for batch settlement). Call it in the settlement's transaction
    before ``fetch_settlement_inputs``. The statement is compiled once per process
    (``PreparedValues``), the ``Person`` instances built from its values."""
    ids = sorted(set(person_ids))
    if as_rows:  # the lock by a short statement (as seen in pg_stat_activity), then the values
        locked = Person.objects.select_for_update().filter(InArray(F("pk"), ids)).order_by("pk")
        list(locked.values_list("pk", flat=True))
        return person_rows(Person.objects.filter(InArray(F("pk"), ids)).order_by())
    db = router.db_for_write(Person)  # where the locking queryset would read
    return {values[0]: Person.from_db(db, PERSON_COLUMNS, values) for values in _LOCKED_PERSONS.rows(ids)}


# The reads below run once per settlement (a single claim) or per chunk: their SQL is
# compiled once per process (``PreparedValues``), their rows read as values.
_GIVEN = PreparedValues(lambda ids: GivenLayer.objects.filter(InArray(F("claim_id"), ids)).values_list(
    "claim_id", "scheme_kind", "paid", "deductible", "over_cap"))


def _counted(persons, region, year, exclude=None):
    qs = Claim.objects.filter(InArray(F("person_id"), persons), region_id=region, year=year,
                              status__in=Claim.COUNTED)
    if exclude is not None:
        qs = qs.exclude(InArray(F("pk"), exclude))
    return qs.order_by("person_id", "service_date", "id").values_list(*CLAIM_COLUMNS)


_COUNTED, _COUNTED_EXCEPT = PreparedValues(_counted), PreparedValues(_counted)
LINE_COLUMNS = ("claim_id", "scheme_kind", "paid", "deductible", "ratio", "capped", "basis", "reason",
                "explanation", "items", "param_refs", "given", "extra")
_LINES = PreparedValues(lambda ids: ClaimLayer.objects.filter(InArray(F("claim_id"), ids), is_current=True)
                        .order_by("claim_id", "seq").values_list(*LINE_COLUMNS))


class LineRow:
    """A current stored result line read as values (``LINE_COLUMNS``): what
    ``selectors.layer_result`` reads of a ``ClaimLayer``."""

    def __init__(self, values: tuple):
        self.__dict__.update(zip(LINE_COLUMNS, values, strict=True))


def given_layers(claims: Iterable[Claim]) -> dict[int, dict[str, EngineGiven]]:
    """Claim id → its carried-in layers (scheme kind → engine ``GivenLayer``), one query."""
    out: dict[int, dict[str, EngineGiven]] = defaultdict(dict)
    ids = [c.pk for c in claims]
    if ids:
        for claim_id, kind, paid, deductible, over_cap in _GIVEN.rows(ids):
            out[claim_id][kind] = EngineGiven(paid=paid, deductible=deductible, over_cap=over_cap)
    return out


def counted_claims(context: RegionYear, person_ids: list[int], *, exclude=(), attach: bool = True) -> list[ClaimRow]:
    """The persons' counted (settled/approved/paid) claims of the region and year, except
    ``exclude`` (ids), in history order (person, service date, id), read as values
    (``attach=False``: their hospitals and diseases not attached yet)."""
    if exclude:
        rows = _COUNTED_EXCEPT.rows(person_ids, context.region.pk, context.year, list(exclude))
    else:
        rows = _COUNTED.rows(person_ids, context.region.pk, context.year)
    claims = [ClaimRow(dict(zip(CLAIM_COLUMNS, values, strict=True))) for values in rows]
    return context.attach(claims) if attach else claims


def stored_history(claims: list[Claim], given: dict[int, dict]) -> list[SettledClaim]:
    """Counted claims rebuilt as the engine's ``SettledClaim``s from their current stored
    result lines (one query for the lines); ``given``: claim id → its given layers."""
    lines: dict[int, list[LineRow]] = defaultdict(list)
    if claims:
        for values in _LINES.rows([c.pk for c in claims]):
            lines[values[0]].append(LineRow(values))
    return [SettledClaim(claim=selectors.claim_facts(c, given=given.get(c.pk, {})),
                         layers=tuple(selectors.layer_result(r) for r in lines[c.pk]))
            for c in claims]


_ENROLLMENTS = PreparedValues(lambda persons, plan_years: Enrollment.objects.filter(
    InArray(F("person_id"), persons), InArray(F("plan_year_id"), plan_years)).order_by()
    .values_list(*ENROLLMENT_COLUMNS))
_SUSPENSIONS = PreparedValues(lambda ids: Suspension.objects.filter(InArray(F("enrollment_id"), ids))
                              .order_by("enrollment_id", "date_from", "id")
                              .values_list("enrollment_id", "date_from", "date_to"))
_PRE_EXISTING = PreparedValues(lambda ids: PreExistingDeclaration.objects.filter(InArray(F("enrollment_id"), ids))
                               .order_by("enrollment_id", "group", "id").values_list("enrollment_id", "group"))
_IDENTITIES = PreparedValues(lambda persons: PersonIdentity.objects.filter(InArray(F("person_id"), persons))
                             .order_by("person_id", "valid_from", "id")
                             .values_list("person_id", "identity__code", "valid_from", "valid_to"))


class Suspended(NamedTuple):
    """A suspension of an enrollment, as ``selectors.coverage_of`` reads it."""

    date_from: date
    date_to: date | None


def _person_inputs(context: RegionYear, persons: dict[int, Person],
                   history: dict[int, list[SettledClaim]]) -> dict[int, PersonInputs]:
    """Facts and coverages of the persons, one query per kind of row for all of them."""
    person_ids = sorted(persons)
    enrollments = defaultdict(list)
    plan_years = context.plan_years
    rows = [EnrollmentRow(dict(zip(ENROLLMENT_COLUMNS, values, strict=True)), plan_years[values[_PLAN_YEAR_AT]])
            for values in _ENROLLMENTS.rows(person_ids, list(plan_years))]  # no model instance per row
    rows.sort(key=lambda e: (e.person_id, e.plan_year.scheme.settlement_order, e.id))
    for e in rows:
        enrollments[e.person_id].append(e)
    suspensions, pre_existing = defaultdict(list), defaultdict(list)
    enrollment_ids = [e.pk for rows in enrollments.values() for e in rows]
    if enrollment_ids:
        for enrollment_id, date_from, date_to in _SUSPENSIONS.rows(enrollment_ids):
            suspensions[enrollment_id].append(Suspended(date_from, date_to))
        for enrollment_id, group in _PRE_EXISTING.rows(enrollment_ids):
            pre_existing[enrollment_id].append(group)
    identities = defaultdict(list)
    for person_id, code, valid_from, valid_to in _IDENTITIES.rows(person_ids):
        identities[person_id].append(HeldIdentity(code, valid_from, valid_to))
    registrations = held_registrations_by_person(person_ids)
    out = {}
    for pid in person_ids:
        mine = enrollments[pid]
        out[pid] = PersonInputs(
            person=persons[pid],
            facts=selectors.person_facts_from(persons[pid], context.region, context.year, mine,
                                              identities=tuple(identities[pid]),
                                              registrations=registrations.get(pid, ()),
                                              pre_existing=pre_existing),
            coverages=selectors.coverages_from(mine, suspensions),
            tiers={e.plan_year.scheme.kind: e.tier for e in mine},
            history=tuple(history.get(pid, ())))
    return out


def enrollments_of_years(person_ids: Iterable[int], years: Iterable[int]) -> tuple[
        dict[tuple[int, int], list[EnrollmentRow]], dict[int, list[Suspended]]]:
    """The enrollments of the persons in the plan years of ``years``, as values, and their
    suspensions — what ``services.claim_derive``/``claim_validate`` read per claim, read
    for a chunk of the claims sheet at once: (person id, year) → the person's
    ``EnrollmentRow``s of that year (in id order; each with its plan year, scheme, region
    and the region's parent), and enrollment id → its suspensions (``Suspended``, for
    ``claim_validate(suspensions=…)``). Three queries: the plan years (a few dozen rows,
    shared by the enrollments), the enrollments, the suspensions."""
    plan_years = {py.pk: py for py in pm.PlanYear.objects.filter(year__in=sorted(set(years)))
                  .select_related("scheme__region__parent")}
    person_ids = sorted(set(person_ids))
    found: dict[tuple[int, int], list[EnrollmentRow]] = {}
    suspensions: dict[int, list[Suspended]] = {}
    if not person_ids or not plan_years:
        return found, suspensions
    rows = sorted(_ENROLLMENTS.rows(person_ids, list(plan_years)), key=lambda values: values[0])  # by id
    person_at = ENROLLMENT_COLUMNS.index("person_id")
    for values in rows:
        plan_year = plan_years[values[_PLAN_YEAR_AT]]
        found.setdefault((values[person_at], plan_year.year), []).append(
            EnrollmentRow(dict(zip(ENROLLMENT_COLUMNS, values, strict=True)), plan_year))
    if rows:
        for enrollment_id, date_from, date_to in _SUSPENSIONS.rows([values[0] for values in rows]):
            suspensions.setdefault(enrollment_id, []).append(Suspended(date_from, date_to))
    return found, suspensions


def fetch_persons(context: RegionYear, persons: Iterable[Person], *, exclude=(),
                  history: bool = True) -> dict[int, PersonInputs]:
    """The ``PersonInputs`` of stored persons (no claims being settled: e.g. the YTD
    panel); ``exclude``: claim ids left out of the history."""
    by_id = {p.pk: p for p in persons}
    counted = counted_claims(context, sorted(by_id), exclude=exclude) if history else []
    return _person_inputs(context, by_id, _by_person(counted, stored_history(counted, given_layers(counted))))


def _by_person(claims: list[Claim], settled: list[SettledClaim]) -> dict[int, list[SettledClaim]]:
    out = defaultdict(list)
    for claim, one in zip(claims, settled, strict=True):
        out[claim.person_id].append(one)
    return out


def fetch_settlement_inputs(context: RegionYear, claims: Iterable[Claim], *,
                            persons: dict[int, Person] | None = None,
                            history: bool = True) -> SettlementInputs:
    """The inputs of settling ``claims`` (stored claims of ``context``'s region and year):
    see the module docstring. ``persons``: person rows already read (the locked rows of
    ``lock_persons``), by id; the others are read here. ``history=False``: the persons' stored
    history is not read (the simulation re-settles the counted claims themselves).
    ``claims``: ``Claim`` instances or ``ClaimRow``s; a queryset is read as ``ClaimRow``s."""
    if isinstance(claims, QuerySet):
        claims = claim_rows(claims)
    claims = sorted(claims, key=lambda c: (c.person_id, c.service_date, c.pk))
    person_ids = sorted({c.person_id for c in claims})
    persons = dict(persons or {})
    persons.update((c.person_id, c.person) for c in claims
                   if c.person_id not in persons and _is_cached(c, _PERSON))
    missing = [pid for pid in person_ids if pid not in persons]
    if missing:
        persons.update(person_rows(Person.objects.filter(InArray(F("pk"), missing)).order_by()))
    counted = counted_claims(context, person_ids, exclude=[c.pk for c in claims], attach=False) if history else []
    context.attach([*claims, *counted], persons)  # one read of the hospitals both refer to
    given = given_layers([*claims, *counted])
    settled = stored_history(counted, given)
    return SettlementInputs(
        context=context,
        persons=_person_inputs(context, {pid: persons[pid] for pid in person_ids},
                               _by_person(counted, settled)),
        claims=tuple(ClaimInputs(c, context.claim_facts(c, given.get(c.pk, {}))) for c in claims))


def settle_in_order(inputs: SettlementInputs) -> Iterator[tuple[Claim, SettledClaim | CaseError]]:
    """Settle the claims in history order, each person's results appended to that
    person's history: ``(claim, result)`` per claim, the result the engine's
    ``SettledClaim`` or the ``CaseError`` it raised (such a claim is not appended)."""
    context = inputs.context
    history = {pid: list(p.history) for pid, p in inputs.persons.items()}
    for item in inputs.claims:
        pid = item.claim.person_id
        person = inputs.persons[pid]
        try:
            settled = settle_claim(plans=context.plans, person=person.facts, coverages=person.coverages,
                                   claim=item.facts, history=tuple(history[pid]),
                                   scheme_names=context.names)
        except CaseError as exc:
            yield item.claim, exc
            continue
        history[pid].append(settled)
        yield item.claim, settled
