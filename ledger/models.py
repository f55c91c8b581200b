"""The fund ledger (基金账务, docs/money.md): every money movement is a ``Journal``
(记账凭证) of one fund — a ``policies.Scheme``: a region's 统筹基金, 大病保险, 医疗救助 or a
commercial product — whose ``Entry`` lines (分录) balance: debits positive, credits
negative, summing to zero. Journals and entries are never changed or deleted (on
PostgreSQL a trigger refuses it); a mistake is undone by a 冲正 journal that mirrors the
one it reverses. Every balance and money report is a sum of entries.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from policies.display import money_text
from policies.models import MONEY


class Account(models.TextChoices):
    """会计科目 of each fund (the same chart for every fund)."""

    BANK = "bank", "基金存款"
    CONTRIBUTION = "contribution", "缴费收入"
    SUBSIDY = "subsidy", "资助收入"
    BENEFIT = "benefit", "待遇支出"
    PAYABLE = "payable", "应付待遇"
    REFUND_PAYABLE = "refund_payable", "应退缴费"


class SourceKind(models.TextChoices):
    """The business document a journal belongs to."""

    PAYMENT = "payment", "缴费记录"
    CLAIM = "claim", "理赔结算"
    REFUND = "refund", "退费"


class Journal(models.Model):
    """记账凭证: one balanced movement of one fund, for one source document."""

    class Kind(models.TextChoices):
        CONTRIBUTION = "contribution", "缴费到账"
        CLAIM_PAYABLE = "claim_payable", "待遇核定"
        CLAIM_PAID = "claim_paid", "待遇支付"
        PAYMENT_RETURNED = "payment_returned", "支付退回"
        CLAIM_RECOVERED = "claim_recovered", "待遇追回"
        REFUND = "refund", "退费核定"
        REFUND_PAID = "refund_paid", "退费支付"
        REVERSAL = "reversal", "冲正"

    kind = models.CharField("凭证类型", max_length=20, choices=Kind.choices)
    # scheme, region and person: indexed by the composite indexes they lead (Meta.indexes),
    # not each by an index of its own as well (one index less to write per journal)
    scheme = models.ForeignKey("policies.Scheme", verbose_name="基金（险种）",
                               on_delete=models.PROTECT, related_name="+", db_index=False)
    region = models.ForeignKey("policies.Region", verbose_name="统筹区", on_delete=models.PROTECT,
                               related_name="+", editable=False, db_index=False)
    year = models.PositiveSmallIntegerField("基金年度")
    person = models.ForeignKey("enrollment.Person", verbose_name="参保人", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", db_index=False)
    source_kind = models.CharField("业务单据", max_length=20, choices=SourceKind.choices)
    source_id = models.BigIntegerField("单据编号")
    reverses = models.OneToOneField("self", verbose_name="冲正的凭证", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="reversed_by")
    booked_on = models.DateField("记账日期")
    memo = models.CharField("摘要", max_length=200, blank=True)
    reference = models.CharField("外部单号", max_length=80, blank=True,
                                 help_text="支付批次号、银行回盘流水号等")
    created_at = models.DateTimeField("记账时间", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="记账人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "记账凭证"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["source_kind", "source_id"], name="journal_source"),
            models.Index(fields=["scheme", "year", "kind"], name="journal_fund_year"),
            models.Index(fields=["person", "year"], name="journal_person_year"),
            # the 记账凭证 list of a one-region user, in its ordering (-id)
            models.Index(fields=["region", "-id"], name="journal_region_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="reversal", reverses__isnull=False)
                           | (~Q(kind="reversal") & Q(reverses__isnull=True))),
                name="journal_reversal_points_back",
                violation_error_message="冲正凭证必须指明被冲正的凭证，其他凭证不能指明"),
        ]

    def __str__(self):
        return f"记字第{self.pk}号" if self.pk else "新凭证"


class Entry(models.Model):
    """分录: one account's amount in a journal (debit positive, credit negative)."""

    journal = models.ForeignKey(Journal, verbose_name="记账凭证", on_delete=models.PROTECT,
                                related_name="entries")
    account = models.CharField("会计科目", max_length=20, choices=Account.choices)
    amount = models.DecimalField("金额（借正贷负）", **MONEY)

    class Meta:
        verbose_name = verbose_name_plural = "分录"
        ordering = ["journal", "id"]
        indexes = [models.Index(fields=["account", "journal"], name="entry_account")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_nonzero",
                                   violation_error_message="分录金额不能为零"),
        ]

    def __str__(self):
        """``基金存款 贷方 5,740.35``: the caption of the line on the journal's page."""
        side = "借方" if self.amount > 0 else "贷方"
        return f"{self.get_account_display()} {side} {money_text(abs(self.amount))}"


class FundBalance(models.Model):
    """基金余额表's summary (docs/money.md §基金余额表): the sum of the entries of one fund,
    region, year and account whose id is at most ``BalanceWatermark.entry_id``. Written only
    by ``services.fund_balances_advance`` / ``fund_balances_rebuild``; the page adds the
    entries after the watermark live (``selectors.fund_balances``), so it is exact."""

    scheme = models.ForeignKey("policies.Scheme", verbose_name="基金（险种）",
                               on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("policies.Region", verbose_name="统筹区", on_delete=models.PROTECT,
                               related_name="+")
    year = models.PositiveSmallIntegerField("基金年度")
    account = models.CharField("会计科目", max_length=20, choices=Account.choices)
    amount = models.DecimalField("余额（借正贷负）", max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "基金余额汇总"
        constraints = [
            models.UniqueConstraint(fields=["scheme", "region", "year", "account"],
                                    name="fund_balance_key"),
        ]

    def __str__(self):
        return f"{self.year} {self.get_account_display()} {self.amount}"


class BalanceWatermark(models.Model):
    """The one row saying up to which entry id ``FundBalance`` holds the sums: every entry
    with an id at most ``entry_id`` had committed when it was taken (docs/money.md)."""

    entry_id = models.BigIntegerField("已汇总至分录编号", default=0)
    advanced_at = models.DateTimeField("汇总时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "基金余额汇总进度"

    def __str__(self):
        return f"分录 {self.entry_id}"
