"""Reads of the policy rows as the engine's resolved parameters (``insurance_rules.params``).

``region_plans`` / ``plan_params_for`` build a frozen ``PlanParams`` per scheme from the
rule tables with one query per table for all the region's plan years together. Which
table each ``PlanParams`` field is read from, and how a row's fields are read, is declared
once by the parameter dataclasses (``insurance_rules.params``: ``source``,
``table_fields``); ``build_params`` reads by that declaration and ``PARAM_TABLES`` (field →
model, for the system checks) is derived from it.

Plan-year status (trial-calc ``--plan-status``):
- ``active`` (the default) reads the plan year in force: ``active``, else a ``closed``
  one (claims of a closed year are still settled with its rules);
- ``draft`` reads the ``draft`` plan year and, for a scheme that has no draft for that
  year, falls back to its active (else closed) plan year — so a policy officer can
  evaluate a draft of one scheme against the in-force rows of the region's other
  layers.
A scheme of the region without any plan year of that status for the year maps to None.
"""
from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, fields
from functools import cache
from typing import get_args, get_type_hints

from django.db import router
from django.db.models import FilteredRelation, Q

from insurance_rules.errors import InvalidInput, UnknownCode
from insurance_rules.params import PlanParams, Row, table_fields
from sheets.bulk_sql import PreparedValues

from . import models as pm

STATUS_PREFERENCE = {
    "active": (pm.PlanYear.Status.ACTIVE, pm.PlanYear.Status.CLOSED),
    "draft": (pm.PlanYear.Status.DRAFT, pm.PlanYear.Status.ACTIVE, pm.PlanYear.Status.CLOSED),
}


def pooling_region(region_code) -> pm.Region:
    """The 统筹区 of a region code (a sub-region maps to its pooling region)."""
    if not isinstance(region_code, str) or not region_code:
        raise InvalidInput("缺少字段“region”（统筹区代码）")
    region = pm.Region.objects.select_related("parent__parent").filter(code=region_code).first()
    if region is None:
        raise UnknownCode(f"未知的统筹区代码“region”：{region_code}")
    return region.pooling_region


def _choose(plan_years, plan_status: str) -> pm.PlanYear | None:
    if plan_status not in STATUS_PREFERENCE:
        raise InvalidInput(f"未知的年度方案状态：{plan_status}（active 或 draft）")
    by_status = {py.status: py for py in plan_years}
    for status in STATUS_PREFERENCE[plan_status]:
        if status in by_status:
            return by_status[status]
    return None


@dataclass(frozen=True)
class RegionYearParams:
    """A pooling region's schemes for one year: ``plans`` (scheme kind in settlement order
    → the chosen plan year's ``PlanParams`` or None), ``names`` (kind → scheme name) and
    ``plan_years`` (id → every plan year of the year, with its scheme)."""

    plans: dict[str, PlanParams | None]
    names: dict[str, str]
    plan_years: dict[int, pm.PlanYear]


def row_key(obj) -> tuple:
    """Every column of a model row as read (``PlanYear.rules_version`` among a plan year's):
    the key under which something built from the row may be reused (``RowKeyedCache``)."""
    return tuple(getattr(obj, f.attname) for f in obj._meta.concrete_fields)


