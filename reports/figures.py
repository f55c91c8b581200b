"""The dashboard's figures as tables + chart data, built from the summary tables (reads
only; ``source=DIRECT``: from the selectors over the rows themselves).

One ``Figure`` per report: the same columns and rows feed the HTML table under the
chart, the chart data (``json_script``, drawn by static/reports/charts.js) and the xlsx
export, so that the three never disagree. Cells keep their types (int, Decimal, str,
``None``); formatting happens at the edge (template filter, xlsx number format).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from . import claims_figures as cf
from . import selectors as sel
from . import summary_selectors as SUMMARY

DIRECT = SimpleNamespace(
    participation_rates=sel.participation_rates,
    county_participation_rates=sel.county_participation_rates,
    contributions=sel.contributions, subsidy_by_payer=sel.subsidy_by_payer,
    subsidy_by_department=sel.subsidy_by_department, subsidy_by_identity=sel.subsidy_by_identity,
    claims_paid_by_type=cf.claims_paid_by_type, loss_ratios=cf.loss_ratios,
    health_fund=cf.health_fund, overdue_by_region=cf.overdue_by_region)
"""The figures computed from the rows themselves (``source=DIRECT``); the default source
is ``SUMMARY``, the summary tables (reports/summary_selectors.py, docs/reports.md §汇总表)."""

TEXT, INT, MONEY, PERCENT = "text", "int", "money", "percent"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT


@dataclass
class Figure:
    key: str
    title: str
    basis: str
    """How the figure is computed, in the words of the people who read it (口径)."""
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    chart: dict = field(default_factory=dict)
    row_objects: list = field(default_factory=list)
    """The selector rows behind ``rows`` (same order), for row actions in the page."""
    links: list = field(default_factory=list)
    """Per row (same order) ``(url, text)`` of a link shown in the page only, or empty."""

    @property
    def empty(self) -> bool:
        return not self.rows


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _short(plan_year) -> str:
    return sel.plan_year_label(plan_year)


def _or_not_set(value):
    return sel.NOT_SET if value is None else value


def _participation_chart(rows, labels, **extra) -> dict:
    """参保率 against the plan year's 目标 and 底线 (both participation figures)."""
    return {"unit": "%", "labels": labels, **extra,
            "series": [{"name": "参保率", "values": [_dec(r.rate) for r in rows]}],
            "markers": [{"name": "目标", "values": [_dec(r.target) for r in rows]},
                        {"name": "底线", "values": [_dec(r.minimum) for r in rows]}]}


def participation_figure(plan_years, source=None) -> Figure:
    rows = (source or SUMMARY).participation_rates(plan_years)
    fig = Figure(
        key="participation", title="参保率（按年度方案）",
        basis="参保人数 ÷ 同年度本统筹区基本医保参保人数，与年度方案的目标值、底线值对照；官方参保率由政策管理员冻结",
        columns=[Column("年度方案"), Column("参保人数", INT), Column("基本医保参保人数", INT),
                 Column("参保率（%）", PERCENT), Column("目标（%）", PERCENT),
                 Column("底线（%）", PERCENT), Column("对照结果"), Column("官方参保率（%）", PERCENT)],
        row_objects=rows)
    for r in rows:
        fig.rows.append([_short(r.plan_year), r.enrollees, r.basic_insured, r.rate,
                         _or_not_set(r.target), _or_not_set(r.minimum), r.status,
                         r.official_rate if r.official_rate is not None else "未冻结"])
    fig.chart = _participation_chart(rows, [_short(r.plan_year) for r in rows])
    return fig


def county_participation_figure(plan_years, source=None) -> Figure:
    rows = (source or SUMMARY).county_participation_rates(plan_years)
    fig = Figure(
        key="participation_county", title="各县（市、区）参保率",
        basis="按参保人常住地（未登记时为户籍地）所在县（市、区）统计参保率，与年度方案的县级目标值、底线值对照",
        columns=[Column("年度方案"), Column("县（市、区）"), Column("参保人数", INT),
                 Column("基本医保参保人数", INT), Column("参保率（%）", PERCENT),
                 Column("目标（%）", PERCENT), Column("底线（%）", PERCENT), Column("对照结果")],
        row_objects=rows)
    for r in rows:
        fig.rows.append([_short(r.plan_year), r.label, r.enrollees, r.basic_insured, r.rate,
                         _or_not_set(r.target), _or_not_set(r.minimum), r.status])
    fig.chart = _participation_chart(rows, [r.label for r in rows],
                                     groups=[_short(r.plan_year) for r in rows])
    return fig


