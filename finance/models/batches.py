"""支付批次 and their lines (issue 16 §4; docs/money.md §支付批次与银行回盘).

A ``PaymentBatch`` is what one fund (a ``policies.Scheme``: a region's 统筹基金, 大病保险,
…) sends one bank (代发银行) to pay: its ``PaymentLine`` rows are the payees — 户名, 账号,
开户行 copied from the person when the batch was made (the file says what was sent,
whatever the person's record says later), 金额, 用途 — each for one source document
(``source_kind``/``source_id`` as in ``ledger.SourceKind``: a claim's outstanding 应付待遇
of this fund today, a refund later). The bank's returned file (回盘) answers each line
成功 (with the bank's 流水号) or 失败 (with the reason); only a success line pays the
source document (``finance.services.batches``).

A source document is in at most one open (待回盘) line per fund: the database refuses a
second (``payment_line_one_open``), whatever two users do at once.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ledger.models import SourceKind
from policies.constraints import ChecksInOneQuery
from policies.history import AuditHistory
from policies.models import MONEY


class PaymentBatch(models.Model):
    """支付批次: one fund's payments sent to one bank in one file."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"  # made, the file not yet downloaded
        EXPORTED = "exported", "已导出"  # the bank file downloaded: the bank may be paying
        RETURNED = "returned", "已回盘"  # every line answered, all succeeded
        PARTLY_FAILED = "partly_failed", "部分失败"  # every line answered, some failed
        FAILED = "failed", "全部失败"  # every line answered, none succeeded
        CANCELLED = "cancelled", "已作废"  # a draft withdrawn before export: its lines freed

    OPEN = (Status.DRAFT, Status.EXPORTED)
    """Statuses in which lines may still be 待回盘."""

    number = models.CharField("批次号", max_length=40, unique=True)
    scheme = models.ForeignKey("policies.Scheme", verbose_name="基金（险种）", on_delete=models.PROTECT,
                               related_name="+")
    region = models.ForeignKey("policies.Region", verbose_name="统筹区", on_delete=models.PROTECT,
                               related_name="+", editable=False)
    bank = models.CharField("代发银行", max_length=60)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="生成人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    exported_at = models.DateTimeField("首次导出时间", null=True, blank=True)
    exported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="首次导出人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField("回盘导入时间", null=True, blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="回盘导入人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    return_file = models.CharField("回盘文件", max_length=200, blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "支付批次"
        ordering = ["-id"]
        permissions = [("export_paymentbatch", "可导出银行文件"),
                       ("import_bank_return", "可导入银行回盘")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["exported", "returned", "partly_failed", "failed"])
                | Q(exported_at__isnull=False),
                name="payment_batch_exported_when", violation_error_message="已导出的批次须有导出时间"),
        ]

    def __str__(self):
        return self.number or "新支付批次"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class PaymentLine(ChecksInOneQuery, models.Model):
    """One payee of a batch: what the bank file says and what the bank answered."""

    class Status(models.TextChoices):
        PENDING = "pending", "待回盘"
        SUCCESS = "success", "成功"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已作废"

    batch = models.ForeignKey(PaymentBatch, verbose_name="支付批次", on_delete=models.PROTECT,
                              related_name="lines")
    seq = models.PositiveIntegerField("序号")
    scheme = models.ForeignKey("policies.Scheme", verbose_name="基金（险种）", on_delete=models.PROTECT,
                               related_name="+", editable=False, help_text="与批次相同")
    source_kind = models.CharField("业务单据", max_length=20, choices=SourceKind.choices)
    source_id = models.BigIntegerField("单据编号")
    source_label = models.CharField("单据", max_length=80, help_text="结算单号、退费单号等")
    person = models.ForeignKey("enrollment.Person", verbose_name="参保人", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    payee_name = models.CharField("户名", max_length=50)
    account_number = models.CharField("账号", max_length=40)
    bank_name = models.CharField("开户行", max_length=60)
    amount = models.DecimalField("金额", **MONEY)
    purpose = models.CharField("用途", max_length=60)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    bank_reference = models.CharField("银行流水号", max_length=60, blank=True)
    answered_at = models.DateTimeField("回盘时间", null=True, blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "支付明细"
        ordering = ["batch", "seq"]
        indexes = [models.Index(fields=["source_kind", "source_id"], name="payment_line_source")]
        constraints = [
            models.UniqueConstraint(fields=["batch", "seq"], name="payment_line_seq_unique",
                                    violation_error_message="同一批次的序号不能重复"),
            models.UniqueConstraint(fields=["source_kind", "source_id", "scheme"],
                                    condition=Q(status="pending"), name="payment_line_one_open",
                                    violation_error_message="该单据已在另一个待回盘的支付批次中"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_line_amount_positive",
                                   violation_error_message="支付金额必须大于零"),
            models.CheckConstraint(condition=(Q(status="failed") & ~Q(failure_reason=""))
                                   | (~Q(status="failed") & Q(failure_reason="")),
                                   name="payment_line_failure_reason",
                                   violation_error_message="失败的明细须有失败原因，其他明细不能有"),
            models.CheckConstraint(condition=Q(status__in=["pending", "cancelled"], answered_at__isnull=True)
                                   | Q(status__in=["success", "failed"], answered_at__isnull=False),
                                   name="payment_line_answered_when",
                                   violation_error_message="已回盘的明细须有回盘时间"),
            models.CheckConstraint(condition=~Q(payee_name="") & ~Q(account_number="") & ~Q(bank_name=""),
                                   name="payment_line_payee_complete",
                                   violation_error_message="户名、账号、开户行不能为空"),
        ]

    def __str__(self):
        return f"{self.batch}第{self.seq}笔"
