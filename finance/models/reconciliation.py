"""对账 (reconciliation, docs/money.md §对账): the tax bureau's collection detail
(税务征收明细) against the recorded payments, and a hospital's settlement list
(医院结算清单) against its claims.

A file is imported through the ``sheets`` registry (``finance.sheet_kinds``) into one
``ReconciliationRun`` per fund and month — tax: (险种, 缴费月份); hospital: (医疗机构,
结算月份) — with one ``ReconciliationLine`` per row of the file and one per recorded
payment / claim of the month that the file lacks. A line that is not 已匹配 is a
difference (差异) with a state: 待处理 → 已认可 (accepted with a note) or 已更正
(re-checked after a correction through the normal services, and now matching). Every
act on a difference is a ``DifferenceNote``. Reconciliation moves no money: it reads
payments and claims and never writes the ledger.

Importing the same fund and month again replaces the current run (the earlier one stays,
``is_current = False``); the monthly status (未对账 / 有差异 / 已平) is derived from the
current runs (``finance.selectors.reconciliation.monthly_status``).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from policies.constraints import ChecksInOneQuery
from policies.models import MONEY


class ReconciliationRun(models.Model):
    """一次对账: one imported file's rows of one fund (tax) or hospital for one month."""

    class Source(models.TextChoices):
        TAX = "tax", "税务征收明细"
        HOSPITAL = "hospital", "医院结算清单"

    source = models.CharField("对账来源", max_length=10, choices=Source.choices)
    region = models.ForeignKey("policies.Region", verbose_name="统筹区", on_delete=models.PROTECT,
                               related_name="+")
    scheme = models.ForeignKey("policies.Scheme", verbose_name="基金（险种）", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text="税务对账：所对的险种；医院对账为空（基金支付合计）")
    hospital = models.ForeignKey("claims.Hospital", verbose_name="医疗机构", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    month = models.DateField("对账月份", help_text="该月的第一天")
    file_name = models.CharField("导入文件", max_length=255, blank=True)
    is_current = models.BooleanField("当前有效", default=True,
                                     help_text="同一基金（医疗机构）同一月份重新导入后，旧的对账不再有效")
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "对账记录"
        ordering = ["-month", "-imported_at", "-id"]
        permissions = [("import_reconciliation", "可导入对账文件（税务征收明细、医院结算清单）"),
                       ("resolve_reconciliation", "可处理对账差异（认可、复核、备注）")]
        indexes = [models.Index(fields=["source", "region", "month"], name="recon_run_region_month")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(source="tax", scheme__isnull=False, hospital__isnull=True)
                           | Q(source="hospital", hospital__isnull=False, scheme__isnull=True)),
                name="recon_run_fund_or_hospital",
                violation_error_message="税务对账须有险种，医院对账须有医疗机构"),
            models.UniqueConstraint(fields=["scheme", "month"], condition=Q(source="tax", is_current=True),
                                    name="recon_run_tax_current_unique",
                                    violation_error_message="该险种该月已有有效的税务对账"),
            models.UniqueConstraint(fields=["hospital", "month"],
                                    condition=Q(source="hospital", is_current=True),
                                    name="recon_run_hospital_current_unique",
                                    violation_error_message="该医疗机构该月已有有效的医院对账"),
        ]

    def __str__(self):
        what = self.scheme.name if self.scheme_id else (self.hospital.name if self.hospital_id else "")
        return f"{self.month.year}年{self.month.month}月 {what} {self.get_source_display()}对账"

    @property
    def fund_name(self) -> str:
        if self.scheme_id:
            return self.scheme.name
        return f"{self.hospital.name}（基金支付合计）" if self.hospital_id else ""


class ReconciliationLine(ChecksInOneQuery, models.Model):
    """One row of the file (``row`` set) or one recorded payment/claim the file lacks
    (本系统有、对方缺失: ``row`` empty), with the result of the match."""

    class Category(models.TextChoices):
        MATCHED = "matched", "已匹配"
        MISSING_HERE = "missing_here", "本系统缺失"
        MISSING_THERE = "missing_there", "对方缺失"  # shown as 税务缺失 / 医院缺失
        AMOUNT = "amount", "金额不符"
        INFO = "info", "信息不符"

    class State(models.TextChoices):
        NONE = "none", "无差异"
        OPEN = "open", "待处理"
        ACCEPTED = "accepted", "已认可"
        CORRECTED = "corrected", "已更正"

    CLOSED = (State.ACCEPTED, State.CORRECTED)

    run = models.ForeignKey(ReconciliationRun, verbose_name="对账记录", on_delete=models.CASCADE,
                            related_name="lines")
    row = models.PositiveIntegerField("文件行号", null=True, blank=True,
                                      help_text="空 = 本系统有记录而对方文件中没有")
    category = models.CharField("对账结果", max_length=20, choices=Category.choices)
    state = models.CharField("处理状态", max_length=10, choices=State.choices, default=State.NONE)
    reference = models.CharField("票据号/结算单号", max_length=60)
    document_number = models.CharField("证件号码", max_length=40, blank=True)
    name = models.CharField("姓名", max_length=50, blank=True)
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    occurred_on = models.DateField("缴费/结算日期", null=True, blank=True)
    amount = models.DecimalField("对方金额", **MONEY, null=True, blank=True,
                                 help_text="税务：征收金额；医院：基金支付金额")
    our_amount = models.DecimalField("本系统金额", **MONEY, null=True, blank=True,
                                     help_text="税务：个人缴费；医院：理赔的基金支付合计")
    payment = models.ForeignKey("enrollment.Payment", verbose_name="缴费记录", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    claim = models.ForeignKey("claims.Claim", verbose_name="理赔结算", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    detail = models.CharField("差异说明", max_length=300, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolution_note = models.TextField("处理说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "对账明细"
        ordering = ["run", "row", "id"]
        indexes = [models.Index(fields=["run", "category"], name="recon_line_run_category"),
                   models.Index(fields=["state"], name="recon_line_state")]
        constraints = [
            models.CheckConstraint(condition=Q(category="matched", state="none")
                                   | (~Q(category="matched") & ~Q(state="none")),
                                   name="recon_line_state_fits_category",
                                   violation_error_message="已匹配的明细无需处理；差异须有处理状态"),
            models.CheckConstraint(condition=~Q(state="accepted") | ~Q(resolution_note=""),
                                   name="recon_line_accept_has_note",
                                   violation_error_message="认可差异须填写说明"),
        ]

    def __str__(self):
        return f"{self.reference}（{self.get_category_display()}）"

    @property
    def is_difference(self) -> bool:
        return self.category != self.Category.MATCHED


class DifferenceNote(models.Model):
    """差异处理记录: every act on a difference (认可, 复核, 备注), never edited."""

    class Action(models.TextChoices):
        ACCEPT = "accept", "认可"
        RECHECK = "recheck", "复核"
        NOTE = "note", "备注"

    line = models.ForeignKey(ReconciliationLine, verbose_name="对账明细", on_delete=models.CASCADE,
                             related_name="notes")
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    text = models.TextField("内容")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "差异处理记录"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_action_display()}：{self.text[:30]}"


class TaxReconciliation(ReconciliationRun):
    """税务对账 (the admin list of the tax runs and their import)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "税务对账"


class HospitalReconciliation(ReconciliationRun):
    """医院对账 (the admin list of the hospital runs and their import)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "医院对账"


class ReconciliationStatus(ReconciliationRun):
    """月度对账状态 (the admin page of the status per region, fund and month)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "月度对账状态"


class ReconciliationDifference(ReconciliationLine):
    """对账差异 (the admin list of the differences and their resolution)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "对账差异"
