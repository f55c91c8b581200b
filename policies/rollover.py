"""Rolling a plan year forward (spec README §2 "Editing 2025 never changes 2024" and §5
"Rolling a plan year forward (2024 → 2025) copies every row into a new draft plan year").

The new plan year is a ``draft`` copy of the source: every row of every table in
``policies.models.RULE_MODELS`` is copied, foreign keys between rows of the same plan
year (a contribution standard's window, a responsibility's drug ratios, …) point to the
copies, and every date field moves by the difference in years (02-29 → 02-28 when the
target year has none); so do the dates written in the name and note of a row that has a
date field (``shift_text``: ISO dates and “2024 年”), e.g. a window's “2024 年度集中参保期
（截至 2023-12-31）”. The officially frozen participation rate is a fact of the source
year and is not copied. The caller (``policies.services.plan_year_rollover``) provides
the transaction.

Each table's copies are validated in Python (``loading.validate_row``, with the related
rows they name already in hand: no query per row), written by one ``bulk_create`` and
their history rows by one ``INSERT … SELECT`` (``sheets.bulk_sql.insert_history_stored``:
the ``+`` entries a save writes, with the acting user); then each copy's ``clean()`` runs
again against the table's final rows (e.g. cumulative segments in order). A failure
raises ``PlanYearRolloverError`` naming the table and the source row, and the caller's
transaction writes nothing.
"""
from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.models import HistoricalRecords

from sheets.bulk_sql import insert_history_stored

from .errors import PlanYearRolloverError
from .loading import data_fields, describe_error, validate_row
from .models import RULE_MODELS, PlanYear, Region, Scheme


def shift_date(value: date, years: int) -> date:
    """The same day ``years`` later (or earlier); 29 February becomes 28 February."""
    try:
        return value.replace(year=value.year + years)
    except ValueError:
        return value.replace(year=value.year + years, day=28)


def _is_date(f: models.Field) -> bool:
    return isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField)


TEXT_DATES = re.compile(r"(?<!\d)(?:(?P<iso>\d{4}-\d{2}-\d{2})|(?P<year>(?:19|20)\d\d)(?= ?年))(?!\d)")
TEXTS_WITH_DATES = ("name", "note")
"""The text fields of a row whose written dates move with its date fields."""


def shift_text(text: str, years: int) -> str:
    """``text`` with its ISO dates (``2023-12-31``) and years before 年 (``2024 年度``,
    ``2024年``) moved by ``years``; anything else, an impossible date included, as it was."""

    def later(match):
        if match["year"]:
            return str(int(match["year"]) + years)
        try:
            return shift_date(date.fromisoformat(match["iso"]), years).isoformat()
        except ValueError:
            return match["iso"]

    return TEXT_DATES.sub(later, text)


def find_plan_year(region_code: str, kind: str, year: int) -> PlanYear | None:
    return (PlanYear.objects.select_related("scheme__region")
            .filter(scheme__region__code=region_code, scheme__kind=kind, year=year).first())


def _scheme(region_code: str, kind: str) -> Scheme:
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise PlanYearRolloverError(f"统筹区代码“{region_code}”不存在")
    scheme = Scheme.objects.filter(region=region, kind=kind).select_related("region").first()
    if scheme is None:
        raise PlanYearRolloverError(f"{region.name}没有险种“{kind}”")
    return scheme


def row_counts(plan_year: PlanYear) -> dict[type[models.Model], int]:
    """Number of rows of each rule table of a plan year, in ``RULE_MODELS`` order."""
    return {model: model.objects.filter(plan_year=plan_year).count() for model in RULE_MODELS}


def _save(obj, acting_user, where: str):
    """Validate (``full_clean``) and save the new plan year."""
    _check(obj, where, type(obj).full_clean)
    if acting_user is not None:
        obj._history_user = acting_user
    obj.save()


