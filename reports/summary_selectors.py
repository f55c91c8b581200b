"""The dashboard's figures read from the summary tables (reads only; docs/reports.md
§汇总表): the same functions and rows as ``reports.selectors`` / ``reports.claims_figures``
(which compute them from the payments, enrollments and claims), one query per figure —
the plan-year rows (``PlanFigure``) a figure compares with are read in the same query.
The summaries are written by ``reports.services.dashboard_refresh``; equality with the
direct computation is tested (reports/tests/test_summaries.py).

``overdue_by_region`` stays the direct query: it depends on today's date and reads the
claims through their review-deadline index.
"""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Exists, OuterRef, Subquery

from finance.selectors.year_end import expenses_totals
from policies import codes
from policies.models import PlanFigure

from .claims_figures import (
    AVERAGE_YEARS,
    ClaimsPaid,
    ClaimTypeRow,
    HealthFundRow,
    LossRatioRow,
    overdue_by_region,  # noqa: F401  (re-exported: one figure source)
)
from .models import ClaimTypeSummary, CountySummary, PlanYearSummary, SubsidySummary
from .selectors import (
    CENT,
    ZERO,
    ContributionRow,
    ParticipationRow,
    SubsidyRow,
    participation_plan_years,
    percent,
    round_cent,
)

Code = PlanFigure.Code


def _figure(code, ref="plan_year"):
    """The plan year's ``PlanFigure`` value ``code`` as a subquery (None when no row)."""
    return Subquery(PlanFigure.objects.filter(plan_year=OuterRef(ref), code=code).values("value")[:1])


def _value(value) -> Decimal | None:
    """A ``PlanFigure`` value read through ``_figure``, with the column's two decimals
    (SQLite returns a subquery's decimal unquantized: ``30`` for ``30.00``)."""
    return None if value is None else Decimal(value).quantize(CENT)


def _order(plan_years):
    return {py.pk: i for i, py in enumerate(plan_years)}


def participation_rates(plan_years) -> list[ParticipationRow]:
    """参保率 of each reported plan year among ``plan_years`` (``selectors.participation_rates``)."""
    reported = participation_plan_years(plan_years)
    found = {s.pk: s for s in PlanYearSummary.objects.filter(plan_year__in=[py.pk for py in reported])
             .annotate(target=_figure(Code.PARTICIPATION_TARGET),
                       minimum=_figure(Code.PARTICIPATION_MINIMUM))}
    rows = []
    for py in reported:
        s = found.get(py.pk)
        enrollees, basic = (s.enrollees, s.basic_insured) if s else (0, 0)
        rows.append(ParticipationRow(
            plan_year=py, county=None, label="", enrollees=enrollees, basic_insured=basic,
            rate=percent(enrollees, basic), target=_value(s.target) if s else None,
            minimum=_value(s.minimum) if s else None))
    return rows


def county_participation_rates(plan_years) -> list[ParticipationRow]:
    """参保率 per county (``selectors.county_participation_rates``)."""
    reported = participation_plan_years(plan_years)
    by_pk, order = {py.pk: py for py in reported}, _order(reported)
    found = sorted(CountySummary.objects.filter(plan_year__in=list(by_pk)).select_related("county")
                   .annotate(target=_figure(Code.PARTICIPATION_TARGET),
                             minimum=_figure(Code.PARTICIPATION_MINIMUM)),
                   key=lambda s: (order[s.plan_year_id], s.seq))
    return [ParticipationRow(plan_year=by_pk[s.plan_year_id], county=s.county,
                             label=s.county.name if s.county else "未划分县区",
                             enrollees=s.enrollees, basic_insured=s.basic_insured,
                             rate=percent(s.enrollees, s.basic_insured), target=_value(s.target),
                             minimum=_value(s.minimum)) for s in found]


def contributions(plan_years) -> list[ContributionRow]:
    """缴费收入 of each plan year that has payments (``selectors.contributions``)."""
    found = {s.pk: s for s in PlanYearSummary.objects.filter(
        plan_year__in=[py.pk for py in plan_years], payments__gt=0)}
    return [ContributionRow(plan_year=py, payments=found[py.pk].payments,
                            persons=found[py.pk].payers, self_paid=round_cent(found[py.pk].self_paid),
                            subsidy=round_cent(found[py.pk].subsidy))
            for py in plan_years if py.pk in found]


def _subsidies(plan_years, dimension) -> list[SubsidyRow]:
    by_pk, order = {py.pk: py for py in plan_years}, _order(plan_years)
    found = sorted(SubsidySummary.objects.filter(dimension=dimension, plan_year__in=list(by_pk)),
                   key=lambda s: (order[s.plan_year_id], s.seq))
    return [SubsidyRow(plan_year=by_pk[s.plan_year_id], key=s.key, label=s.label,
                       payments=s.payments, amount=round_cent(s.amount), share=s.share)
            for s in found]


