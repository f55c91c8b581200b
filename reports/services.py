"""Report services (writes; docs/reports.md §冻结参保率, §汇总表).

``participation_rate_freeze`` records a computed participation rate as the plan year's
official figure (``PlanYear.official_participation_rate``): sanming.md “兜底保障” — the
rate is “computed by the product, and frozen by a policy officer as the official
figure”; the settlement of 兜底 (FLOOR) reads only the frozen figure.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from celery import shared_task
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from policies.access import user_can_access
from policies.models import PlanYear

from . import claims_figures as cf
from . import selectors as sel
from .models import ClaimTypeSummary, CountySummary, PlanYearSummary, SubsidySummary
from .selectors import round_cent

FREEZE_PERMISSION = "policies.change_planyear"
"""Freezing writes a plan-year field: the 政策管理员 permission on plan years."""


def participation_rate_freeze(*, plan_year: PlanYear, rate, acting_user) -> PlanYear:
    """Set ``plan_year.official_participation_rate`` to ``rate`` (percent, rounded once to
    0.01 half-up), recorded in the plan year's history with ``acting_user``.

    Raises ``PermissionDenied`` for a user without the change permission on plan years or
    outside the plan year's region, ``ValidationError`` (Chinese, naming the field) for a
    closed plan year or a rate that is missing or outside 0–100 %.
    """
    if acting_user is None or not acting_user.has_perm(FREEZE_PERMISSION) or not user_can_access(
            acting_user, plan_year, "scheme__region"):
        raise PermissionDenied(f"您无权冻结年度方案“{plan_year}”的参保率")
    if rate is None:
        raise ValidationError({"official_participation_rate":
                               "参保率无法计算（基本医保参保人数为 0），不能冻结"})
    try:
        value = round_cent(Decimal(str(rate)))
    except InvalidOperation as exc:
        raise ValidationError({"official_participation_rate": f"参保率“{rate}”不是数字"}) from exc
    if not Decimal("0") <= value <= Decimal("100"):
        raise ValidationError({"official_participation_rate":
                               f"参保率 {value}% 必须在 0%–100% 之间"})
    with transaction.atomic():
        locked = PlanYear.objects.select_for_update().get(pk=plan_year.pk)
        if locked.status == PlanYear.Status.CLOSED:
            raise ValidationError({"official_participation_rate":
                                   f"年度方案“{locked}”已关闭，不能修改官方参保率"})
        locked.official_participation_rate = value
        locked._history_user = acting_user
        locked._change_reason = "冻结参保率"
        locked.save(update_fields=["official_participation_rate"])
    plan_year.official_participation_rate = locked.official_participation_rate
    return locked


# --------------------------------------------------------------------------- summaries


def _plan_years_of(pairs=None, plan_year_ids=None):
    """Every plan year of the (pooling region, year) ``pairs`` and of the regions and
    years of ``plan_year_ids``; all plan years when both are ``None``."""
    qs = PlanYear.objects.select_related("scheme__region")
    if pairs is None and plan_year_ids is None:
        return list(qs.order_by("scheme__region__code", "year", "scheme__settlement_order"))
    pairs = set(pairs or ())
    if plan_year_ids:
        pairs |= set(PlanYear.objects.filter(pk__in=plan_year_ids)
                     .values_list("scheme__region_id", "year"))
    if not pairs:
        return []
    condition = Q()
    for region_id, year in pairs:
        condition |= Q(scheme__region_id=region_id, year=year)
    return list(qs.filter(condition).order_by("scheme__region__code", "year",
                                              "scheme__settlement_order"))


def _summarise(plan_years) -> None:
    """Replace the summaries of ``plan_years`` (whole pooling-region years: the basic
    insured of a plan year are counted across the schemes of its region and year) by the
    figures of the selectors, computed now."""
    pks = [py.pk for py in plan_years]
    now = timezone.now()
    participation = {r.plan_year.pk: r for r in sel.participation_rates(plan_years)}
    contributions = {r.plan_year.pk: r for r in sel.contributions(plan_years)}
    claims_paid, claim_types = cf.region_year_claims_paid(plan_years)
    summaries, counties, subsidies = [], [], []
    for py in plan_years:
        part = participation.get(py.pk)
        contrib = contributions.get(py.pk)
        paid = claims_paid[py.pk]
        summaries.append(PlanYearSummary(
            plan_year=py, refreshed_at=now,
            enrollees=part.enrollees if part else 0, basic_insured=part.basic_insured if part else 0,
            payments=contrib.payments if contrib else 0, payers=contrib.persons if contrib else 0,
            self_paid=contrib.self_paid if contrib else 0, subsidy=contrib.subsidy if contrib else 0,
            claims=paid.claims, paid=paid.paid))
    for seq, row in enumerate(sel.county_participation_rates(plan_years)):
        counties.append(CountySummary(plan_year=row.plan_year, county=row.county, seq=seq,
                                      enrollees=row.enrollees, basic_insured=row.basic_insured))
    for dimension, rows in ((SubsidySummary.Dimension.PAYER, sel.subsidy_by_payer(plan_years)),
                            (SubsidySummary.Dimension.DEPARTMENT, sel.subsidy_by_department(plan_years)),
                            (SubsidySummary.Dimension.IDENTITY, sel.subsidy_by_identity(plan_years))):
        subsidies += [SubsidySummary(plan_year=r.plan_year, dimension=dimension, seq=seq, key=r.key,
                                     label=r.label, payments=r.payments, amount=r.amount, share=r.share)
                      for seq, r in enumerate(rows)]
    claim_types = [ClaimTypeSummary(plan_year=r.plan_year, seq=seq, claim_type=r.claim_type,
                                    claims=r.claims, paid=r.paid)
                   for seq, r in enumerate(claim_types)]
    with transaction.atomic():
        if connection.features.has_select_for_update:
            # two refreshes of one region's year (tasks after concurrent writes) take turns
            # replacing its rows, never both inserting at once (PostgreSQL; SQLite has one
            # writer at a time, and a read before the write there would only risk a
            # lock-upgrade "database is locked" under `make run`'s two workers)
            list(PlanYear.objects.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk"))
        for model in (CountySummary, SubsidySummary, ClaimTypeSummary, PlanYearSummary):
            model.objects.filter(plan_year__in=pks).delete()
        PlanYearSummary.objects.bulk_create(summaries)
        CountySummary.objects.bulk_create(counties)
        SubsidySummary.objects.bulk_create(subsidies)
        ClaimTypeSummary.objects.bulk_create(claim_types)


def dashboard_refresh(*, pairs=None, plan_year_ids=None) -> int:
    """Recompute the dashboard's summary tables (docs/reports.md §汇总表) of the
    (pooling region id, year) ``pairs`` and of the regions and years of ``plan_year_ids``;
    of every plan year when both are ``None``. One pooling-region year at a time, each in
    its own transaction. Returns the number of plan years refreshed. Called by the nightly
    job ``dashboard_refresh``, ``manage.py refresh_dashboard`` and, through the task
    ``reports.refresh_dashboard``, after the services' writes (``policies.dashboard``)."""
    return _refresh(_region_years(_plan_years_of(pairs, plan_year_ids)))