def contributions_figure(plan_years, source=None) -> Figure:
    rows = (source or SUMMARY).contributions(plan_years)
    fig = Figure(
        key="contributions", title="缴费收入（个人缴费与资助）",
        basis="已登记的缴费记录：个人缴费、资助与合计，按年度方案汇总",
        columns=[Column("年度方案"), Column("缴费笔数", INT), Column("缴费人数", INT),
                 Column("个人缴费（元）", MONEY), Column("资助（元）", MONEY),
                 Column("合计（元）", MONEY)],
        row_objects=rows)
    for r in rows:
        fig.rows.append([_short(r.plan_year), r.payments, r.persons, r.self_paid, r.subsidy,
                         r.total])
    fig.chart = {"unit": "元", "stacked": True, "labels": [_short(r.plan_year) for r in rows],
                 "series": [{"name": "个人缴费", "values": [_dec(r.self_paid) for r in rows]},
                            {"name": "资助", "values": [_dec(r.subsidy) for r in rows]}]}
    return fig


def _subsidy_figure(key, title, by, rows) -> Figure:
    fig = Figure(
        key=key, title=title, basis="缴费记录中的资助金额，按资助部门或特殊身份汇总",
        columns=[Column("年度方案"), Column(by), Column("资助笔数", INT),
                 Column("资助金额（元）", MONEY), Column("占本年度资助（%）", PERCENT)],
        row_objects=rows)
    for r in rows:
        fig.rows.append([_short(r.plan_year), r.label, r.payments, r.amount, r.share])
    fig.chart = {"unit": "元", "labels": [r.label for r in rows],
                 "groups": [_short(r.plan_year) for r in rows],
                 "series": [{"name": "资助金额", "values": [_dec(r.amount) for r in rows]}]}
    return fig


def subsidy_payer_figure(plan_years, source=None) -> Figure:
    return _subsidy_figure("subsidy_payer", "资助（按资助方）", "资助方",
                           (source or SUMMARY).subsidy_by_payer(plan_years))


def subsidy_department_figure(plan_years, source=None) -> Figure:
    return _subsidy_figure("subsidy_department", "资助（按认定部门）", "认定部门",
                           (source or SUMMARY).subsidy_by_department(plan_years))


def subsidy_identity_figure(plan_years, source=None) -> Figure:
    return _subsidy_figure("subsidy_identity", "资助（按资助身份）", "资助身份",
                           (source or SUMMARY).subsidy_by_identity(plan_years))


def claims_by_type_figure(plan_years, source=None) -> Figure:
    rows = (source or SUMMARY).claims_paid_by_type(plan_years)
    fig = Figure(
        key="claims_by_type", title="赔付金额（按险种层与就医类型）",
        basis="已结算理赔各险种层的支付金额，按理赔所属年度方案与就医类型汇总",
        columns=[Column("年度方案（险种层）"), Column("就医类型"), Column("赔付件数", INT),
                 Column("赔付金额（元）", MONEY)],
        row_objects=rows)
    for r in rows:
        fig.rows.append([_short(r.plan_year), r.label, r.claims, r.paid])
    fig.chart = {"unit": "元", "labels": [r.label for r in rows],
                 "groups": [_short(r.plan_year) for r in rows],
                 "series": [{"name": "赔付金额", "values": [_dec(r.paid) for r in rows]}]}
    return fig


