"""Reads of 年度清算 (docs/money.md §年度清算): the figures of a commercial fund's year
computed from the ledger, the claims' result lines and the parameter rows
(``statement_figures``), and the statements a user may see.

- 保费收入 = −(缴费收入 + 资助收入) of the fund and year in the ledger, every movement
  (缴费到账, 退费, 冲正, …) counted, so refunds and reversals are netted; one line per kind
  of movement.
- 赔付支出 by 保险责任: the fund's current computed result lines (``ClaimLayer``:
  ``is_current``, not ``given``) of the approved and paid claims of the fund's region and
  year, split by their ``items`` (R1…, 兜底); a layer's amount not split into items is
  shown as 未分保险责任. Their total is checked against the ledger's 待遇支出 of the fund and
  year (核对 line): the two agree unless a claim and its journals disagree
  (``finance.checks.ledger_differences`` names which).
- 经营费用: the plan year's ``YearEndExpense`` rows (an amount, or 保费收入 × ratio rounded
  to the fen per item); without rows, the plan year's ``PlanFigure`` 申报经营费用 when set;
  else not entered — the statement says so, computes no profit and cannot be signed.
- 利润（结余） = 保费收入 − 赔付支出 − 经营费用; 赔付率 = 赔付支出 ÷ 保费收入 against the
  plan year's ``loss_ratio_target`` row; 健康管理基金 = the profit above 保费收入 ×
  ``profit_transfer_rate`` % (三明: "年度净利润超过 3% 时，超过部分设立健康管理基金"); a plan
  year without that row transfers nothing and the statement says the policy states none.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from claims.models import Claim, ClaimLayer
from insurance_rules.money import HUNDRED, q2
from ledger import selectors as ledger
from ledger.models import Account, Journal
from policies.access import scope_queryset
from policies.models import PlanFigure, PlanYear, Responsibility, Scheme

from ..models.year_end import COMMERCIAL_KINDS, YearEndExpense, YearEndLine, YearEndStatement

ZERO = Decimal("0.00")
PREMIUM_ACCOUNTS = (Account.CONTRIBUTION, Account.SUBSIDY)
BOOKED_STATUSES = (Claim.Status.APPROVED, Claim.Status.PAID)
"""Claims whose computed layers are booked as 待遇支出 (``claims.postings``)."""
FLOOR_CODE = "FLOOR"
FLOOR_LABEL = "兜底保障（个人自付封顶）"
UNSPLIT_LABEL = "未分保险责任"
OTHER_LABEL = "其他保险责任"
Section = YearEndLine.Section


@dataclass(frozen=True)
class Line:
    """One line of a statement (the values of a ``YearEndLine``)."""

    section: str
    label: str
    amount: Decimal | None
    code: str = ""
    count: int | None = None
    note: str = ""
    total: bool = False

    def key(self) -> tuple:
        return (self.section, self.code, self.label, self.amount, self.count, self.note, self.total)


@dataclass(frozen=True)
class Figures:
    """What a statement of ``scheme`` and ``year`` says, computed now."""

    scheme: Scheme
    year: int
    insurer: str
    premium_self: Decimal
    premium_subsidy: Decimal
    premium_income: Decimal
    claims_paid: Decimal
    ledger_benefit: Decimal
    expenses: Decimal | None
    profit: Decimal | None
    loss_ratio: Decimal | None
    loss_ratio_target: Decimal | None
    transfer_rate: Decimal | None
    transfer_threshold: Decimal | None
    health_fund_transfer: Decimal | None
    retained: Decimal | None
    lines: tuple[Line, ...] = ()
    notes: tuple[str, ...] = field(default=())

    STORED = ("insurer", "premium_self", "premium_subsidy", "premium_income", "claims_paid",
              "ledger_benefit", "expenses", "profit", "loss_ratio", "loss_ratio_target",
              "transfer_rate", "transfer_threshold", "health_fund_transfer", "retained")

    @property
    def check_agrees(self) -> bool:
        return self.claims_paid == self.ledger_benefit

    def stored_values(self) -> dict:
        """The statement's own fields (``notes`` joined by lines)."""
        return {**{name: getattr(self, name) for name in self.STORED}, "notes": "\n".join(self.notes)}


def plan_year_of(scheme: Scheme, year: int) -> PlanYear | None:
    return PlanYear.objects.filter(scheme=scheme, year=year).first()


def _neg(value) -> Decimal:
    """A credit balance shown positive, to the fen (never ``-0.00``)."""
    return q2(-(value or ZERO)) + ZERO