def subsidy_by_payer(plan_years) -> list[SubsidyRow]:
    return _subsidies(plan_years, SubsidySummary.Dimension.PAYER)


def subsidy_by_department(plan_years) -> list[SubsidyRow]:
    return _subsidies(plan_years, SubsidySummary.Dimension.DEPARTMENT)


def subsidy_by_identity(plan_years) -> list[SubsidyRow]:
    return _subsidies(plan_years, SubsidySummary.Dimension.IDENTITY)


def claims_paid_by_type(plan_years) -> list[ClaimTypeRow]:
    """赔付金额 per plan year and claim type (``claims_figures.claims_paid_by_type``)."""
    labels = dict(codes.ClaimType.choices)
    by_pk, order = {py.pk: py for py in plan_years}, _order(plan_years)
    found = sorted(ClaimTypeSummary.objects.filter(plan_year__in=list(by_pk)),
                   key=lambda s: (order[s.plan_year_id], s.seq))
    return [ClaimTypeRow(plan_year=by_pk[s.plan_year_id], claim_type=s.claim_type,
                         label=labels.get(s.claim_type, s.claim_type), claims=s.claims,
                         paid=round_cent(s.paid)) for s in found]


def loss_ratios(plan_years) -> list[LossRatioRow]:
    """赔付率 and its 3-year average (``claims_figures.loss_ratios``): the summaries of the
    plan years and of the years before them of the same schemes, in one query."""
    plan_years = list(plan_years)
    if not plan_years:
        return []
    low = min(py.year for py in plan_years) - AVERAGE_YEARS
    high = max(py.year for py in plan_years)
    summaries = list(PlanYearSummary.objects.filter(
        plan_year__scheme__in={py.scheme_id for py in plan_years},
        plan_year__year__gt=low, plan_year__year__lte=high)
        .annotate(target=_figure(Code.LOSS_RATIO_TARGET))
        .values("plan_year_id", "plan_year__scheme_id", "plan_year__year", "payments",
                "self_paid", "subsidy", "claims", "paid", "target"))
    by_pk = {s["plan_year_id"]: s for s in summaries}
    rows = []
    for py in plan_years:
        s = by_pk.get(py.pk)
        premium = _premium_of(s)
        paid = ClaimsPaid(claims=s["claims"], paid=round_cent(s["paid"])) if s else ClaimsPaid()
        if not (premium or paid.paid or paid.claims):
            continue
        window = sorted((w for w in summaries if w["plan_year__scheme_id"] == py.scheme_id
                         and py.year - AVERAGE_YEARS < w["plan_year__year"] <= py.year),
                        key=lambda w: w["plan_year__year"])
        used = [w for w in window if _premium_of(w) > 0]
        total_premium = sum((_premium_of(w) for w in used), ZERO)
        total_paid = sum((round_cent(w["paid"]) for w in used), ZERO)
        rows.append(LossRatioRow(
            plan_year=py, claims=paid.claims, paid=paid.paid, premium=premium,
            rate=percent(paid.paid, premium), average_rate=percent(total_paid, total_premium),
            average_years=tuple(w["plan_year__year"] for w in used),
            target=_value(s["target"]) if s else None))
    return rows


def _premium_of(values) -> Decimal:
    """保费收入 of a summary (``ContributionRow.total``: each sum rounded, then added)."""
    if not values or not values["payments"]:
        return ZERO
    return round_cent(values["self_paid"]) + round_cent(values["subsidy"])


def health_fund(plan_years) -> list[HealthFundRow]:
    """健康管理基金 (``claims_figures.health_fund``): the schemes with a
    ``profit_transfer_rate`` row in any plan year, in one query."""
    plan_years = list(plan_years)
    rated = PlanFigure.objects.filter(plan_year__scheme=OuterRef("plan_year__scheme"),
                                      code=Code.PROFIT_TRANSFER_RATE)
    found = {s.pk: s for s in PlanYearSummary.objects.filter(
        plan_year__in=[py.pk for py in plan_years])
        .annotate(rated=Exists(rated), expenses=_figure(Code.STATED_EXPENSES),
                  transfer_rate=_figure(Code.PROFIT_TRANSFER_RATE))}
    shown = []
    for py in plan_years:
        s = found.get(py.pk)
        if s is None or not s.rated:
            continue
        premium = _premium_of({"payments": s.payments, "self_paid": s.self_paid, "subsidy": s.subsidy})
        paid = round_cent(s.paid)
        if not (premium or paid or s.claims):
            continue
        shown.append((py, s, premium, paid))
    # the expenses as the year-end statement counts them: a second query, when any row shows
    expenses = expenses_totals({py.pk: premium for py, _s, premium, _p in shown},
                               {py.pk: s.expenses for py, s, _pr, _p in shown}) if shown else {}
    return [HealthFundRow(plan_year=py, premium=premium, claims=s.claims, paid=paid,
                          expenses=expenses[py.pk], transfer_rate=_value(s.transfer_rate))
            for py, s, premium, paid in shown]