def loss_ratio_figure(plan_years, source=None) -> Figure:
    rows = (source or SUMMARY).loss_ratios(plan_years)
    fig = Figure(
        key="loss_ratio", title="赔付率（年度与三年平均）",
        basis="赔付金额 ÷ 保费收入；三年平均为最近三个年度合计，与年度方案的赔付率底线对照",
        columns=[Column("年度方案"), Column("赔付件数", INT), Column("赔付金额（元）", MONEY),
                 Column("保费收入（元）", MONEY), Column("赔付率（%）", PERCENT),
                 Column("三年平均赔付率（%）", PERCENT), Column("平均所含年度"),
                 Column("赔付率底线（%）", PERCENT), Column("对照结果")],
        row_objects=rows)
    for r in rows:
        fig.rows.append([_short(r.plan_year), r.claims, r.paid, r.premium, r.rate,
                         r.average_rate, r.average_label, _or_not_set(r.target), r.status])
    fig.chart = {"unit": "%", "labels": [_short(r.plan_year) for r in rows],
                 "series": [{"name": "赔付率", "values": [_dec(r.rate) for r in rows]},
                            {"name": "三年平均", "values": [_dec(r.average_rate) for r in rows]}],
                 "markers": [{"name": "底线", "values": [_dec(r.target) for r in rows]}]}
    return fig


def health_fund_figure(plan_years, source=None) -> Figure:
    rows = (source or SUMMARY).health_fund(plan_years)
    fig = Figure(
        key="health_fund", title="净利润与健康管理基金",
        basis="净利润 = 保费收入 − 赔付金额 − 经营费用（与年度清算表相同：年度清算经营费用，未录入时取申报经营费用）；超过起点的部分转入健康管理基金",
        columns=[Column("年度方案"), Column("保费收入（元）", MONEY), Column("赔付金额（元）", MONEY),
                 Column("经营费用（元）", MONEY), Column("净利润（元）", MONEY),
                 Column("转入起点（%）", PERCENT), Column("起点金额（元）", MONEY),
                 Column("转入健康管理基金（元）", MONEY), Column("说明")],
        row_objects=rows)
    for r in rows:
        fig.rows.append([_short(r.plan_year), r.premium, r.paid, _or_not_set(r.expenses),
                         r.profit, _or_not_set(r.transfer_rate), r.threshold, r.transfer,
                         r.status])
    fig.chart = {"unit": "元", "labels": [_short(r.plan_year) for r in rows],
                 "series": [{"name": "保费收入", "values": [_dec(r.premium) for r in rows]},
                            {"name": "赔付金额", "values": [_dec(r.paid) for r in rows]},
                            {"name": "净利润", "values": [_dec(r.profit) for r in rows]},
                            {"name": "转入健康管理基金",
                             "values": [_dec(r.transfer) for r in rows]}]}
    return fig


def overdue_figure(plan_years, source=None) -> Figure:
    rows = (source or SUMMARY).overdue_by_region(plan_years)
    fig = Figure(
        key="claims_overdue", title="线下审核超期理赔",
        basis="线下审核超过审核期限（受理后若干个工作日）仍未办结的理赔",
        columns=[Column("统筹区"), Column("年度", INT), Column("超期件数", INT),
                 Column("最早审核期限")],
        row_objects=rows)
    for r in rows:
        fig.rows.append([r.region_name, r.year, r.claims, r.oldest_due.isoformat()])
        fig.links.append((r.url, "查看超期理赔"))
    fig.chart = {"unit": "件", "labels": [f"{r.region_name} {r.year}" for r in rows],
                 "series": [{"name": "超期件数", "values": [str(r.claims) for r in rows]}]}
    return fig


BUILDERS = {
    "participation": participation_figure,
    "participation_county": county_participation_figure,
    "contributions": contributions_figure,
    "subsidy_payer": subsidy_payer_figure,
    "subsidy_department": subsidy_department_figure,
    "subsidy_identity": subsidy_identity_figure,
    "claims_by_type": claims_by_type_figure,
    "loss_ratio": loss_ratio_figure,
    "health_fund": health_fund_figure,
    "claims_overdue": overdue_figure,
}
"""Figure key → builder, in dashboard order (the export URL names the key)."""


def build_figures(plan_years, source=None) -> list[Figure]:
    """Every figure of ``plan_years``, from the summary tables (``SUMMARY``, the page and
    the exports) or from ``DIRECT`` (the aggregates over the payments, enrollments and
    claims themselves, which the summaries are tested against)."""
    plan_years = list(plan_years)
    return [builder(plan_years, source) for builder in BUILDERS.values()]
