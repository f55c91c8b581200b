"""Rolling a plan year forward (spec README §2 "Editing 2025 never changes 2024" and §5
"Rolling a plan year forward (2024 → 2025) copies every row into a new draft plan year").

The new plan year is a ``draft`` copy of the source: every row of every table in
``policies.models.RULE_MODELS`` is copied, foreign keys between rows of the same plan
year (a contribution standard's window, a responsibility's drug ratios, …) point to the
copies, and every date field moves by the difference in years (02-29 → 02-28 when the
target year has none). The officially frozen participation rate is a fact of the source
year and is not copied. The caller (``policies.services.plan_year_rollover``) provides
the transaction.
"""
from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models

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


def _save(obj, acting_user, where: str, *, copied: bool = False):
    """Validate and save ``obj``. ``copied``: a rule row copied from the source plan year,
    validated as the fixture loader validates a row (``loading.validate_row``: every field
    validator, ``clean()`` and check constraint, without the look-ups the copy answers —
    its foreign keys point to rows that exist, and its natural key is unique in the new
    plan year because it was in the source); ``full_clean()`` ran them as one query per
    constraint and row, most of a rollover's time. The database constraints still guard
    every insert."""
    try:
        validate_row(obj) if copied else obj.full_clean()
    except ValidationError as exc:
        raise PlanYearRolloverError(f"{where}：{describe_error(exc, type(obj))}") from exc
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
    for model in RULE_MODELS:
        for row in model.objects.filter(plan_year=source).order_by("pk"):
            copy = model()
            for f in data_fields(model):
                value = getattr(row, f.attname)
                if f.name == "plan_year":
                    value = target.pk
                elif f.is_relation and f.related_model in RULE_MODELS and value is not None:
                    value = copies[(f.related_model, value)].pk
                elif _is_date(f) and value is not None:
                    value = shift_date(value, years)
                setattr(copy, f.attname, value)
            copy.plan_year = target  # cached for clean() (the plan year's region)
            _save(copy, acting_user,
                  f"{label} {to_year} 年度，表“{model._meta.verbose_name}”（{model.__name__}）"
                  f"复制第 {row.pk} 号行", copied=True)
            copies[(model, row.pk)] = copy
    return target
