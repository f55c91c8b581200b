"""Claims figures of the reports (reads only; docs/reports.md “理赔与赔付率”).

- 赔付金额 ``claims_paid(plan_year)``: the claims paid by one plan year's scheme — the
  current result lines (``ClaimLayer.is_current``) of the plan year's scheme kind, of the
  counted claims (``Claim.COUNTED``: 已结算 / 已审核 / 已支付) of the plan year's pooling
  region and year (``Claim.region`` / ``Claim.year``, README §4.2). 赔付件数 = lines that
  pay (> 0). Summed, then rounded once (README §4.1).
- 赔付金额（按就医类型）: the same lines per claim type.
- 赔付率 (liaocheng.md “Operations”: “claims paid ÷ premiums, per year and as a 3-year
  average; the scheme must reach ≥ 80 % (report; a shortfall is flagged)”): premiums are
  the contributions collected (self-paid + subsidy, ``selectors.contributions``); the
  3-year average is Σ claims paid ÷ Σ premiums over the plan year and the two years
  before it of the same scheme that collected premiums; compared with the plan year's
  ``loss_ratio_target`` row.
- 健康管理基金 (sanming.md “Management figures”: “Annual net profit above 3 % of premium
  goes to a 健康管理基金: the report shows premium income, claims paid, stated expenses,
  profit and that transfer”): 净利润 = 保费收入 − 赔付金额 − 经营费用, the expenses as the
  year-end statement counts them (``finance.selectors.year_end.expenses_totals``: the 年度清算
  经营费用 rows, else the plan-year row ``stated_expenses``); 转入 = 净利润 − 保费收入 ×
  ``profit_transfer_rate`` % when positive.
- 线下审核超期: ``claims.selectors.overdue_claims`` (liaocheng.md 7 working days) per
  pooling region and year, limited to the selected (user-scoped) plan years.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Min, Q, Sum
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, ClaimLayer
from claims.selectors import overdue_claims
from finance.selectors.year_end import expenses_totals
from policies import codes
from policies.models import PlanFigure, PlanYear

from .selectors import NOT_SET, ZERO, contributions, percent, plan_figures, round_cent

AVERAGE_YEARS = 3
"""liaocheng.md “as a 3-year average” (the co-insurance term): vocabulary of the spec's
figure, not a policy number."""
@dataclass(frozen=True)
class ClaimsPaid:
    """Claims paid by one plan year's scheme: paying lines (claims) and amount (元)."""

    claims: int = 0
    paid: Decimal = ZERO


PAID = {"claims": Count("id", filter=Q(paid__gt=0)), "paid": Sum("paid")}
"""赔付件数 and the unrounded 赔付金额 of a group of result lines."""


def counted_lines(region_id: int, year: int, scheme_kinds):
    """The current result lines of ``scheme_kinds``' layers of the counted claims of a
    pooling region's year."""
    return ClaimLayer.objects.filter(
        is_current=True, scheme_kind__in=scheme_kinds, claim__status__in=Claim.COUNTED,
        claim__region_id=region_id, claim__year=year)


def paid_lines(plan_year):
    """The current result lines of ``plan_year``'s scheme of the counted claims of its
    pooling region and year."""
    return counted_lines(plan_year.scheme.region_id, plan_year.year, [plan_year.scheme.kind])


def claims_paid(plan_year) -> ClaimsPaid:
    """赔付件数 and 赔付金额 of ``plan_year`` (module docstring), rounded once."""
    row = paid_lines(plan_year).aggregate(**PAID)
    return ClaimsPaid(claims=row["claims"] or 0, paid=round_cent(row["paid"]))


# --------------------------------------------------------------------------- by claim type


@dataclass(frozen=True)
class ClaimTypeRow:
    plan_year: PlanYear
    claim_type: str
    label: str
    claims: int
    paid: Decimal


def claims_paid_by_type(plan_years) -> list[ClaimTypeRow]:
    """赔付金额 per plan year (= scheme layer) and claim type, claim types in code order;
    plan years without paying lines give no row."""
    rows = []
    for plan_year in plan_years:
        rows += _type_rows(plan_year, paid_lines(plan_year).values("claim__claim_type")
                           .annotate(**PAID).order_by())
    return rows


def _type_rows(plan_year, found) -> list[ClaimTypeRow]:
    """``claims_paid_by_type``'s rows of ``plan_year`` from its lines' figures per claim
    type (``found``: dicts of ``claim__claim_type``, ``claims``, ``paid``)."""
    labels = dict(codes.ClaimType.choices)
    order = list(labels)
    found = [r for r in found if r["claims"] or r["paid"]]
    found.sort(key=lambda r: order.index(r["claim__claim_type"])
               if r["claim__claim_type"] in order else len(order))
    return [ClaimTypeRow(plan_year=plan_year, claim_type=r["claim__claim_type"],
                         label=labels.get(r["claim__claim_type"], r["claim__claim_type"]),
                         claims=r["claims"], paid=round_cent(r["paid"])) for r in found]