def _premium_lines(scheme, year) -> tuple[list[Line], Decimal, Decimal]:
    by_kind = dict(ledger.entries(account=PREMIUM_ACCOUNTS, scheme=scheme, year=year)
                   .values_list("journal__kind").annotate(s=Sum("amount")).order_by())
    labels = dict(Journal.Kind.choices)
    lines = [Line(Section.PREMIUM, labels.get(kind, "其他账务调整"), _neg(by_kind[kind]), code=kind)
             for kind in Journal.Kind.values if kind in by_kind]
    lines += [Line(Section.PREMIUM, "其他账务调整", _neg(v), code=k)
              for k, v in by_kind.items() if k not in Journal.Kind.values]
    own = _neg(ledger.balance(account=Account.CONTRIBUTION, scheme=scheme, year=year))
    subsidy = _neg(ledger.balance(account=Account.SUBSIDY, scheme=scheme, year=year))
    lines += [Line(Section.PREMIUM, "其中：个人缴费收入（净额）", own, code="contribution_net"),
              Line(Section.PREMIUM, "其中：资助收入（净额）", subsidy, code="subsidy_net"),
              Line(Section.PREMIUM, "保费收入合计", own + subsidy, code="premium_total", total=True,
                   note="基金账务缴费收入与资助收入之和（已扣退费、冲正）")]
    return lines, own, subsidy


def booked_layers(scheme, year):
    """The fund's current computed result lines of the claims booked as 待遇支出."""
    return ClaimLayer.objects.filter(
        is_current=True, given=False, scheme_kind=scheme.kind, claim__region_id=scheme.region_id,
        claim__year=year, claim__status__in=BOOKED_STATUSES)


def _claim_lines(scheme, year, plan_year) -> tuple[list[Line], Decimal]:
    names = {}
    order = {}
    if plan_year is not None:
        for seq, (code, name) in enumerate(Responsibility.objects.filter(plan_year=plan_year)
                                           .order_by("seq", "id").values_list("code", "name")):
            names.setdefault(code, name)
            order.setdefault(code, seq)
    names.setdefault(FLOOR_CODE, FLOOR_LABEL)
    order.setdefault(FLOOR_CODE, len(order) + 1)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    claims: dict[str, set[int]] = defaultdict(set)
    total = ZERO
    for claim_id, paid, items in booked_layers(scheme, year).values_list("claim_id", "paid", "items"):
        total += paid
        split = ZERO
        for item in items or ():
            value = Decimal(str(item.get("paid") or "0"))
            if not value:
                continue
            code = item.get("code") or ""
            code = code if code in names else "__other__"
            amounts[code] += value
            claims[code].add(claim_id)
            split += value
        if paid - split:
            amounts["__unsplit__"] += paid - split
            claims["__unsplit__"].add(claim_id)
    lines = []
    for code in sorted((c for c in amounts if c in names), key=lambda c: order[c]):
        lines.append(Line(Section.CLAIMS, names[code], q2(amounts[code]), code=code[:20],
                          count=len(claims[code])))
    for code, label in (("__other__", OTHER_LABEL), ("__unsplit__", UNSPLIT_LABEL)):
        if amounts.get(code):
            lines.append(Line(Section.CLAIMS, label, q2(amounts[code]), code=code.strip("_")[:20],
                              count=len(claims[code])))
    claim_count = len({c for ids in claims.values() for c in ids})
    total = q2(total)
    lines.append(Line(Section.CLAIMS, "赔付支出合计", total, code="claims_total", count=claim_count,
                      total=True, note="已审核通过及已支付的理赔本险种计算赔付（权责发生制）"))
    return lines, total


def _check_lines(scheme, year, claims_paid) -> tuple[list[Line], Decimal]:
    booked = ledger.balance(account=Account.BENEFIT, scheme=scheme, year=year)
    payable = _neg(ledger.balance(account=Account.PAYABLE, scheme=scheme, year=year))
    difference = claims_paid - booked
    lines = [
        Line(Section.CHECK, "基金账务待遇支出", booked, code="ledger_benefit"),
        Line(Section.CHECK, "差额（赔付支出合计 − 基金账务待遇支出）", difference, code="difference",
             note="一致" if difference == 0 else "不一致：请运行基金账务核对，查明不符的理赔"),
        Line(Section.CHECK, "其中：已支付", booked - payable, code="paid"),
        Line(Section.CHECK, "其中：应付未付", payable, code="payable"),
    ]
    return lines, booked


