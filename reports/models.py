"""The reports app stores only its summaries (the dashboard's figures pre-computed per plan
year, below; docs/reports.md §汇总表). ``Report`` is an unmanaged model (no table) whose only purpose is the
permission ``reports.view_report`` — "may see the dashboard and export its figures"."""
from django.db import models


class Report(models.Model):
    """Permission holder of the 统计报表 dashboard (no database table)."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = verbose_name_plural = "统计报表"

    def __str__(self):
        return "统计报表"


# --------------------------------------------------------------------------- summaries
# The dashboard's figures, pre-computed per plan year (docs/reports.md §汇总表): written
# only by ``reports.services.dashboard_refresh`` (the nightly job ``dashboard_refresh``,
# ``manage.py refresh_dashboard`` and the hook ``policies.dashboard.dashboard_figures_changed``
# the services call after payments, enrollments and settlements), read by
# ``reports.summary_selectors`` — one query per figure. Amounts are the rounded figures.

SUMMARY_MONEY = {"max_digits": 18, "decimal_places": 2}


class PlanYearSummary(models.Model):
    """A plan year's whole-region figures; its presence means the plan year was refreshed."""

    plan_year = models.OneToOneField("policies.PlanYear", on_delete=models.CASCADE,
                                     related_name="dashboard_summary", primary_key=True)
    refreshed_at = models.DateTimeField("汇总时间")
    enrollees = models.PositiveIntegerField("参保人数", default=0)
    basic_insured = models.PositiveIntegerField("基本医保参保人数", default=0)
    payments = models.PositiveIntegerField("缴费笔数", default=0)
    payers = models.PositiveIntegerField("缴费人数", default=0)
    self_paid = models.DecimalField("个人缴费", default=0, **SUMMARY_MONEY)
    subsidy = models.DecimalField("资助", default=0, **SUMMARY_MONEY)
    claims = models.PositiveIntegerField("赔付件数", default=0)
    paid = models.DecimalField("赔付金额", default=0, **SUMMARY_MONEY)

    class Meta:
        verbose_name = verbose_name_plural = "报表汇总（年度方案）"
        default_permissions = ()

    def __str__(self):
        return f"{self.plan_year_id} 年度方案汇总"


class CountySummary(models.Model):
    """参保人数 of a plan year in one county (``county`` empty: 未划分县区)."""

    plan_year = models.ForeignKey("policies.PlanYear", on_delete=models.CASCADE, related_name="+")
    county = models.ForeignKey("policies.Region", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    seq = models.PositiveIntegerField("顺序")
    enrollees = models.PositiveIntegerField("参保人数", default=0)
    basic_insured = models.PositiveIntegerField("基本医保参保人数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "报表汇总（县区参保）"
        default_permissions = ()
        indexes = [models.Index(fields=["plan_year", "seq"], name="county_summary_py")]

    def __str__(self):
        return f"{self.plan_year_id} 县区 {self.county_id or '未划分'}"


class SubsidySummary(models.Model):
    """资助 of a plan year by payer / department / identity (one row per group)."""

    class Dimension(models.TextChoices):
        PAYER = "payer", "资助方"
        DEPARTMENT = "department", "认定部门"
        IDENTITY = "identity", "资助身份"

    plan_year = models.ForeignKey("policies.PlanYear", on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField("分组", max_length=20, choices=Dimension.choices)
    seq = models.PositiveIntegerField("顺序")
    key = models.CharField("分组值", max_length=100, blank=True)
    label = models.CharField("名称", max_length=200)
    payments = models.PositiveIntegerField("资助笔数", default=0)
    amount = models.DecimalField("资助金额", default=0, **SUMMARY_MONEY)
    share = models.DecimalField("占比", null=True, blank=True, max_digits=7, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "报表汇总（资助）"
        default_permissions = ()
        indexes = [models.Index(fields=["dimension", "plan_year", "seq"], name="subsidy_summary_py")]

    def __str__(self):
        return f"{self.plan_year_id} {self.dimension} {self.label}"


class ClaimTypeSummary(models.Model):
    """赔付 of a plan year's scheme by claim type (only types with paying lines)."""

    plan_year = models.ForeignKey("policies.PlanYear", on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField("顺序")
    claim_type = models.CharField("就医类型", max_length=30)
    claims = models.PositiveIntegerField("赔付件数", default=0)
    paid = models.DecimalField("赔付金额", default=0, **SUMMARY_MONEY)

    class Meta:
        verbose_name = verbose_name_plural = "报表汇总（就医类型）"
        default_permissions = ()
        indexes = [models.Index(fields=["plan_year", "seq"], name="claimtype_summary_py")]

    def __str__(self):
        return f"{self.plan_year_id} {self.claim_type}"