def region_year_claims_paid(plan_years) -> tuple[dict[int, ClaimsPaid], list[ClaimTypeRow]]:
    """``claims_paid`` of each of ``plan_years`` (one pooling region's year, as the
    summaries refresh them) by plan-year id, and their ``claims_paid_by_type`` rows, from
    one query of their lines' figures per scheme kind and claim type."""
    if not plan_years:
        return {}, []
    first = plan_years[0]
    found = list(counted_lines(first.scheme.region_id, first.year, {py.scheme.kind for py in plan_years})
                 .values("scheme_kind", "claim__claim_type").annotate(**PAID).order_by())
    paid, rows = {}, []
    for plan_year in plan_years:
        mine = [r for r in found if r["scheme_kind"] == plan_year.scheme.kind]
        paid[plan_year.pk] = ClaimsPaid(claims=sum(r["claims"] for r in mine),
                                        paid=round_cent(sum(r["paid"] for r in mine)))
        rows += _type_rows(plan_year, mine)
    return paid, rows


# --------------------------------------------------------------------------- loss ratio


@dataclass(frozen=True)
class LossRatioRow:
    """赔付率 of a plan year and its 3-year average (``average_years``: the years of the
    same scheme that entered the average, oldest first)."""

    plan_year: PlanYear
    claims: int
    paid: Decimal
    premium: Decimal
    rate: Decimal | None
    average_rate: Decimal | None
    average_years: tuple[int, ...]
    target: Decimal | None

    @property
    def average_label(self) -> str:
        if not self.average_years:
            return "—"
        years = "、".join(str(y) for y in self.average_years)
        n = len(self.average_years)
        return years if n >= AVERAGE_YEARS else f"{years}（仅 {n} 个年度）"

    @property
    def below_target(self) -> list[str]:
        """Which of the two rates are below the target (empty when none or no target)."""
        if self.target is None:
            return []
        out = []
        if self.rate is not None and self.rate < self.target:
            out.append("年度")
        if self.average_rate is not None and self.average_rate < self.target:
            out.append("三年平均" if len(self.average_years) >= AVERAGE_YEARS
                       else f"{len(self.average_years)} 年平均")
        return out

    @property
    def status(self) -> str:
        if self.target is None:
            return NOT_SET
        if self.rate is None:
            return "无法计算（保费收入为 0）"
        below = self.below_target
        return f"低于底线（{'、'.join(below)}）" if below else "达到底线"


def _window(plan_year) -> list[PlanYear]:
    """Plan years of the same scheme in the 3 years ending with ``plan_year``'s."""
    return list(PlanYear.objects.filter(
        scheme_id=plan_year.scheme_id, year__gt=plan_year.year - AVERAGE_YEARS,
        year__lte=plan_year.year).select_related("scheme__region").order_by("year"))


def loss_ratio(plan_year, *, premium: Decimal | None = None,
               paid: ClaimsPaid | None = None) -> LossRatioRow:
    """赔付率 of one plan year (module docstring)."""
    window = _window(plan_year)
    premiums = {r.plan_year.pk: r.total for r in contributions(window)}
    paid = paid if paid is not None else claims_paid(plan_year)
    premium = premium if premium is not None else premiums.get(plan_year.pk, ZERO)
    used = [py for py in window if premiums.get(py.pk, ZERO) > 0]
    total_premium = sum((premiums[py.pk] for py in used), ZERO)
    total_paid = sum((paid.paid if py.pk == plan_year.pk else claims_paid(py).paid
                      for py in used), ZERO)
    target = plan_figures(plan_year, PlanFigure.Code.LOSS_RATIO_TARGET)[
        PlanFigure.Code.LOSS_RATIO_TARGET]
    return LossRatioRow(plan_year=plan_year, claims=paid.claims, paid=paid.paid,
                        premium=premium, rate=percent(paid.paid, premium),
                        average_rate=percent(total_paid, total_premium),
                        average_years=tuple(py.year for py in used), target=target)


def loss_ratios(plan_years) -> list[LossRatioRow]:
    """赔付率 of each plan year among ``plan_years`` that collected premiums or paid
    claims."""
    premiums = {r.plan_year.pk: r.total for r in contributions(plan_years)}
    rows = []
    for plan_year in plan_years:
        paid = claims_paid(plan_year)
        premium = premiums.get(plan_year.pk, ZERO)
        if premium or paid.paid or paid.claims:
            rows.append(loss_ratio(plan_year, premium=premium, paid=paid))
    return rows