def _region_years(plan_years) -> list[list[PlanYear]]:
    """``plan_years`` grouped by pooling region and year, in their order."""
    groups: dict[tuple[int, int], list[PlanYear]] = {}
    for py in plan_years:
        groups.setdefault((py.scheme.region_id, py.year), []).append(py)
    return list(groups.values())


def _refresh(groups) -> int:
    """Summarise each pooling-region year of ``groups`` in its own transaction; the
    number of plan years refreshed."""
    for group in groups:
        _summarise(group)
    return sum(len(group) for group in groups)


def dashboard_summaries_ensure() -> int:
    """Refresh the pooling-region years of the plan years that have no summary yet (a new
    plan year, a fresh database): the dashboard then never shows a plan year as empty
    for want of a refresh. One query when nothing is missing."""
    missing = set(PlanYear.objects.filter(dashboard_summary__isnull=True)
                  .values_list("scheme__region_id", "year"))
    return dashboard_refresh(pairs=missing) if missing else 0


@shared_task(name="reports.refresh_dashboard")
def refresh_dashboard_task(pairs, plan_year_ids, queued_at: str | None = None) -> int:
    """What the ``figures_changed`` hook queues (reports.apps): refresh on a worker. A
    pooling-region year whose every plan year was refreshed after ``queued_at`` (ISO
    time; the hook queues after its commit) is skipped: a batch settling chunk after chunk
    queues one task per chunk, and the first to run covers those queued before it."""
    groups = _region_years(_plan_years_of([tuple(p) for p in pairs], plan_year_ids))
    if queued_at and groups:
        since = datetime.fromisoformat(queued_at)
        fresh = set(PlanYearSummary.objects.filter(
            plan_year__in=[py.pk for group in groups for py in group], refreshed_at__gt=since)
            .values_list("plan_year_id", flat=True))
        groups = [group for group in groups if any(py.pk not in fresh for py in group)]
    return _refresh(groups)
