"""年度清算 with the insurers of the commercial products (issue 16 §7; docs/money.md
§年度清算): a statement per commercial fund (``policies.Scheme`` of kind
inclusive_commercial / employee_supplementary, its insurer = ``Scheme.operator``) and year —
premium income and claims paid from the ledger, claims by 保险责任, expenses, profit and
the 健康管理基金 transfer — prepared as a 草稿 and 已签认 by a second person, after which
its figures are frozen (a PostgreSQL trigger refuses any change; a re-opened year is a new
version).

``YearEndExpense`` is the parameter row of the expenses (经营费用): the policy documents
give no figure, so the bureau enters each item as an amount or as a ratio of the premium
income, per plan year, with history. The 健康管理基金 threshold and the loss-ratio floor
are the plan year's ``policies.PlanFigure`` rows (``profit_transfer_rate``,
``loss_ratio_target``), the same rows the dashboard reads.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from policies import codes
from policies.constraints import ChecksInOneQuery
from policies.models import MONEY, PlanRow, money_field, non_negative_check, ratio_check, ratio_field

COMMERCIAL_KINDS = (codes.SchemeKind.INCLUSIVE_COMMERCIAL, codes.SchemeKind.EMPLOYEE_SUPPLEMENTARY)
"""The scheme kinds run by insurers (spec README §2): the funds a year-end statement is
made for. Vocabulary of the spec, not a policy number."""


class YearEndExpense(PlanRow):
    """经营费用 of a commercial product's plan year (年度清算): one item, a fixed amount or a
    ratio of the year's premium income. Entered by the bureau from the insurance contract
    (the policy documents state no figure)."""

    class Method(models.TextChoices):
        AMOUNT = "amount", "固定金额"
        RATIO = "ratio", "按保费收入比例"

    seq = models.PositiveSmallIntegerField("顺序", default=0)
    name = models.CharField("费用项目", max_length=60, help_text="如 运营服务费、宣传推广费、系统建设费")
    method = models.CharField("计算方式", max_length=10, choices=Method.choices, default=Method.AMOUNT)
    amount = money_field("金额（元）", null=True, blank=True, help_text="计算方式为固定金额时填写")
    ratio = ratio_field("比例（%）", null=True, blank=True,
                        help_text="计算方式为按保费收入比例时填写：保费收入 × 比例，四舍五入到分")

    class Meta:
        verbose_name = verbose_name_plural = "年度清算经营费用"
        ordering = ["plan_year", "seq", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "name"], name="yearendexpense_unique",
                                    violation_error_message="该年度方案已有同名费用项目"),
            models.CheckConstraint(
                condition=(Q(method="amount", amount__isnull=False, ratio__isnull=True)
                           | Q(method="ratio", ratio__isnull=False, amount__isnull=True)),
                name="yearendexpense_one_basis",
                violation_error_message="固定金额须填写金额、不填比例；按比例须填写比例、不填金额"),
            non_negative_check("amount"),
            ratio_check("ratio"),
        ]

    def __str__(self):
        if self.method == self.Method.RATIO:
            return f"{self.name}：保费收入 × {self.ratio}%"
        return f"{self.name}：{self.amount} 元"

    def clean(self):
        errors = {}
        if self.plan_year_id and self.plan_year.scheme.kind not in COMMERCIAL_KINDS:
            errors["plan_year"] = "年度清算经营费用只能录入商业保险（普惠型商业保险、职工补充医疗保险）的年度方案"
        if self.method == self.Method.AMOUNT:
            if self.amount is None:
                errors["amount"] = "计算方式为固定金额，请填写金额"
            if self.ratio is not None:
                errors["ratio"] = "计算方式为固定金额，不填比例"
        elif self.method == self.Method.RATIO:
            if self.ratio is None:
                errors["ratio"] = "计算方式为按保费收入比例，请填写比例"
            if self.amount is not None:
                errors["amount"] = "计算方式为按保费收入比例，不填金额"
        if errors:
            raise ValidationError(errors)


def _money(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, **MONEY, **kwargs)


class YearEndStatement(ChecksInOneQuery, models.Model):
    """年度清算表: one version of the year-end statement of one commercial fund and year.
    A 草稿 is recomputed by each 编制; 签认 (by someone other than who prepared it) freezes
    it; a re-opened year gets the next version, the signed one stays as it was."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SIGNED = "signed", "已签认"

    scheme = models.ForeignKey("policies.Scheme", verbose_name="险种（基金）", on_delete=models.PROTECT,
                               related_name="+")
    year = models.PositiveSmallIntegerField("清算年度")
    version = models.PositiveSmallIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    insurer = models.CharField("承保机构", max_length=200, blank=True)
    premium_self = _money("个人缴费收入（元）", default=0)
    premium_subsidy = _money("资助收入（元）", default=0)
    premium_income = _money("保费收入（元）", default=0)
    claims_paid = _money("赔付支出（元）", default=0)
    ledger_benefit = _money("基金账务待遇支出（元）", default=0)
    expenses = _money("经营费用（元）", null=True, blank=True)
    profit = _money("利润（结余）（元）", null=True, blank=True)
    loss_ratio = models.DecimalField("赔付率（%）", max_digits=14, decimal_places=2, null=True, blank=True)
    loss_ratio_target = models.DecimalField("赔付率底线（%）", max_digits=14, decimal_places=2,
                                            null=True, blank=True)
    transfer_rate = models.DecimalField("转入健康管理基金起点（%）", max_digits=14, decimal_places=2,
                                        null=True, blank=True)
    transfer_threshold = _money("起点金额（元）", null=True, blank=True)
    health_fund_transfer = _money("转入健康管理基金（元）", null=True, blank=True)
    retained = _money("承保机构留存（元）", null=True, blank=True,
                      help_text="利润减转入健康管理基金；负数为承保机构承担的亏损")
    notes = models.TextField("说明", blank=True)
    previous = models.OneToOneField("self", verbose_name="上一版本", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="next_version")
    reopen_reason = models.CharField("重新清算原因", max_length=200, blank=True)
    prepared_at = models.DateTimeField("编制时间")
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="编制人",
                                    on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField("签认时间", null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签认人", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "年度清算表"
        ordering = ["-year", "scheme", "-version"]
        permissions = [("prepare_yearendstatement", "可以编制年度清算表"),
                       ("sign_yearendstatement", "可以签认年度清算表")]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "year", "version"], name="yearend_version_once",
                                    violation_error_message="该险种该年度已有此版本的清算表"),
            models.UniqueConstraint(fields=["scheme", "year"], condition=Q(status="draft"),
                                    name="yearend_one_draft",
                                    violation_error_message="该险种该年度已有一份草稿清算表"),
            models.CheckConstraint(condition=Q(version__gte=1), name="yearend_version_1",
                                   violation_error_message="版本从 1 开始"),
            models.CheckConstraint(
                condition=(Q(status="draft", signed_by__isnull=True, signed_at__isnull=True)
                           | Q(status="signed", signed_by__isnull=False, signed_at__isnull=False,
                               expenses__isnull=False)),
                name="yearend_signed_fields",
                violation_error_message="已签认的清算表须有签认人、签认时间和经营费用；草稿不能有签认人"),
            models.CheckConstraint(condition=Q(signed_by__isnull=True) | ~Q(signed_by=F("prepared_by")),
                                   name="yearend_signer_not_preparer",
                                   violation_error_message="清算表的签认人不能是编制人"),
        ]
        indexes = [models.Index(fields=["scheme", "year"], name="yearend_fund_year")]

    def __str__(self):
        return f"{self.scheme} {self.year}年度清算表（第{self.version}版）"

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def check_agrees(self) -> bool:
        return self.claims_paid == self.ledger_benefit


class YearEndLine(models.Model):
    """One line of a year-end statement (保费收入 by kind of movement, 赔付支出 by 保险责任,
    经营费用 by item, the check line, the result), stored with the statement."""

    class Section(models.TextChoices):
        PREMIUM = "premium", "保费收入"
        CLAIMS = "claims", "赔付支出"
        CHECK = "check", "核对"
        EXPENSES = "expenses", "经营费用"
        RESULT = "result", "利润与健康管理基金"

    statement = models.ForeignKey(YearEndStatement, verbose_name="清算表", on_delete=models.CASCADE,
                                  related_name="lines")
    section = models.CharField("部分", max_length=10, choices=Section.choices)
    seq = models.PositiveSmallIntegerField("顺序")
    code = models.CharField("代码", max_length=20, blank=True)
    label = models.CharField("项目", max_length=200)
    amount = _money("金额（元）", null=True, blank=True)
    count = models.PositiveIntegerField("件数", null=True, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    total = models.BooleanField("合计行", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "年度清算表明细"
        ordering = ["statement", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "seq"], name="yearendline_seq_once",
                                    violation_error_message="清算表明细顺序重复"),
        ]

    def __str__(self):
        return self.label