# --------------------------------------------------------------------------- 健康管理基金


@dataclass(frozen=True)
class HealthFundRow:
    """Net profit of a plan year and the part of it going to the 健康管理基金."""

    plan_year: PlanYear
    premium: Decimal
    claims: int
    paid: Decimal
    expenses: Decimal | None
    transfer_rate: Decimal | None

    @property
    def profit(self) -> Decimal | None:
        """保费收入 − 赔付金额 − 经营费用; unknown while no expenses are entered."""
        if self.expenses is None:
            return None
        return self.premium - self.paid - self.expenses

    @property
    def threshold(self) -> Decimal | None:
        """保费收入 × ``profit_transfer_rate`` %, rounded once."""
        if self.transfer_rate is None:
            return None
        return round_cent(self.premium * self.transfer_rate / Decimal(100))

    @property
    def transfer(self) -> Decimal | None:
        """The net profit above the threshold (0 when at or below it)."""
        if self.profit is None or self.threshold is None:
            return None
        return max(self.profit - self.threshold, ZERO)

    @property
    def status(self) -> str:
        if self.transfer_rate is None:
            return f"转入起点{NOT_SET}"
        if self.expenses is None:
            return "经营费用未录入，不计算净利润"
        if self.profit < 0:
            return "亏损，无转入"
        if self.transfer == 0:
            return "净利润未超过起点，无转入"
        return "转入健康管理基金"


def health_fund(plan_years) -> list[HealthFundRow]:
    """健康管理基金 of each plan year among ``plan_years`` whose scheme has a
    ``profit_transfer_rate`` row in any of its plan years (a plan year of such a scheme
    without the row shows “未设置”), leaving out plan years with neither premiums nor
    claims paid."""
    plan_years = list(plan_years)
    schemes = set(PlanFigure.objects.filter(
        plan_year__scheme__in={py.scheme_id for py in plan_years},
        code=PlanFigure.Code.PROFIT_TRANSFER_RATE).values_list("plan_year__scheme_id", flat=True))
    chosen = [py for py in plan_years if py.scheme_id in schemes]
    premiums = {r.plan_year.pk: r.total for r in contributions(chosen)}
    found = []
    for plan_year in chosen:
        paid = claims_paid(plan_year)
        premium = premiums.get(plan_year.pk, ZERO)
        if not (premium or paid.paid or paid.claims):
            continue
        figures = plan_figures(plan_year, PlanFigure.Code.STATED_EXPENSES,
                               PlanFigure.Code.PROFIT_TRANSFER_RATE)
        found.append((plan_year, premium, paid, figures))
    expenses = expenses_totals({py.pk: premium for py, premium, _p, _f in found},
                               {py.pk: f[PlanFigure.Code.STATED_EXPENSES] for py, _pr, _p, f in found})
    return [HealthFundRow(plan_year=py, premium=premium, claims=paid.claims, paid=paid.paid,
                          expenses=expenses[py.pk],
                          transfer_rate=figures[PlanFigure.Code.PROFIT_TRANSFER_RATE])
            for py, premium, paid, figures in found]


# --------------------------------------------------------------------------- overdue


@dataclass(frozen=True)
class OverdueRow:
    """Claims of one pooling region and year past their offline-review deadline."""

    region_name: str
    region_id: int
    year: int
    claims: int
    oldest_due: date

    @property
    def url(self) -> str:
        """The claims changelist filtered to these claims (admin filter 线下审核期限)."""
        query = urlencode({"deadline": "overdue", "region__id__exact": self.region_id,
                           "year__exact": self.year})
        return f"{reverse('admin:claims_claim_changelist')}?{query}"


def overdue_by_region(plan_years, *, today: date | None = None) -> list[OverdueRow]:
    """``overdue_claims`` per pooling region and year of the selected plan years (the
    user's scope: the plan years come from ``plan_years_for(user)``)."""
    pairs = {(py.scheme.region_id, py.year) for py in plan_years}
    if not pairs:
        return []
    scope = Q()
    for region_id, year in pairs:
        scope |= Q(region_id=region_id, year=year)
    rows = (overdue_claims(today=today or timezone.localdate()).filter(scope)
            .values("region_id", "region__name", "region__code", "year")
            .annotate(claims=Count("id"), oldest=Min("review_due_date"))
            .order_by("region__code", "year"))
    return [OverdueRow(region_name=r["region__name"], region_id=r["region_id"], year=r["year"],
                       claims=r["claims"], oldest_due=r["oldest"]) for r in rows]