def expense_amount(row: YearEndExpense, premium: Decimal) -> Decimal:
    """One 年度清算经营费用 row's amount: 保费收入 × ratio rounded to the fen, or its amount."""
    if row.method == YearEndExpense.Method.RATIO:
        return q2(premium * row.ratio / HUNDRED)
    return q2(row.amount)


def expenses_totals(premiums: dict[int, Decimal], stated: dict[int, Decimal | None]) -> dict[int, Decimal | None]:
    """经营费用合计 by plan-year pk, as the year-end statement counts it (``_expense_lines``):
    the plan year's 年度清算经营费用 rows on its ``premiums[pk]``, else its 参考指标
    申报经营费用 ``stated[pk]``, else ``None`` (未录入). One query for all the plan years: the
    dashboard's 健康管理基金 (reports) reads the same figure as the statement."""
    rows = defaultdict(list)
    for row in YearEndExpense.objects.filter(plan_year__in=list(premiums)):
        rows[row.plan_year_id].append(row)
    out = {}
    for pk, premium in premiums.items():
        if rows[pk]:
            out[pk] = sum((expense_amount(row, premium) for row in rows[pk]), ZERO)
        else:
            out[pk] = None if stated.get(pk) is None else q2(stated[pk])
    return out


def _expense_lines(plan_year, premium) -> tuple[list[Line], Decimal | None, list[str]]:
    rows = list(YearEndExpense.objects.filter(plan_year=plan_year)) if plan_year else []
    notes = []
    if rows:
        lines = []
        for row in rows:
            amount = expense_amount(row, premium)
            note = f"保费收入 × {row.ratio}%" if row.method == YearEndExpense.Method.RATIO else "固定金额"
            lines.append(Line(Section.EXPENSES, row.name, amount, code=f"expense_{row.pk}"[:20],
                              note=f"{note}{'；' + row.note if row.note else ''}"[:300]))
        total = sum((line.amount for line in lines), ZERO)
        notes.append("经营费用：政策文件未规定经营费用，本表经营费用为医保局按承保合同录入的"
                     "“年度清算经营费用”参数行。")
    else:
        stated = None
        if plan_year is not None:
            stated = PlanFigure.objects.filter(plan_year=plan_year,
                                               code=PlanFigure.Code.STATED_EXPENSES).first()
        if stated is None:
            notes.append("经营费用未录入：政策文件未规定经营费用，须由医保局按承保合同在“年度清算经营费用”"
                         "中录入；录入前不计算利润和健康管理基金转入，清算表不能签认。")
            return [Line(Section.EXPENSES, "经营费用合计", None, code="expenses_total", total=True,
                         note="未录入")], None, notes
        total = q2(stated.value)
        lines = [Line(Section.EXPENSES, "申报经营费用", total, code="stated_expenses",
                      note="年度方案参考指标“申报经营费用”")]
        notes.append("经营费用：政策文件未规定经营费用，本表取医保局在年度方案参考指标中录入的“申报经营费用”。")
    lines.append(Line(Section.EXPENSES, "经营费用合计", total, code="expenses_total", total=True))
    return lines, total, notes


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    return q2(part * HUNDRED / whole) if whole else None


