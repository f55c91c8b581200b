"""退费 (refunds of contributions; issue 16 §2, docs/money.md §退费).

A refund gives back part of one payment's self-paid amount (个人缴费; a subsidy is never
refunded) for a reason, to a payee's bank account. A clerk records it (待复核); a second
person approves it (待支付: the ledger books 退费核定) or rejects it (已驳回); the bank's
returned file (or a clerk) marks it paid (已支付: 退费支付) or records why the payment
failed (it stays 待支付). A correction of a wrongly entered payment is a refund of the
excess with reason 多缴 or 其他. Rows are written only by ``enrollment.services.refunds``.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

from policies.constraints import ChecksInOneQuery
from policies.history import AuditHistory
from policies.models import MONEY

from .enrollment import Payment


class Refund(ChecksInOneQuery, models.Model):
    """One refund of (part of) a payment's self-paid amount."""

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate", "重复缴费"
        OVERPAID = "overpaid", "多缴"
        DEATH = "death", "死亡"
        TRANSFER = "transfer", "转出"
        MILITARY = "military", "参军"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        PENDING = "pending", "待复核"
        PAYABLE = "payable", "待支付"
        PAID = "paid", "已支付"
        REJECTED = "rejected", "已驳回"

    ENDING_REASONS = (Reason.DEATH, Reason.TRANSFER, Reason.MILITARY)
    """Reasons that end the enrollment's coverage on ``terminate_on`` when approved."""
    BOOKED = (Status.PAYABLE, Status.PAID)
    """Statuses whose 退费核定 is in the ledger."""
    COUNTED = (Status.PENDING, Status.PAYABLE, Status.PAID)
    """Statuses that use up the payment's refundable amount (all but 已驳回)."""

    payment = models.ForeignKey(Payment, verbose_name="缴费记录", on_delete=models.PROTECT,
                                related_name="refunds")
    amount = models.DecimalField("退费金额（元）", **MONEY,
                                 help_text="只退个人缴费部分，资助金额不退")
    reason = models.CharField("退费原因", max_length=20, choices=Reason.choices)
    reason_note = models.CharField("原因说明", max_length=200, blank=True,
                                   help_text="原因为“其他”时必填")
    terminate_on = models.DateField(
        "终止参保日期", null=True, blank=True,
        help_text="原因为死亡、转出、参军时必填：复核通过后参保登记自该日起终止（待遇享受期截至前一日）")
    payee_name = models.CharField("收款户名", max_length=50)
    payee_account = models.CharField("收款银行账号", max_length=40)
    payee_bank = models.CharField("开户银行", max_length=60)
    status = models.CharField("退费状态", max_length=12, choices=Status.choices,
                              default=Status.PENDING)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="复核人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField("复核通过时间", null=True, blank=True)
    ends_coverage = models.BooleanField("复核时终止参保", default=False,
                                        help_text="复核通过时该参保登记的待遇享受期随之终止")
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="驳回人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    rejected_at = models.DateTimeField("驳回时间", null=True, blank=True)
    reject_reason = models.CharField("驳回原因", max_length=200, blank=True)
    paid_reference = models.CharField("支付流水号", max_length=80, blank=True)
    paid_on = models.DateField("支付日期", null=True, blank=True)
    failure_reason = models.CharField("支付失败原因", max_length=200, blank=True,
                                      help_text="银行回盘失败时填写，退费仍为待支付")
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "退费"
        ordering = ["-recorded_at", "-id"]
        permissions = [("approve_refund", "可复核（通过或驳回）退费"), ("import_refund", "可导入退费表格")]
        indexes = [models.Index(fields=["status", "payment"], name="refund_status_payment")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive",
                                   violation_error_message="退费金额必须大于零"),
            models.CheckConstraint(condition=~Q(reason="other") | ~Q(reason_note=""),
                                   name="refund_other_explained",
                                   violation_error_message="退费原因为“其他”时请填写原因说明"),
            models.CheckConstraint(
                condition=~Q(reason__in=["death", "transfer", "military"]) | Q(terminate_on__isnull=False),
                name="refund_ending_dated",
                violation_error_message="退费原因为死亡、转出或参军时请填写终止参保日期"),
            models.CheckConstraint(condition=~Q(payee_name="") & ~Q(payee_account="") & ~Q(payee_bank=""),
                                   name="refund_payee_set",
                                   violation_error_message="请填写收款户名、银行账号和开户银行"),
            models.CheckConstraint(
                condition=~Q(status__in=["payable", "paid"]) | Q(approved_at__isnull=False),
                name="refund_booked_approved",
                violation_error_message="待支付或已支付的退费必须已复核通过"),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_on__isnull=False) & ~Q(paid_reference="")),
                name="refund_paid_dated",
                violation_error_message="已支付的退费必须有支付日期和支付流水号"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | (Q(rejected_at__isnull=False) & ~Q(reject_reason="")),
                name="refund_rejected_explained",
                violation_error_message="已驳回的退费必须有驳回原因"),
        ]

    def __str__(self):
        return f"退字第{self.pk}号" if self.pk else "新退费"
