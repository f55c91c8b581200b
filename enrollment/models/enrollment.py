"""Enrollments (参保登记), suspensions, pre-existing declarations and payments (缴费)
(spec README §2 参保登记 and 缴费; dianjiang.md, leshan.md, sanming.md, liaocheng.md).

The enrollment stores the computed coverage (待遇享受期) once the amount due is fully
paid (完清); every payment records due, subsidy (by whom, for which identity), self-paid
amount, date, channel, payer and the receipt number, unique per scheme so that
re-importing a payment list never double counts.
"""
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from policies import codes
from policies.constraints import ChecksInOneQuery
from policies.history import AuditHistory
from policies.masking import shown_name
from policies.models import MONEY, TIER_CHOICES

from .person import Person
from .visibility import LoadedRegionsMixin


class Enrollment(ChecksInOneQuery, LoadedRegionsMixin, models.Model):
    """A person's enrollment in one plan year of one scheme."""

    loaded_region_fields = ("person_id", "plan_year_id")  # enrollment.signals: the visibility rows

    class Status(models.TextChoices):
        ACTIVE = "active", "正常参保"
        SUSPENDED = "suspended", "暂停"
        TERMINATED = "terminated", "终止"

    class Origin(models.TextChoices):
        MANUAL = "manual", "经办登记"
        NEWBORN_AUTO = "newborn_auto", "新生儿自动参保"
        ROLLOVER = "rollover", "自动续保"

    person = models.ForeignKey(Person, verbose_name="参保人", on_delete=models.PROTECT,
                               related_name="enrollments")
    plan_year = models.ForeignKey("policies.PlanYear", verbose_name="年度方案",
                                  on_delete=models.PROTECT, related_name="enrollments")
    # the person's category, kept equal to ``person.category`` (not a snapshot at
    # enrollment): docs/enrollment.md §人员类别. Written with the enrollment (the services,
    # the payments import, the demo loaders; ``enrollment.signals`` fills a row saved
    # without it) and when the person's category changes (``signals``, the persons import:
    # ``services.enrollment_categories_sync``), so the 参保登记 list filters on its own column
    category = models.CharField("人员类别", max_length=20, choices=codes.PersonCategory.choices,
                                editable=False)
    tier = models.PositiveSmallIntegerField("档次", choices=TIER_CHOICES, default=0)
    status = models.CharField("参保状态", max_length=12, choices=Status.choices,
                              default=Status.ACTIVE)
    coverage_start = models.DateField("待遇起始日", null=True, blank=True,
                                      help_text="缴清（完清）后按缴费期规则计算并保存")
    coverage_end = models.DateField("待遇终止日", null=True, blank=True)
    paid_off_date = models.DateField("缴清日期", null=True, blank=True,
                                     help_text="应缴金额由个人缴费与资助全部缴清的日期")
    window_code = models.CharField("适用缴费期", max_length=30, blank=True)
    continuous_years = models.PositiveSmallIntegerField("连续参保年数（含本年）", default=1)
    auto_renew = models.BooleanField("同意自动续保", default=False)
    auto_deduct = models.BooleanField("个人账户自动代扣", default=False,
                                      help_text="乐山：上年个人账户代扣者本年继续代扣")
    basic_confirmed = models.BooleanField(
        "已核实参加本统筹区基本医保", default=False,
        help_text="基本医保不在本系统登记时（如由核心系统管理），经办人员核实后勾选；"
                  "未勾选时按本系统的基本医保参保登记判断")
    origin = models.CharField("登记来源", max_length=20, choices=Origin.choices,
                              default=Origin.MANUAL)
    terminated_on = models.DateField("终止日期", null=True, blank=True)
    note = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "参保登记"
        ordering = ["-plan_year__year", "person"]
        constraints = [
            models.UniqueConstraint(fields=["person", "plan_year"], name="enrollment_unique",
                                    violation_error_message="该参保人已登记该年度方案"),
            models.CheckConstraint(
                condition=Q(coverage_start__isnull=True) | Q(coverage_end__isnull=True)
                | Q(coverage_start__lte=F("coverage_end")),
                name="enrollment_coverage_ordered",
                violation_error_message="待遇起始日不能晚于待遇终止日"),
            models.CheckConstraint(condition=Q(tier__lte=2), name="enrollment_tier_0_2",
                                   violation_error_message="档次只能是不分档、一档或二档"),
        ]
        indexes = [
            # the admin list: newest plan year first, then newest registration. Led by the
            # plan year, so that a clerk's page (plan_year_id IN the region's plan years) and
            # a plan-year filter are read from the index in order, no sort, a deep page
            # from the index alone (PostgreSQL returns an IN list on the leading column in
            # index order)
            models.Index(fields=["-plan_year", "-id"], name="enrollment_recent"),
            # the 人员类别 and 同意自动续保 filters: the filtered column between the plan year
            # and the id, so that ``plan_year_id IN (…) AND category = X`` is read in the
            # list's order (the equal column drops out of it) and a value without rows is
            # an empty range per plan year, not a walk of every enrollment
            # (listing.filters.within_keys gives the superuser's list the plan years too)
            models.Index(fields=["-plan_year", "category", "-id"], name="enrollment_category"),
            models.Index(fields=["-plan_year", "auto_renew", "-id"], name="enrollment_auto_renew"),
        ]

    def __str__(self):
        return f"{shown_name(self.person.name)} · {self.plan_year.scheme.name} {self.plan_year.year}"

    def clean(self):
        if not self.plan_year_id:
            return
        scheme = self.plan_year.scheme
        if scheme.has_tiers and self.tier == 0:
            raise ValidationError({"tier": f"{scheme.name}分档缴费，请选择档次"})
        if not scheme.has_tiers and self.tier != 0:
            raise ValidationError({"tier": f"{scheme.name}不分档，档次应为“不分档”"})

    @property
    def scheme(self):
        return self.plan_year.scheme

    @property
    def health_status(self) -> str:
        """``pre_existing`` when a 特定既往症 is declared on the enrollment (三明)."""
        return "pre_existing" if self.pre_existing.exists() else "healthy"

    @property
    def is_paid(self) -> bool:
        return self.paid_off_date is not None