def copy_plan_year(*, region_code: str, kind: str, from_year: int, to_year: int,
                   acting_user=None) -> PlanYear:
    """Create the ``to_year`` draft of a scheme from its ``from_year`` plan year."""
    scheme = _scheme(region_code, kind)
    label = f"{scheme.region.name} {scheme.name}"
    if to_year == from_year:
        raise PlanYearRolloverError(f"{label}：目标年度不能与来源年度（{from_year}）相同")
    source = PlanYear.objects.filter(scheme=scheme, year=from_year).first()
    if source is None:
        raise PlanYearRolloverError(f"{label}：找不到 {from_year} 年度方案")
    target = PlanYear.objects.filter(scheme=scheme, year=to_year).first()
    if target is not None:
        raise PlanYearRolloverError(
            f"{label} 已有 {to_year} 年度方案（{target.get_status_display()}），不能重复结转；"
            f"如需重新结转，请先删除该年度方案")
    years = to_year - from_year
    note = f"由 {from_year} 年度方案结转生成的草稿，请逐项核对后生效。"
    target = PlanYear(scheme=scheme, year=to_year, status=PlanYear.Status.DRAFT,
                      official_participation_rate=None, source=source.source,
                      note=f"{note}\n{source.note}" if source.note else note)
    _save(target, acting_user, f"{label} {to_year} 年度方案")

    copies: dict[tuple[type[models.Model], int], models.Model] = {}
    history_user = _history_user(acting_user)
    filled = _tables_with_rows(source)
    for model in RULE_MODELS:
        if model not in filled:  # nothing to copy (most of a plan year's 24 tables)
            continue
        table = f"{label} {to_year} 年度，表“{model._meta.verbose_name}”"
        made = [(row.pk, _copy_row(model, row, target, copies, years)) for row in _source_rows(model, source)]
        if not made:
            continue
        for pk, copy in made:
            _check(copy, f"{table}复制第 {pk} 号行", validate_row)
        model.objects.bulk_create([copy for _pk, copy in made])  # the database's constraints still apply
        insert_history_stored(model, [copy.pk for _pk, copy in made], user=history_user, reason=None,
                              when=timezone.now(), created=True)
        for pk, copy in made:  # rules between rows (segment order) against the final rows
            _check(copy, f"{table}复制第 {pk} 号行", type(copy).clean)
            copies[(model, pk)] = copy
    return target


def _tables_with_rows(source: PlanYear) -> set[type[models.Model]]:
    """The rule tables holding rows of ``source``, asked in one statement (an ``EXISTS``
    per table on its plan-year index) instead of reading each of them."""
    names = [f"filled_{i}" for i in range(len(RULE_MODELS))]
    row = PlanYear.objects.filter(pk=source.pk).annotate(**{
        name: Exists(model.objects.filter(plan_year=OuterRef("pk"))) for name, model in zip(names, RULE_MODELS, strict=True)
    }).values_list(*names).get()
    return {model for model, filled in zip(RULE_MODELS, row, strict=True) if filled}


def _source_rows(model, source: PlanYear):
    """The source's rows of one table, with the code-table rows they name (identity,
    disease) read in the same query: ``clean()`` reads them."""
    joined = [f.name for f in data_fields(model)
              if f.is_relation and f.name != "plan_year" and f.related_model not in RULE_MODELS]
    return model.objects.filter(plan_year=source).select_related(*joined).order_by("pk")


def _copy_row(model, row, target: PlanYear, copies: dict, years: int) -> models.Model:
    """An unsaved copy of ``row`` in ``target``: a related rule row is its copy, a date
    moves by ``years``, and so do the dates written in its name and note when it has a date
    field; related rows are set as objects (cached for ``clean()``)."""
    copy = model()
    dated = any(_is_date(f) for f in data_fields(model))
    for f in data_fields(model):
        value = getattr(row, f.attname)
        if f.name == "plan_year":
            continue
        if f.is_relation:
            if value is None:
                setattr(copy, f.attname, None)
            elif f.related_model in RULE_MODELS:
                setattr(copy, f.name, copies[(f.related_model, value)])
            else:
                setattr(copy, f.name, getattr(row, f.name))  # read with the row
            continue
        if _is_date(f) and value is not None:
            value = shift_date(value, years)
        elif dated and f.name in TEXTS_WITH_DATES and isinstance(value, str) and not f.choices:
            value = shift_text(value, years)
        setattr(copy, f.attname, value)
    copy.plan_year = target  # cached for clean() (the plan year's region)
    return copy


def _check(obj, where: str, check) -> None:
    """``check(obj)``, its ValidationError as the rollover's error naming ``where``."""
    try:
        check(obj)
    except ValidationError as exc:
        raise PlanYearRolloverError(f"{where}：{describe_error(exc, type(obj))}") from exc


def _history_user(acting_user):
    """The user a save's history entry names: the acting user, else (as simple-history's
    middleware does for a save) the logged-in user of the request being served."""
    if acting_user is not None:
        return acting_user
    user = getattr(getattr(HistoricalRecords.context, "request", None), "user", None)
    return user if getattr(user, "is_authenticated", False) else None