class RowKeyedCache:
    """A process-local cache of values built from policy rows: each slot (e.g. region, year)
    keeps one value with the key of the rows it was built from (``row_key``); a value is
    reused only while the rows just read give the same key — a rule-row write changes its
    plan year's ``rules_version`` (``policies.rules_version``), so a stale value cannot be
    used in any process. The least recently used slots beyond ``size`` are dropped."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[tuple, tuple[tuple, object]] = OrderedDict()

    def get(self, slot: tuple, key: tuple, build):
        hit = self.entries.get(slot)
        if hit is None or hit[0] != key:
            hit = self.entries[slot] = (key, build())
        self.entries.move_to_end(slot)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return hit[1]


_PLANS = RowKeyedCache(size=64)  # (region, year, plan status) slots kept per process


_SCHEME_COLUMNS = tuple(f.attname for f in pm.Scheme._meta.concrete_fields)
_PLAN_YEAR_COLUMNS = tuple(f.attname for f in pm.PlanYear._meta.concrete_fields)


_SCHEMES_AND_PLAN_YEARS = PreparedValues(lambda region, year: (
    pm.Scheme.objects.filter(region_id=region)
    .annotate(py=FilteredRelation("plan_years", condition=Q(plan_years__year=year)))
    .order_by("settlement_order", "pk", "py__id")
    .values_list(*_SCHEME_COLUMNS, *(f"py__{name}" for name in _PLAN_YEAR_COLUMNS))))


def _schemes_and_plan_years(region: pm.Region, year: int):
    """(scheme, its plan year of ``year`` or None) of the region's schemes in settlement
    order, in one query (the schemes left-joined to their plan years of the year; its SQL
    compiled once per process: ``PreparedValues``)."""
    width, db = len(_SCHEME_COLUMNS), router.db_for_read(pm.Scheme)
    for values in _SCHEMES_AND_PLAN_YEARS.rows(region.pk, year):
        scheme = pm.Scheme.from_db(db, _SCHEME_COLUMNS, values[:width])
        py_values = values[width:]
        py = None if py_values[0] is None else pm.PlanYear.from_db(db, _PLAN_YEAR_COLUMNS, py_values)
        yield scheme, py


def region_year_params(region: pm.Region, year: int, plan_status: str = "active") -> RegionYearParams:
    """``RegionYearParams`` of a pooling region and year, in one query (the schemes and
    their plan years): the parameters are built from the rule tables (``build_params``) once per
    process and kept while no rule row, plan year, scheme or region field they read
    changes (``RowKeyedCache``: a stale entry cannot be used, in any process)."""
    if plan_status not in STATUS_PREFERENCE:
        raise InvalidInput(f"未知的年度方案状态：{plan_status}（active 或 draft）")
    schemes, plan_years, of_scheme = [], {}, defaultdict(list)
    for scheme, py in _schemes_and_plan_years(region, year):
        if not schemes or schemes[-1].pk != scheme.pk:
            schemes.append(scheme)
        if py is not None:
            py.scheme = schemes[-1]
            plan_years[py.pk] = py
            of_scheme[py.scheme_id].append(py)
    chosen = {s.pk: _choose(of_scheme[s.pk], plan_status) for s in schemes}

    def build():
        built = build_params(region, schemes, [py for py in chosen.values() if py is not None])
        return {s.kind: built.get(chosen[s.pk].pk) if chosen[s.pk] else None for s in schemes}

    # the key: every column of the region, its schemes and the chosen plan years
    key = (row_key(region), tuple(map(row_key, schemes)),
           tuple(None if py is None else row_key(py) for py in chosen.values()))
    plans = _PLANS.get((region.pk, year, plan_status), key, build)
    return RegionYearParams(plans=dict(plans), names={s.kind: s.name for s in schemes},
                            plan_years=plan_years)


def region_plans(*, region_code: str, year: int, plan_status: str = "active") -> dict[str, PlanParams | None]:
    """The region's schemes in settlement order → the plan year's parameters (or None)."""
    return region_year_params(pooling_region(region_code), year, plan_status).plans


def plan_params_for(*, region_code: str, kind: str, year: int,
                    plan_status: str = "active") -> PlanParams | None:
    """One scheme's parameters for a year (None when the region has the scheme but no
    plan year of that status); ``UnknownCode`` when the region has no such scheme."""
    plans = region_plans(region_code=region_code, year=year, plan_status=plan_status)
    if kind not in plans:
        raise UnknownCode(f"未知的险种“{kind}”：统筹区 {region_code} 没有此险种")
    return plans[kind]


def scheme_names(region_code: str) -> dict[str, str]:
    region = pooling_region(region_code)
    return dict(pm.Scheme.objects.filter(region=region).values_list("kind", "name"))


def _model(row_cls: type[Row]):
    return getattr(pm, row_cls.source.model)


# PlanParams field -> the rule table it is read from (what a formula declares it needs)
PARAM_TABLES = {name: _model(row_cls) for name, row_cls in table_fields().items()}


@cache
def _shape(row_cls: type[Row]) -> tuple[tuple[str, str, type[Row] | None], ...]:
    """How each field of a row dataclass is read from its table's row, by its ``source``:
    (field, ``id`` / ``code`` / ``row`` (a related row) / ``rows`` (rows pointing to it) /
    ``value``, the row dataclass of a ``row`` or ``rows`` field)."""
    hints = get_type_hints(row_cls)
    out = []
    for f in fields(row_cls):
        hint = hints[f.name]
        item = (get_args(hint) or (None,))[0]
        if f.name == "id":
            out.append((f.name, "id", None))
        elif f.name in row_cls.source.codes:
            out.append((f.name, "code", None))
        elif isinstance(hint, type) and issubclass(hint, Row):
            out.append((f.name, "row", hint))
        elif isinstance(item, type) and issubclass(item, Row):
            out.append((f.name, "rows", item))
        else:
            out.append((f.name, "value", None))
    return tuple(out)


def _related(row_cls: type[Row], prefix: str = "") -> list[str]:
    """The ``select_related`` paths a row dataclass reads (its codes, its related rows')."""
    paths = []
    for name, how, cls in _shape(row_cls):
        if how == "code":
            paths.append(prefix + name)
        elif how == "row":
            paths += _related(cls, f"{prefix}{name}__") or [prefix + name]
    return paths


def _build(row_cls: type[Row], obj, nested: dict) -> Row:
    values = {}
    for name, how, cls in _shape(row_cls):
        if how == "id":
            values[name] = obj.pk
        elif how == "code":
            related = getattr(obj, name)
            values[name] = related.code if related is not None else None
        elif how == "row":
            values[name] = _build(cls, getattr(obj, name), {})
        elif how == "rows":
            values[name] = tuple(nested[name].get(obj.pk, ()))
        else:
            values[name] = getattr(obj, name)
    return row_cls(**values)


def param_rows(row_cls: type[Row], plan_year_ids) -> dict[int, list[Row]]:
    """The rows of a rule table (``row_cls.source``) of the plan years, built as
    ``row_cls`` in the table's order: plan year id → rows (for a nested table, the id
    of the row they belong to → rows). One query per table."""
    nested = {name: param_rows(cls, plan_year_ids) for name, how, cls in _shape(row_cls)
              if how == "rows"}
    key = f"{row_cls.source.parent}_id" if row_cls.source.parent else "plan_year_id"
    out = defaultdict(list)
    for obj in _model(row_cls).objects.filter(plan_year_id__in=plan_year_ids).select_related(
            *_related(row_cls)):
        out[getattr(obj, key)].append(_build(row_cls, obj, nested))
    return out


def build_params(region: pm.Region, schemes, plan_years) -> dict[int, PlanParams]:
    """``PlanParams`` of each plan year (by id), one query per rule table; the tables and
    their fields as the parameter dataclasses declare them (``table_fields``, ``source``)."""
    ids = [py.pk for py in plan_years]
    if not ids:
        return {}
    tables = {name: param_rows(row_cls, ids) for name, row_cls in table_fields().items()}
    scheme_by_id = {s.pk: s for s in schemes}
    out = {}
    for py in plan_years:
        s = scheme_by_id[py.scheme_id]
        out[py.pk] = PlanParams(
            region=region.code, province=region.province, region_name=region.name, kind=s.kind,
            scheme_name=s.name,
            formula=s.formula, settlement_order=s.settlement_order, has_tiers=s.has_tiers,
            year=py.year, plan_year_id=py.pk, status=py.status,
            official_participation_rate=py.official_participation_rate, note=py.note,
            **{name: tuple(rows.get(py.pk, ())) for name, rows in tables.items()})
    return out


def disease_codes(region: pm.Region) -> frozenset[str]:
    """Codes of the region's chronic / two-disease catalogue."""
    return frozenset(pm.ChronicDisease.objects.filter(region=region).values_list("code", flat=True))


def identity_codes() -> frozenset[str]:
    return frozenset(pm.Identity.objects.values_list("code", flat=True))