class Suspension(models.Model):
    """A period during which the enrollment's coverage is suspended (暂停: 欠缴/中断)."""

    enrollment = models.ForeignKey(Enrollment, verbose_name="参保登记", on_delete=models.CASCADE,
                                   related_name="suspensions")
    date_from = models.DateField("暂停起始日")
    date_to = models.DateField("暂停终止日", null=True, blank=True, help_text="空 = 尚未恢复")
    reason = models.CharField("原因", max_length=200)
    source = models.ForeignKey("self", verbose_name="随之暂停的基本医保暂停", null=True,
                               blank=True, on_delete=models.CASCADE, related_name="followers")
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "暂停参保期间"
        ordering = ["enrollment", "date_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__isnull=True) | Q(date_to__gte=F("date_from")),
                name="suspension_ordered", violation_error_message="暂停起始日不能晚于暂停终止日"),
        ]

    def __str__(self):
        end = self.date_to.isoformat() if self.date_to else "至今"
        return f"{self.date_from.isoformat()} 至 {end}：{self.reason}"

    def clean(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationError({"date_to": "暂停终止日不能早于暂停起始日"})


class PreExistingDeclaration(models.Model):
    """A 特定既往症 history declared on the enrollment (三明): makes its health status
    ``pre_existing`` for the year."""

    enrollment = models.ForeignKey(Enrollment, verbose_name="参保登记", on_delete=models.CASCADE,
                                   related_name="pre_existing")
    group = models.CharField("既往症类别", max_length=20, choices=codes.PreExistingGroup.choices)
    condition = models.ForeignKey("policies.PreExistingCondition", verbose_name="疾病（目录）",
                                  null=True, blank=True, on_delete=models.PROTECT)
    condition_text = models.CharField("疾病（文字）", max_length=120, blank=True)
    declared_on = models.DateField("申报日期", null=True, blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "特定既往症申报"
        ordering = ["enrollment", "group"]
        constraints = [
            models.CheckConstraint(condition=Q(condition__isnull=False) | ~Q(condition_text=""),
                                   name="preexisting_condition_given",
                                   violation_error_message="请选择目录中的疾病或填写疾病名称"),
        ]

    def __str__(self):
        return f"{self.get_group_display()}：{self.condition.name if self.condition else self.condition_text}"

    def clean(self):
        if self.condition_id:
            if self.condition.group != self.group:
                raise ValidationError({"condition": f"疾病“{self.condition.name}”不属于类别"
                                                    f"“{self.get_group_display()}”"})
            if self.enrollment_id and self.condition.plan_year_id != self.enrollment.plan_year_id:
                raise ValidationError({"condition": "疾病必须取自本参保年度方案的特定既往症目录"})


class Payment(ChecksInOneQuery, models.Model):
    """One payment (缴费) towards an enrollment's amount due.

    ``amount_due`` is the enrollment's due computed for this payment's date; ``subsidy``
    the part paid by ``subsidy_payer`` for ``subsidy_identity``; ``self_paid`` the
    person's (or payer's) part. ``scheme`` repeats the enrollment's scheme so that the
    receipt number is unique per scheme in the database.
    """

    class SubsidyPayer(models.TextChoices):
        GOVERNMENT = codes.Channel.GOVERNMENT.value, "财政资助"
        CHARITY = codes.Channel.CHARITY.value, "慈善捐赠"
        EMPLOYER = codes.Channel.EMPLOYER.value, "单位缴纳"

    enrollment = models.ForeignKey(Enrollment, verbose_name="参保登记", on_delete=models.PROTECT,
                                   related_name="payments")
    scheme = models.ForeignKey("policies.Scheme", verbose_name="险种", on_delete=models.PROTECT,
                               related_name="+", editable=False)
    amount_due = models.DecimalField("应缴金额（元）", **MONEY)
    subsidy = models.DecimalField("资助金额（元）", **MONEY, default=0)
    subsidy_identity = models.ForeignKey("policies.Identity", verbose_name="资助身份", null=True,
                                         blank=True, on_delete=models.PROTECT, related_name="+")
    subsidy_payer = models.CharField("资助方", max_length=20, choices=SubsidyPayer.choices,
                                     blank=True)
    self_paid = models.DecimalField("个人缴费（元）", **MONEY, default=0)
    paid_date = models.DateField("缴费日期")
    channel = models.CharField("缴费渠道", max_length=20, choices=codes.Channel.choices)
    payer_name = models.CharField("缴费人", max_length=50, blank=True)
    payer_person = models.ForeignKey(Person, verbose_name="缴费人（账户持有人）", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    relation_to_payer = models.CharField("参保人与缴费人的关系", max_length=20,
                                         choices=codes.Relation.choices,
                                         default=codes.Relation.SELF)
    receipt_no = models.CharField("票据/流水号", max_length=60)
    window_code = models.CharField("缴费期", max_length=30, blank=True)
    completes = models.BooleanField("本笔缴清", default=False, editable=False)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "缴费记录"
        ordering = ["enrollment", "paid_date", "id"]
        permissions = [("import_payment", "可导入缴费表格")]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "receipt_no"], name="payment_receipt_unique",
                                    violation_error_message="该险种已登记此票据/流水号"),
            models.CheckConstraint(condition=~Q(receipt_no=""), name="payment_receipt_set",
                                   violation_error_message="请填写票据/流水号"),
            models.CheckConstraint(condition=Q(amount_due__gte=0), name="payment_due_nonneg",
                                   violation_error_message="应缴金额不能为负数"),
            models.CheckConstraint(condition=Q(subsidy__gte=0), name="payment_subsidy_nonneg",
                                   violation_error_message="资助金额不能为负数"),
            models.CheckConstraint(condition=Q(self_paid__gte=0), name="payment_self_nonneg",
                                   violation_error_message="个人缴费不能为负数"),
            models.CheckConstraint(condition=Q(amount_due__gte=F("subsidy") + F("self_paid")),
                                   name="payment_not_over_due",
                                   violation_error_message="资助金额与个人缴费之和不能超过应缴金额"),
            models.CheckConstraint(condition=Q(subsidy=0) | ~Q(subsidy_payer=""),
                                   name="payment_subsidy_has_payer",
                                   violation_error_message="有资助金额时必须填写资助方"),
        ]
        indexes = [
            # the admin list, newest first (``-paid_date, -id``), with the scheme for a
            # clerk's scope (scheme_id IN the region's schemes): pages from the index alone
            models.Index(fields=["-paid_date", "-id", "scheme"], name="payment_recent"),
            # the 缴费渠道 filter: a channel's payments newest first (with the scheme for a
            # clerk's scope), so a channel no payment used is an empty range, not a walk
            # of every payment in payment_recent (issue 17, docs/benchmarks.md)
            models.Index(fields=["channel", "-paid_date", "-id", "scheme"], name="payment_channel"),
        ]

    def __str__(self):
        return f"{self.receipt_no}（{self.paid_date.isoformat()}）"

    def save(self, *args, **kwargs):
        if self.enrollment_id and not self.scheme_id:
            self.scheme_id = self.enrollment.plan_year.scheme_id
        super().save(*args, **kwargs)

    @property
    def total_paid(self):
        return self.subsidy + self.self_paid