def statement_figures(scheme: Scheme, year: int) -> Figures:
    """The year-end figures of a commercial ``scheme`` and ``year`` as the ledger, the
    claims and the rows say now (module docstring). Reads only."""
    plan_year = plan_year_of(scheme, year)
    premium_lines, own, subsidy = _premium_lines(scheme, year)
    premium = own + subsidy
    claim_lines, claims_paid = _claim_lines(scheme, year, plan_year)
    check_lines, booked = _check_lines(scheme, year, claims_paid)
    expense_lines, expenses, notes = _expense_lines(plan_year, premium)
    figures = {}
    if plan_year is not None:
        figures = dict(PlanFigure.objects.filter(
            plan_year=plan_year, code__in=(PlanFigure.Code.LOSS_RATIO_TARGET,
                                           PlanFigure.Code.PROFIT_TRANSFER_RATE))
            .values_list("code", "value"))
    else:
        notes.append(f"{year}年度没有该险种的年度方案：不读取参数行。")
    target = figures.get(PlanFigure.Code.LOSS_RATIO_TARGET)
    transfer_rate = figures.get(PlanFigure.Code.PROFIT_TRANSFER_RATE)
    profit = None if expenses is None else premium - claims_paid - expenses
    loss_ratio = _rate(claims_paid, premium)
    result = [Line(Section.RESULT, "利润（结余）", profit, code="profit",
                   note="保费收入 − 赔付支出 − 经营费用" if profit is not None else "经营费用未录入，不计算")]
    ratio_note = "保费收入为 0，无法计算" if loss_ratio is None else "赔付支出 ÷ 保费收入"
    if target is not None and loss_ratio is not None:
        ratio_note += f"；底线 {target}%，{'低于底线' if loss_ratio < target else '达到底线'}"
    elif target is None:
        ratio_note += "；年度方案未设置赔付率底线"
    result.append(Line(Section.RESULT, "赔付率（%）", loss_ratio, code="loss_ratio", note=ratio_note))
    threshold = transfer = retained = None
    if transfer_rate is None:
        notes.append("健康管理基金：该险种年度方案未设置“净利润转健康管理基金起点”（政策文件未约定），"
                     "不计算转入；如承保合同有约定，请由医保局在年度方案参考指标中录入。")
        result.append(Line(Section.RESULT, "转入健康管理基金", None, code="transfer",
                           note="年度方案未设置转入起点，不计算"))
    else:
        threshold = q2(premium * transfer_rate / HUNDRED)
        result.append(Line(Section.RESULT, f"转入起点金额（保费收入 × {transfer_rate}%）", threshold,
                           code="threshold"))
        if profit is not None:
            transfer = max(profit - threshold, ZERO)
            note = ("亏损，无转入" if profit < 0 else "净利润未超过起点，无转入" if transfer == 0
                    else "净利润超过起点的部分")
        else:
            note = "经营费用未录入，不计算"
        result.append(Line(Section.RESULT, "转入健康管理基金", transfer, code="transfer", note=note))
    if profit is not None:
        retained = profit - (transfer or ZERO)
        result.append(Line(Section.RESULT, "承保机构留存（负数为承担亏损）", retained, code="retained",
                           total=True, note="利润 − 转入健康管理基金；承保机构自负盈亏"))
    pending = (Claim.objects.filter(region_id=scheme.region_id, year=year, status=Claim.Status.SETTLED,
                                    layers__is_current=True, layers__given=False,
                                    layers__scheme_kind=scheme.kind, layers__paid__gt=0)
               .distinct().count())
    if pending:
        notes.append(f"另有 {pending} 件已结算待审核的理赔本险种有赔付，未计入赔付支出（审核通过后计入）。")
    return Figures(
        scheme=scheme, year=year, insurer=scheme.operator, premium_self=own,
        premium_subsidy=subsidy, premium_income=premium, claims_paid=claims_paid,
        ledger_benefit=booked, expenses=expenses, profit=profit, loss_ratio=loss_ratio,
        loss_ratio_target=target, transfer_rate=transfer_rate, transfer_threshold=threshold,
        health_fund_transfer=transfer, retained=retained,
        lines=(*premium_lines, *claim_lines, *check_lines, *expense_lines, *result),
        notes=tuple(notes))


def stored_lines(statement: YearEndStatement) -> tuple[Line, ...]:
    """The lines stored with ``statement``, as ``Line``s (compared with a fresh computation)."""
    return tuple(Line(section=r.section, label=r.label, amount=r.amount, code=r.code, count=r.count,
                      note=r.note, total=r.total) for r in statement.lines.order_by("seq"))


def differs_from_now(statement: YearEndStatement, figures: Figures) -> bool:
    """Do ``figures`` (computed now) differ from what ``statement`` stored?"""
    stored = {name: getattr(statement, name) for name in Figures.STORED}
    return (stored != {name: getattr(figures, name) for name in Figures.STORED}
            or [line.key() for line in stored_lines(statement)] != [line.key() for line in figures.lines])


def commercial_schemes(user=None):
    """The commercial funds (insurers' products), of ``user``'s regions when given."""
    qs = Scheme.objects.filter(kind__in=COMMERCIAL_KINDS).select_related("region").order_by("region__code")
    return qs if user is None else scope_queryset(qs, user, "region")


def latest_statement(scheme, year) -> YearEndStatement | None:
    """The newest version of the statement of ``scheme`` and ``year``."""
    return YearEndStatement.objects.filter(scheme=scheme, year=year).order_by("-version").first()


def statements(user=None):
    qs = YearEndStatement.objects.select_related("scheme__region", "prepared_by", "signed_by")
    return qs if user is None else scope_queryset(qs, user, "scheme__region")
