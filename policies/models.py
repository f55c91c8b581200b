"""Policy parameters as rows (spec README §5).

Region → Scheme → PlanYear, and under each plan year the typed rule tables that hold
every number and list of the seed documents. Every table is validated (ratios 0–100 %,
windows ordered, segments ascending, no duplicate keys) by database constraints where
the database can, and by ``clean()`` (Chinese messages) where it needs several rows,
and keeps its history (who, when, old/new) through django-simple-history.

Selector conventions (so that unique keys never contain NULL): ``tier = 0`` means
"every tier", ``level = 0`` / ``fee_class = 0`` "any hospital level/class", a blank
string selector "any". Amounts are 元 with two decimals; ratios and percentage points
are percent (55.00 = 55 %).
"""
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from insurance_rules.formulas import FORMULA_CHOICES

from . import codes
from .constraints import ChecksInOneQuery
from .history import AuditHistory

MONEY = {"max_digits": 14, "decimal_places": 2}
RATIO_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def money_field(verbose_name, **kwargs):
    kwargs.setdefault("validators", [MinValueValidator(Decimal("0"))])
    return models.DecimalField(verbose_name, **MONEY, **kwargs)


def ratio_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name, max_digits=5, decimal_places=2, validators=RATIO_VALIDATORS, **kwargs
    )


def ratio_check(field):
    """Database check: a ratio is NULL or within 0–100 %."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0, f"{field}__lte": 100}),
        name=f"%(app_label)s_%(class)s_{field}_0_100",
        # "%%": Django formats the message with %-substitution (``%(name)s``).
        violation_error_message=f"比例字段“{field}”必须在 0%%–100%% 之间",
    )


def row_label(row, *fields):
    """A short label for a rule row: its set fields' display values, joined."""
    parts = []
    for name in fields:
        display = getattr(row, f"get_{name}_display", None)
        value = display() if display else getattr(row, name, None)
        if value not in (None, ""):
            parts.append(str(value))
    return " · ".join(parts) or f"{row._meta.verbose_name} #{row.pk}"


def non_negative_check(field):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
        name=f"%(app_label)s_%(class)s_{field}_nonneg",
        violation_error_message=f"金额字段“{field}”不能为负数",
    )


TIER_CHOICES = [(0, "不分档"), (1, "一档"), (2, "二档")]
LEVEL_ANY_CHOICES = [(0, "不限")] + list(codes.HospitalLevel.choices)
FEE_CLASS_CHOICES = [(0, "不限"), (1, "一类收费"), (2, "二类收费"), (3, "三类收费")]
# Rule rows select hospitals of county level and above only: 乡镇级 (乡镇卫生院、社区卫生服务中心)
# is the lowest level, so as a minimum it would mean "any" (blank), and no seed names it.
RULE_ADMIN_LEVEL_CHOICES = [c for c in codes.AdminLevel.choices if c[0] != codes.AdminLevel.TOWNSHIP]


# --------------------------------------------------------------------------- regions


class Region(models.Model):
    """统筹区 or sub-region (GB/T 2260 code)."""

    code = models.CharField("行政区划代码", max_length=6, unique=True,
                            validators=[MinValueValidator("100000")])
    name = models.CharField("名称", max_length=50)
    province = models.CharField("省份", max_length=20, blank=True)
    parent = models.ForeignKey("self", verbose_name="上级统筹区", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    is_pooling = models.BooleanField("统筹区", default=True)
    contacts = models.TextField("咨询电话等信息", blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "统筹区"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[1-9][0-9]{5}$"),
                                   name="region_code_6_digits",
                                   violation_error_message="行政区划代码必须是 6 位数字"),
        ]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @property
    def pooling_region(self):
        """The 统筹区 this region belongs to (itself for a pooling region)."""
        return self if self.is_pooling or self.parent is None else self.parent.pooling_region


class Identity(models.Model):
    """特殊身份 code table (codes.md); names and departments editable."""

    code = models.CharField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=60)
    department = models.CharField("认定部门", max_length=30, choices=codes.Department.choices)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "特殊身份"
        ordering = ["id"]

    def __str__(self):
        return self.name


class Scheme(models.Model):
    """险种: one insurance product in one region."""

    region = models.ForeignKey(Region, verbose_name="统筹区", on_delete=models.PROTECT,
                               related_name="schemes")
    kind = models.CharField("险种类别", max_length=30, choices=codes.SchemeKind.choices)
    name = models.CharField("险种名称", max_length=80)
    settlement_order = models.PositiveSmallIntegerField(
        "结算顺序", help_text="同一统筹区内按此顺序逐层结算（小的先结算）")
    has_tiers = models.BooleanField("分档缴费", default=False)
    formula = models.CharField("计算规则族", max_length=40, choices=FORMULA_CHOICES,
                               default="given_only",
                               help_text="种子文件描述的计算方式；数值均取自年度方案的规则行")
    operator = models.CharField("承办/承保机构", max_length=200, blank=True)
    note = models.TextField("说明", blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "险种"
        ordering = ["region__code", "settlement_order"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="scheme_region_kind_unique",
                                    violation_error_message="该统筹区已有同类险种"),
            models.UniqueConstraint(fields=["region", "settlement_order"],
                                    name="scheme_region_order_unique",
                                    violation_error_message="同一统筹区内结算顺序不能重复"),
        ]

    def __str__(self):
        return f"{self.region.name} {self.name}"


class PlanYear(models.Model):
    """年度方案: a scheme's parameters for one year."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ACTIVE = "active", "生效"
        CLOSED = "closed", "已关闭"

    scheme = models.ForeignKey(Scheme, verbose_name="险种", on_delete=models.PROTECT,
                               related_name="plan_years")
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000),
                                                              MaxValueValidator(2100)])
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    official_participation_rate = ratio_field(
        "官方参保率（%）", null=True, blank=True,
        help_text="政策管理员确认的本年度参保率（三明兜底保障按此判断）；空 = 未设定")
    source = models.CharField("政策依据", max_length=200, blank=True)
    note = models.TextField("说明（如种子文件缺失的规则）", blank=True)
    is_demo = models.BooleanField(
        "演示数据", default=False,
        help_text="演示数据加载时由种子年度方案结转生成的当年度方案，仅用于演示和培训")
    rules_version = models.UUIDField(
        "规则版本", default=uuid.uuid4, editable=False,
        help_text="本年度方案任一规则行（及其引用的病种、特殊身份）变更时由数据库触发器在同一事务内"
                  "换成新的随机值（policies.rules_version）；结算参数缓存以此为键")
    history = AuditHistory(excluded_fields=["rules_version"])

    class Meta:
        verbose_name = verbose_name_plural = "年度方案"
        ordering = ["scheme__region__code", "scheme__settlement_order", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "year"], name="planyear_scheme_year_unique",
                                    violation_error_message="该险种已有该年度方案"),
            ratio_check("official_participation_rate"),
        ]

    def __str__(self):
        return f"{self.scheme} {self.year} 年度（{self.get_status_display()}）"

    @property
    def region(self):
        return self.scheme.region


# --------------------------------------------------------------------------- rule rows


class PlanRow(ChecksInOneQuery, models.Model):
    """A row of a rule table, owned by one plan year."""

    plan_year = models.ForeignKey(PlanYear, verbose_name="年度方案", on_delete=models.CASCADE,
                                  related_name="%(class)s_rows")
    note = models.CharField("备注/依据", max_length=200, blank=True)
    history = AuditHistory(inherit=True)

    class Meta:
        abstract = True

    def _same_plan_year(self, obj, label):
        if obj is not None and self.plan_year_id and obj.plan_year_id != self.plan_year_id:
            raise ValidationError({label: "所选行必须属于同一年度方案"})


class PlanFigure(PlanRow):
    """A reference figure of the plan year (垫江 F, 长治 incomes, minor age, …)."""

    class Code(models.TextChoices):
        FISCAL_SUBSIDY = "fiscal_subsidy", "年度财政补助标准 F（元）"
        PROVINCE_INCOME = "province_income", "上年全省居民人均可支配收入（元）"
        MINOR_AGE = "minor_age", "未成年人年龄上限（周岁，不含）"
        CLASS_B_COPAY_RATE = "class_b_copay_rate", "乙类药品先行自付比例（%）"
        REVIEW_WORKING_DAYS = "review_working_days", "线下审核时限（工作日）"
        PARTICIPATION_TARGET = "participation_target", "参保率目标（%）"
        PARTICIPATION_MINIMUM = "participation_minimum", "参保率底线（%）"
        LOSS_RATIO_TARGET = "loss_ratio_target", "赔付率底线（%）"
        PROFIT_TRANSFER_RATE = "profit_transfer_rate", "净利润转健康管理基金起点（%）"
        OOC_CONTROL_LEVEL1 = "ooc_control_level1", "目录外控费比例·一级（%）"
        OOC_CONTROL_LEVEL2 = "ooc_control_level2", "目录外控费比例·二级（%）"
        OOC_CONTROL_LEVEL3 = "ooc_control_level3", "目录外控费比例·三级（%）"
        CHARITY_DONATION = "charity_donation", "慈善捐赠保费总额（元）"
        DOCUMENT_THRESHOLD = "document_threshold", "理赔资料金额门槛（元）"
        STATED_EXPENSES = "stated_expenses", "申报经营费用（元）"

    code = models.CharField("指标", max_length=40, choices=Code.choices)
    value = models.DecimalField("数值", max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "参考指标"
        ordering = ["plan_year", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "code"], name="planfigure_unique",
                                    violation_error_message="该年度方案已有此指标"),
            non_negative_check("value"),
        ]

    def __str__(self):
        return f"{self.get_code_display()} = {self.value}"


class EnrollmentWindow(PlanRow):
    """参保缴费期 and the coverage (待遇享受期) a payment in it gives."""

    class PersonGroup(models.TextChoices):
        ALL = "all", "所有人员"
        NEWBORN = "newborn", "当年出生的新生儿"
        IDENTITY = "identity", "持有指定身份的人员"

    class CoverageRule(models.TextChoices):
        FIXED = "fixed", "固定起始日"
        NEXT_DAY = "next_day", "缴清次日"
        AFTER_DAYS = "after_days", "缴清之日起满 N 日后"
        FROM_BIRTH = "from_birth", "自出生之日"
        AS_BASIC = "as_basic", "与基本医保待遇期一致"

    code = models.SlugField("代码", max_length=30)
    name = models.CharField("名称", max_length=60)
    pay_from = models.DateField("缴费起始日", null=True, blank=True, help_text="空 = 不限")
    pay_to = models.DateField("缴费截止日", null=True, blank=True, help_text="空 = 不限")
    person_group = models.CharField("适用人员", max_length=10, choices=PersonGroup.choices,
                                    default=PersonGroup.ALL)
    identity = models.ForeignKey(Identity, verbose_name="身份", null=True, blank=True,
                                 on_delete=models.PROTECT)
    newborn_max_days = models.PositiveSmallIntegerField(
        "出生后缴费天数上限", null=True, blank=True, help_text="新生儿：缴费日 − 出生日 ≤ N 天")
    coverage_rule = models.CharField("待遇起始规则", max_length=12, choices=CoverageRule.choices)
    coverage_start = models.DateField("固定待遇起始日", null=True, blank=True)
    waiting_days = models.PositiveSmallIntegerField("等待期（天）", default=0)
    coverage_end = models.DateField("待遇终止日")
    priority = models.SmallIntegerField("匹配优先级", default=0,
                                        help_text="多个缴费期同时适用时取优先级高者")

    class Meta:
        verbose_name = verbose_name_plural = "参保缴费期"
        ordering = ["plan_year", "-priority", "pay_from"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "code"], name="window_code_unique",
                                    violation_error_message="该年度方案已有此代码的缴费期"),
            models.CheckConstraint(
                condition=Q(pay_from__isnull=True) | Q(pay_to__isnull=True)
                | Q(pay_from__lte=F("pay_to")),
                name="window_pay_ordered", violation_error_message="缴费起始日不能晚于截止日"),
            models.CheckConstraint(
                condition=~Q(coverage_rule="fixed") | Q(coverage_start__isnull=False),
                name="window_fixed_has_start",
                violation_error_message="“固定起始日”规则必须填写固定待遇起始日"),
            models.CheckConstraint(
                condition=~Q(coverage_rule="after_days") | Q(waiting_days__gt=0),
                name="window_after_days_positive",
                violation_error_message="“满 N 日后”规则的等待期必须大于 0"),
            models.CheckConstraint(
                condition=Q(coverage_start__isnull=True) | Q(coverage_start__lte=F("coverage_end")),
                name="window_coverage_ordered",
                violation_error_message="待遇起始日不能晚于待遇终止日"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.person_group == self.PersonGroup.IDENTITY and not self.identity_id:
            raise ValidationError({"identity": "适用人员为“持有指定身份的人员”时必须选择身份"})
        if self.person_group == self.PersonGroup.NEWBORN and not self.newborn_max_days:
            raise ValidationError({"newborn_max_days": "新生儿缴费期必须填写出生后缴费天数上限"})


class ContributionStandard(PlanRow):
    """缴费标准 by window and tier: due = amount (+ a plan-year figure such as F)."""

    window = models.ForeignKey(EnrollmentWindow, verbose_name="缴费期", on_delete=models.CASCADE,
                               related_name="standards")
    tier = models.PositiveSmallIntegerField("档次", choices=TIER_CHOICES, default=0)
    amount = money_field("缴费标准（元）")
    plus_figure = models.CharField("另加指标", max_length=40, blank=True,
                                   choices=PlanFigure.Code.choices,
                                   help_text="如 7–9 月缴费另加年度财政补助标准 F")

    class Meta:
        verbose_name = verbose_name_plural = "缴费标准"
        ordering = ["plan_year", "window", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["window", "tier"], name="standard_window_tier_unique",
                                    violation_error_message="该缴费期该档次已有缴费标准"),
            non_negative_check("amount"),
        ]

    def __str__(self):
        return row_label(self, "window", "tier", "identity")

    def clean(self):
        self._same_plan_year(getattr(self, "window", None) if self.window_id else None, "window")


class SubsidyRule(PlanRow):
    """参保资助 by identity and tier (就高不就低 between identities)."""

    identity = models.ForeignKey(Identity, verbose_name="身份", on_delete=models.PROTECT)
    tier = models.PositiveSmallIntegerField("档次", choices=TIER_CHOICES, default=0)
    amount = money_field("资助金额（元）", null=True, blank=True)
    full = models.BooleanField("全额资助", default=False, help_text="资助全部应缴金额")

    class Meta:
        verbose_name = verbose_name_plural = "参保资助标准"
        ordering = ["plan_year", "identity", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "identity", "tier"],
                                    name="subsidy_unique",
                                    violation_error_message="该身份该档次已有资助标准"),
            models.CheckConstraint(condition=Q(full=True) | Q(amount__isnull=False),
                                   name="subsidy_amount_or_full",
                                   violation_error_message="请填写资助金额或勾选全额资助"),
            non_negative_check("amount"),
        ]

    def __str__(self):
        return row_label(self, "identity", "tier")



class PayerRelationRule(PlanRow):
    """Who may pay through a channel (缴费渠道的代缴关系白名单).

    When a plan year has rows for a channel, a payment through that channel is allowed
    only when some row matches the insured person's relation to the payer (``self`` when
    the person pays from their own account) and, if the row names one, the person's
    category. A channel without rows is not restricted (trial-calc.md: channels are
    recorded, not checked, except where a system file restricts them). Examples:
    聊惠保 个人账户 — 本人、配偶、子女、父母、配偶的父母 (liaocheng.md); 三明 个人账户/家庭共济账户
    — 本人及家庭成员 (sanming.md); 乐山 个人账户 — 本人且为在职/退休职工 (leshan.md).
    """

    channel = models.CharField("缴费渠道", max_length=20, choices=codes.Channel.choices)
    relation = models.CharField("参保人与缴费人的关系", max_length=20,
                                choices=codes.Relation.choices)
    category = models.CharField("限人员类别", max_length=20, blank=True,
                                choices=codes.PersonCategory.choices, help_text="空 = 不限")

    class Meta:
        verbose_name = verbose_name_plural = "缴费渠道代缴关系"
        ordering = ["plan_year", "channel", "relation", "category"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "channel", "relation", "category"],
                                    name="payerrelation_unique",
                                    violation_error_message="该缴费渠道已有此关系（及人员类别）"),
        ]

    def __str__(self):
        text = f"{self.get_channel_display()}：{self.get_relation_display()}"
        return f"{text}（{self.get_category_display()}）" if self.category else text


class AutoEnrollmentRule(PlanRow):
    """Automatic enrollment without payment (聊惠保: 2024 newborns whose two parents are
    both enrolled are covered from birth, for the period of their basic coverage)."""

    class Trigger(models.TextChoices):
        NEWBORN_PARENTS = "newborn_parents", "当年出生的新生儿，父母均已参保本年度本险种"

    class CoverageRule(models.TextChoices):
        FROM_BIRTH = "from_birth", "自出生之日"
        AS_BASIC = "as_basic", "与基本医保待遇期一致（无基本医保记录时自出生之日）"

    trigger = models.CharField("触发条件", max_length=20, choices=Trigger.choices)
    parents_required = models.PositiveSmallIntegerField(
        "须已参保的父母人数", default=2, validators=[MinValueValidator(1), MaxValueValidator(2)])
    coverage_rule = models.CharField("待遇起始规则", max_length=12, choices=CoverageRule.choices)

    class Meta:
        verbose_name = verbose_name_plural = "自动参保规则"
        ordering = ["plan_year", "trigger"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "trigger"], name="autoenroll_unique",
                                    violation_error_message="该年度方案已有此自动参保规则"),
            models.CheckConstraint(condition=Q(parents_required__gte=1, parents_required__lte=2),
                                   name="autoenroll_parents_1_2",
                                   violation_error_message="须已参保的父母人数只能是 1 或 2"),
        ]

    def __str__(self):
        return self.get_trigger_display()


class LimitPool(models.TextChoices):
    BASIC_FUND = "basic_fund", "统筹基金年度支付限额（住院及合并计算的门诊病种）"
    OUTPATIENT = "outpatient", "普通门诊统筹年度限额"
    PRENATAL = "prenatal", "产前检查补助限额"
    SCHEME_TOTAL = "scheme_total", "本险种年度累计赔付限额"


class AnnualLimit(PlanRow):
    """年度支付限额 (封顶线) by pool, tier and identity; empty amount = 不设封顶线."""

    pool = models.CharField("限额类别", max_length=20, choices=LimitPool.choices)
    tier = models.PositiveSmallIntegerField("档次", choices=TIER_CHOICES, default=0)
    identity = models.ForeignKey(Identity, verbose_name="身份（空 = 普通人员）", null=True,
                                 blank=True, on_delete=models.PROTECT)
    amount = money_field("年度限额（元）", null=True, blank=True, help_text="空 = 不设封顶线")

    class Meta:
        verbose_name = verbose_name_plural = "年度支付限额"
        ordering = ["plan_year", "pool", "tier"]
        constraints = [
            models.UniqueConstraint("plan_year", "pool", "tier", Coalesce("identity", 0),
                                    name="annuallimit_unique",
                                    violation_error_message="该限额类别、档次、身份已有一行"),
            non_negative_check("amount"),
        ]

    def __str__(self):
        return row_label(self, "pool", "tier", "identity")


class ApplicableClaimType(PlanRow):
    """The claim types a layer applies to (spec README §4.7); others: ``not_applicable``."""

    claim_type = models.CharField("就医类型", max_length=20, choices=codes.ClaimType.choices)
    delivery_mode = models.CharField(
        "分娩方式", max_length=10, blank=True, choices=codes.DeliveryMode.choices,
        help_text="仅对住院分娩：空 = 各种分娩方式；填写则本层只适用于该分娩方式"
                  "（如按住院政策报销的剖宫产计入大病保险）")
    chronic_class = models.PositiveSmallIntegerField(
        "仅限慢病类别", default=0, choices=[(0, "不限"), (1, "一类"), (2, "二类"), (3, "三类")])
    special_b_only = models.BooleanField("仅限 B 类特殊疾病门诊", default=False)
    rules_in_seed = models.BooleanField(
        "规则已录入", default=True,
        help_text="否 = 政策文件未给出本层规则，理赔须带入医院结算系统的本层结算结果")

    class Meta:
        verbose_name = verbose_name_plural = "适用就医类型"
        ordering = ["plan_year", "claim_type"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "claim_type", "delivery_mode"],
                                    name="applicable_claimtype_unique",
                                    violation_error_message="该就医类型（分娩方式）已列出"),
        ]

    def __str__(self):
        return row_label(self, "claim_type", "delivery_mode", "chronic_class")

    def clean(self):
        if self.delivery_mode and self.claim_type != codes.ClaimType.DELIVERY:
            raise ValidationError({"delivery_mode": "只有就医类型为“住院分娩”的行可以填写分娩方式"})


class HospitalFeeClass(PlanRow):
    """收费类别 of a hospital by level and grade (长治 inpatient)."""

    level = models.PositiveSmallIntegerField("医院级别", choices=codes.HospitalLevel.choices)
    grade = models.CharField("等次", max_length=1, choices=codes.HospitalGrade.choices)
    fee_class = models.PositiveSmallIntegerField("收费类别", choices=FEE_CLASS_CHOICES[1:])

    class Meta:
        verbose_name = verbose_name_plural = "医院收费类别"
        ordering = ["plan_year", "level", "grade"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "level", "grade"],
                                    name="feeclass_unique",
                                    violation_error_message="该级别等次已有收费类别"),
        ]

    def __str__(self):
        return row_label(self, "level", "grade", "fee_class")


class BenefitRule(PlanRow):
    """Benefit row: claim type × hospital selectors × tier → deductible, ratio, limit.

    Of the rows whose selectors all match a claim, the one with the highest priority
    (then the most selectors set) applies.
    """

    class DeductibleMode(models.TextChoices):
        PER_CLAIM = "per_claim", "每次（每次住院）"
        ANNUAL = "annual", "年度累计"

    claim_type = models.CharField("就医类型", max_length=20, choices=codes.ClaimType.choices)
    delivery_mode = models.CharField("分娩方式", max_length=10, blank=True,
                                     choices=codes.DeliveryMode.choices)
    level = models.PositiveSmallIntegerField("医院级别", choices=LEVEL_ANY_CHOICES, default=0)
    fee_class = models.PositiveSmallIntegerField("收费类别", choices=FEE_CLASS_CHOICES, default=0)
    admin_level = models.CharField("医院行政级别", max_length=10, blank=True,
                                   choices=RULE_ADMIN_LEVEL_CHOICES)
    location = models.CharField("就医地", max_length=20, blank=True,
                                choices=codes.LocationScope.choices)
    tier = models.PositiveSmallIntegerField("档次", choices=TIER_CHOICES, default=0)
    priority = models.SmallIntegerField("优先级", default=0)
    deductible = money_field("起付线（元）", default=Decimal("0"))
    deductible_mode = models.CharField("起付线方式", max_length=10,
                                       choices=DeductibleMode.choices,
                                       default=DeductibleMode.PER_CLAIM)
    ratio = ratio_field("报销比例（%）", null=True, blank=True)
    limit_pool = models.CharField("计入年度限额", max_length=20, blank=True,
                                  choices=LimitPool.choices)
    fixed_amount = money_field("定额（元）", null=True, blank=True,
                               help_text="定额补助，不超过医疗总费用")
    floor_amount = money_field("保底金额（元）", null=True, blank=True,
                               help_text="按比例报销不足此数的补足到此数（不超过总费用）")

    class Meta:
        verbose_name = verbose_name_plural = "待遇标准"
        ordering = ["plan_year", "claim_type", "tier", "level", "fee_class"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan_year", "claim_type", "delivery_mode", "level", "fee_class",
                        "admin_level", "location", "tier"],
                name="benefit_selectors_unique",
                violation_error_message="相同适用条件的待遇标准已存在"),
            ratio_check("ratio"),
            models.CheckConstraint(
                condition=Q(ratio__isnull=False) | Q(fixed_amount__isnull=False),
                name="benefit_ratio_or_fixed",
                violation_error_message="请填写报销比例或定额"),
        ]

    def __str__(self):
        return f"{self.get_claim_type_display()} {self.get_level_display()} {self.ratio or ''}"


class LevelSubstitution(PlanRow):
    """Settle a claim at one hospital level as another (垫江: minors at a level-3
    children's hospital are settled as level 2 in outpatient pooling)."""

    claim_type = models.CharField("就医类型", max_length=20, choices=codes.ClaimType.choices)
    from_level = models.PositiveSmallIntegerField("实际医院级别", choices=codes.HospitalLevel.choices)
    to_level = models.PositiveSmallIntegerField("按此级别结算", choices=codes.HospitalLevel.choices)
    children_hospital_only = models.BooleanField("仅限儿童医院/妇幼保健院", default=True)
    max_age = models.PositiveSmallIntegerField("年龄上限（周岁，不含）", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "医院级别替代"
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "claim_type", "from_level"],
                                    name="levelsub_unique",
                                    violation_error_message="该就医类型该级别已有替代规则"),
        ]

    def __str__(self):
        return row_label(self, "claim_type", "from_level", "to_level")


class RatioAdjustment(PlanRow):
    """报销比例调整 in percentage points (README §4.5), per claim type."""

    class Code(models.TextChoices):
        MINOR = "minor", "未成年人"
        TCM = "tcm", "中医医疗机构/中药"
        NOT_FILED = "not_filed", "异地就医未备案"
        CROSS_PROVINCE = "cross_province", "跨省临时外出就医"
        MAJOR_DISEASE = "major_disease", "三类大病"
        REFERRAL_NOT_APPROVED = "referral_not_approved", "未办理转院审批"

    code = models.CharField("调整项", max_length=30, choices=Code.choices)
    claim_type = models.CharField("就医类型", max_length=20, choices=codes.ClaimType.choices)
    delivery_mode = models.CharField("分娩方式", max_length=10, blank=True,
                                     choices=codes.DeliveryMode.choices)
    points = models.DecimalField("调整（百分点）", max_digits=5, decimal_places=2,
                                 validators=[MinValueValidator(-100), MaxValueValidator(100)])
    max_age = models.PositiveSmallIntegerField("年龄上限（周岁，不含）", null=True, blank=True)
    deductible_level_shift = models.PositiveSmallIntegerField(
        "起付线降低档次", default=0, help_text="如中医医疗机构起付线降低一个档次")
    deductible_shift_location = models.CharField(
        "起付线降档适用就医地", max_length=20, blank=True, choices=codes.LocationScope.choices,
        help_text="空 = 不限就医地；只限制起付线降档，比例调整仍按“就医地”一栏")
    min_level = models.PositiveSmallIntegerField("适用最低医院级别", choices=LEVEL_ANY_CHOICES,
                                                 default=0)
    location = models.CharField("就医地", max_length=20, blank=True,
                                choices=codes.LocationScope.choices)

    class Meta:
        verbose_name = verbose_name_plural = "报销比例调整"
        ordering = ["plan_year", "code", "claim_type"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "code", "claim_type", "delivery_mode"],
                                    name="ratioadj_unique",
                                    violation_error_message="该调整项对该就医类型已存在"),
            models.CheckConstraint(condition=Q(points__gte=-100, points__lte=100),
                                   name="ratioadj_points_range",
                                   violation_error_message="调整幅度必须在 −100 到 100 个百分点之间"),
        ]

    def __str__(self):
        return row_label(self, "code", "claim_type", "points")


class CumulativeSegment(PlanRow):
    """大病保险 cumulative segment on the YTD compliant self-pay S (identity-specific rows
    replace the ordinary ones for that identity)."""

    class Base(models.TextChoices):
        CUMULATIVE = "cumulative", "年度累计自付 S"
        AFTER_PREVIOUS = "after_previous", "S 减去前一段已报销额"

    identity = models.ForeignKey(Identity, verbose_name="身份（空 = 普通人员）", null=True,
                                 blank=True, on_delete=models.PROTECT)
    seq = models.PositiveSmallIntegerField("段序号", validators=[MinValueValidator(1)])
    threshold = money_field("起付标准（元）")
    ratio = ratio_field("报销比例（%）")
    base = models.CharField("计算基数", max_length=20, choices=Base.choices,
                            default=Base.CUMULATIVE)

    class Meta:
        verbose_name = verbose_name_plural = "大病保险分段"
        ordering = ["plan_year", "identity", "seq"]
        constraints = [
            models.UniqueConstraint("plan_year", Coalesce("identity", 0), "seq",
                                    name="segment_unique",
                                    violation_error_message="该身份该段序号已存在"),
            ratio_check("ratio"),
            non_negative_check("threshold"),
        ]

    def __str__(self):
        return row_label(self, "identity", "seq")

    def clean(self):
        if not self.plan_year_id or self.threshold is None:
            return
        siblings = CumulativeSegment.objects.filter(
            plan_year_id=self.plan_year_id, identity_id=self.identity_id, base=self.base
        ).exclude(pk=self.pk)
        for other in siblings:
            if (other.seq < self.seq and other.threshold >= self.threshold) or (
                other.seq > self.seq and other.threshold <= self.threshold
            ):
                raise ValidationError({"threshold": f"分段重叠：第 {other.seq} 段起付标准为 "
                                                    f"{other.threshold}，段序号越大起付标准必须越高"})


class ChronicDisease(models.Model):
    """门诊慢特病 / 两病 catalogue of a region (长治 CZ01–CZ51, HBP, DM1, DM2)."""

    class Kind(models.TextChoices):
        CHRONIC = "chronic", "门诊慢特病"
        TWO_DISEASES = "two_diseases", "两病"

    region = models.ForeignKey(Region, verbose_name="统筹区", on_delete=models.PROTECT,
                               related_name="diseases")
    code = models.CharField("病种代码", max_length=10)
    name = models.CharField("病种名称", max_length=60)
    kind = models.CharField("类别", max_length=20, choices=Kind.choices, default=Kind.CHRONIC)
    disease_class = models.PositiveSmallIntegerField(
        "病种类别", default=0, choices=[(0, "—"), (1, "一类"), (2, "二类"), (3, "三类")])
    closed_from = models.DateField("停止新纳入日期", null=True, blank=True,
                                   help_text="此日及以后的申请不再受理；已纳入的继续享受")
    excluded_by = models.ForeignKey("self", verbose_name="已纳入此病种者不得申报",
                                    null=True, blank=True, on_delete=models.PROTECT)
    sort = models.PositiveSmallIntegerField("序号", default=0)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "病种目录"
        ordering = ["region", "sort", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="disease_region_code_unique",
                                    violation_error_message="该统筹区已有此病种代码"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class ChronicBenefit(PlanRow):
    """门诊慢特病 benefit of a scheme's plan year: monthly limit and ratio per disease."""

    disease = models.ForeignKey(ChronicDisease, verbose_name="病种", on_delete=models.PROTECT)
    monthly_limit = money_field("月支付限额（元）", null=True, blank=True,
                                help_text="空 = 无月限额（一类：与住院合并计算年度限额）")
    ratio = ratio_field("支付比例（%）")
    deductible = money_field("起付线（元）", default=Decimal("0"))
    shares_pool = models.CharField("合并计算的年度限额", max_length=20, blank=True,
                                   choices=LimitPool.choices)

    class Meta:
        verbose_name = verbose_name_plural = "门诊慢特病待遇"
        ordering = ["plan_year", "disease__sort"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "disease"], name="chronicbenefit_unique",
                                    violation_error_message="该病种已有待遇标准"),
            ratio_check("ratio"),
            models.CheckConstraint(
                condition=Q(monthly_limit__isnull=False) | ~Q(shares_pool=""),
                name="chronicbenefit_has_limit",
                violation_error_message="请填写月支付限额或选择合并计算的年度限额"),
        ]

    def __str__(self):
        return row_label(self, "disease")

    def clean(self):
        if self.disease_id and self.plan_year_id:
            if self.disease.region_id != self.plan_year.scheme.region_id:
                raise ValidationError({"disease": "病种必须属于本统筹区的目录"})


def _disease_in_region(row):
    """A disease row of a plan year must come from the plan year's region catalogue."""
    if row.disease_id and row.plan_year_id:
        if row.disease.region_id != row.plan_year.scheme.region_id:
            raise ValidationError({"disease": "病种必须属于本统筹区的目录"})


class TwoDiseaseBenefit(PlanRow):
    """“两病”门诊用药: ratios by drug class and annual limit per disease."""

    disease = models.ForeignKey(ChronicDisease, verbose_name="病种", on_delete=models.PROTECT)
    deductible = money_field("起付线（元）", default=Decimal("0"))
    ratio_class_a = ratio_field("甲类药品比例（%）")
    ratio_class_b = ratio_field("乙类药品比例（%）")
    annual_limit = money_field("年度限额（元）")

    class Meta:
        verbose_name = verbose_name_plural = "两病用药待遇"
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "disease"], name="twodisease_unique",
                                    violation_error_message="该病种已有待遇标准"),
            ratio_check("ratio_class_a"),
            ratio_check("ratio_class_b"),
        ]

    def __str__(self):
        return row_label(self, "disease")

    def clean(self):
        _disease_in_region(self)


class AdmissionCriterion(PlanRow):
    """Admission criteria numbers of a registration (两病 blood pressure, HbA1c, glucose)."""

    class Code(models.TextChoices):
        BP_DAYS = "bp_days", "血压测量不同日数（次）"
        BP_SYSTOLIC = "bp_systolic", "收缩压下限（mmHg）"
        BP_DIASTOLIC = "bp_diastolic", "舒张压下限（mmHg）"
        HBA1C = "hba1c", "糖化血红蛋白下限（%）"
        RANDOM_GLUCOSE = "random_glucose", "随机血糖下限（mmol/L）"
        FASTING_GLUCOSE = "fasting_glucose", "空腹血糖下限（mmol/L）"
        OGTT_2H = "ogtt_2h", "OGTT 2 小时血糖下限（mmol/L）"

    disease = models.ForeignKey(ChronicDisease, verbose_name="病种", on_delete=models.PROTECT)
    code = models.CharField("指标", max_length=20, choices=Code.choices)
    value = models.DecimalField("数值", max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "准入标准"
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "disease", "code"],
                                    name="criterion_unique",
                                    violation_error_message="该病种已有此准入指标"),
            non_negative_check("value"),
        ]

    def __str__(self):
        return row_label(self, "disease", "code", "value")

    def clean(self):
        _disease_in_region(self)


class PreExistingCondition(PlanRow):
    """三明 特定既往症 list, by group."""

    group = models.CharField("类别", max_length=20, choices=codes.PreExistingGroup.choices)
    name = models.CharField("疾病", max_length=60)

    class Meta:
        verbose_name = verbose_name_plural = "特定既往症"
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "group", "name"],
                                    name="preexisting_unique",
                                    violation_error_message="该类别已有此疾病"),
        ]

    def __str__(self):
        return row_label(self, "group", "name")


class Responsibility(PlanRow):
    """Commercial / supplementary responsibility (三明 责任一–四, 聊惠保 1–4, 乐山 band/high)."""

    class Basis(models.TextChoices):
        TOTAL_AFTER_UPSTREAM = "total_after_upstream", "总费用 − 前序各层已付"
        COMPLIANT_AFTER_UPSTREAM = "compliant_after_upstream", "合规费用 − 前序各层已付"
        OUT_OF_SCOPE = "out_of_scope", "乙类先行自付 + 全自费"
        BAND = "band", "合规费用 − 起付线 − 超封顶部分 − 基本医保已付"
        OVER_CAP = "over_cap", "超基本医保封顶线的合规费用"

    code = models.CharField("责任代码", max_length=12)
    name = models.CharField("责任名称", max_length=80)
    seq = models.PositiveSmallIntegerField("顺序", default=0)
    claim_type = models.CharField("就医类型", max_length=20, choices=codes.ClaimType.choices)
    location = models.CharField("就医地", max_length=20, blank=True,
                                choices=codes.LocationScope.choices)
    min_level = models.PositiveSmallIntegerField("医院最低级别", choices=LEVEL_ANY_CHOICES,
                                                 default=0)
    public_only = models.BooleanField("仅限公立医院", default=False)
    min_admin_level = models.CharField("处方机构最低行政级别", max_length=10, blank=True,
                                       choices=RULE_ADMIN_LEVEL_CHOICES)
    drug_list = models.CharField("药品目录", max_length=30, blank=True)
    special_b_only = models.BooleanField("慢病仅限 B 类特殊疾病", default=False)
    basis = models.CharField("计算基数", max_length=30, choices=Basis.choices)
    deductible = money_field("年免赔额（元）", default=Decimal("0"))
    ratio_healthy = ratio_field("赔付比例·健康人群（%）", null=True, blank=True,
                                help_text="按药品类别赔付时留空")
    ratio_pre_existing = ratio_field("赔付比例·既往症人群（%）", null=True, blank=True,
                                     help_text="空 = 既往症人群不保障")
    pre_existing_covered = models.BooleanField("既往症人群保障", default=True)
    sum_insured = money_field("保险金额/年度限额·健康人群（元）", null=True, blank=True)
    sum_insured_pre_existing = money_field("保险金额·既往症人群（元）", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "保险责任"
        ordering = ["plan_year", "seq", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "code"], name="responsibility_unique",
                                    violation_error_message="该年度方案已有此责任代码"),
            ratio_check("ratio_healthy"),
            ratio_check("ratio_pre_existing"),
        ]

    def __str__(self):
        return self.name or self.code


class ResponsibilityDrugRatio(PlanRow):
    """Ratio of a responsibility by drug class (三明 责任四a: A 70 %, B 50 %, C 30 %)."""

    responsibility = models.ForeignKey(Responsibility, verbose_name="责任",
                                       on_delete=models.CASCADE, related_name="drug_ratios")
    drug_class = models.CharField("药品类别", max_length=1, choices=codes.DrugClass.choices)
    ratio = ratio_field("赔付比例（%）")

    class Meta:
        verbose_name = verbose_name_plural = "按药品类别赔付比例"
        constraints = [
            models.UniqueConstraint(fields=["responsibility", "drug_class"],
                                    name="drugratio_unique",
                                    violation_error_message="该责任该药品类别已有比例"),
            ratio_check("ratio"),
        ]

    def __str__(self):
        return row_label(self, "responsibility", "drug_class")

    def clean(self):
        self._same_plan_year(self.responsibility if self.responsibility_id else None,
                             "responsibility")


class ResponsibilityIdentityRatio(PlanRow):
    """Ratio for pre-existing persons holding an identity (三明 救助对象 倾斜)."""

    responsibility = models.ForeignKey(Responsibility, verbose_name="责任",
                                       on_delete=models.CASCADE, related_name="identity_ratios")
    identity = models.ForeignKey(Identity, verbose_name="身份", on_delete=models.PROTECT)
    ratio_pre_existing = ratio_field("既往症人群赔付比例（%）")

    class Meta:
        verbose_name = verbose_name_plural = "救助对象倾斜比例"
        constraints = [
            models.UniqueConstraint(fields=["responsibility", "identity"],
                                    name="identityratio_unique",
                                    violation_error_message="该责任该身份已有比例"),
            ratio_check("ratio_pre_existing"),
        ]

    def __str__(self):
        return row_label(self, "responsibility", "identity")

    def clean(self):
        self._same_plan_year(self.responsibility if self.responsibility_id else None,
                             "responsibility")


class IncentiveRule(PlanRow):
    """参保激励 (乐山): continuous years ≥ N → ratio of a responsibility on the year's
    first claim that reaches it."""

    responsibility = models.ForeignKey(Responsibility, verbose_name="责任",
                                       on_delete=models.CASCADE, related_name="incentives")
    min_years = models.PositiveSmallIntegerField("连续缴费年数不少于")
    ratio = ratio_field("比例（%）")

    class Meta:
        verbose_name = verbose_name_plural = "参保激励"
        constraints = [
            models.UniqueConstraint(fields=["responsibility", "min_years"],
                                    name="incentive_unique",
                                    violation_error_message="该责任已有此年数的激励"),
            ratio_check("ratio"),
        ]

    def __str__(self):
        return row_label(self, "responsibility", "min_years")

    def clean(self):
        self._same_plan_year(self.responsibility if self.responsibility_id else None,
                             "responsibility")


class OutOfPocketCap(PlanRow):
    """兜底保障 (三明): official participation rate ≥ X % → YTD personal payment for
    in-region inpatient care capped at Y."""

    min_participation_rate = ratio_field("参保率达到（%）")
    personal_cap = money_field("个人自付封顶（元）")
    claim_type = models.CharField("就医类型", max_length=20, choices=codes.ClaimType.choices,
                                  default=codes.ClaimType.INPATIENT)
    location = models.CharField("就医地", max_length=20, blank=True,
                                choices=codes.LocationScope.choices)

    class Meta:
        verbose_name = verbose_name_plural = "兜底保障"
        ordering = ["plan_year", "min_participation_rate"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "min_participation_rate"],
                                    name="oopcap_unique",
                                    violation_error_message="该参保率档已存在"),
            ratio_check("min_participation_rate"),
        ]

    def __str__(self):
        return row_label(self, "claim_type", "location", "identity")


class AssistanceRule(PlanRow):
    """城乡医疗救助 category row (长治): identity × kind → threshold, ratio, limit."""

    class Kind(models.TextChoices):
        INPATIENT = "inpatient", "住院救助"
        CHRONIC = "chronic_outpatient", "门诊慢性病救助"
        SPECIAL_DRUG = "special_drug", "门诊特药救助"
        TILT = "tilt", "倾斜救助"

    identity = models.ForeignKey(Identity, verbose_name="身份（倾斜救助留空 = 所有救助对象）",
                                 null=True, blank=True, on_delete=models.PROTECT)
    kind = models.CharField("救助类别", max_length=20, choices=Kind.choices)
    threshold = money_field("年度起付标准（元）", default=Decimal("0"))
    ratio = ratio_field("救助比例（%）")
    annual_limit = money_field("年度限额（元）", null=True, blank=True, help_text="空 = 不设限额")
    top_up_ratio = ratio_field("综合支付比例补足到（%）", null=True, blank=True)
    top_up_location = models.CharField("补足适用就医地", max_length=20, blank=True,
                                       choices=codes.LocationScope.choices)
    ooc_controlled_ratio = ratio_field("控费范围内目录外费用救助比例（%）", null=True, blank=True)
    requires_filed = models.BooleanField("须规范转诊/备案", default=False)
    location = models.CharField("就医地", max_length=20, blank=True,
                                choices=codes.LocationScope.choices)

    class Meta:
        verbose_name = verbose_name_plural = "医疗救助标准"
        ordering = ["plan_year", "kind", "identity"]
        constraints = [
            models.UniqueConstraint("plan_year", Coalesce("identity", 0), "kind",
                                    name="assistance_unique",
                                    violation_error_message="该身份该救助类别已存在"),
            ratio_check("ratio"),
            ratio_check("top_up_ratio"),
            ratio_check("ooc_controlled_ratio"),
        ]

    def __str__(self):
        return row_label(self, "identity", "kind")


class DocumentRule(PlanRow):
    """理赔所需资料 checklist rule."""

    class Scope(models.TextChoices):
        LOCAL = "local", "本地案件"
        OUT_OF_REGION = "out_of_region", "异地（现金垫付）案件"
        ANY = "any", "所有案件"

    class Condition(models.TextChoices):
        ALWAYS = "always", "必须提供"
        PAID_GTE = "paid_gte", "本层赔付金额达到门槛"
        TOTAL_GTE = "total_gte", "医疗总费用达到门槛"

    code = models.SlugField("资料代码", max_length=30)
    name = models.CharField("资料名称", max_length=120)
    scope = models.CharField("案件范围", max_length=20, choices=Scope.choices)
    condition = models.CharField("条件", max_length=12, choices=Condition.choices,
                                 default=Condition.ALWAYS)
    threshold = money_field("门槛金额（元）", null=True, blank=True)
    copies = models.PositiveSmallIntegerField("份数", default=1)
    seq = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "理赔资料要求"
        ordering = ["plan_year", "scope", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["plan_year", "scope", "code"], name="document_unique",
                                    violation_error_message="该案件范围已有此资料"),
            models.CheckConstraint(
                condition=Q(condition="always") | Q(threshold__isnull=False),
                name="document_threshold_needed",
                violation_error_message="按金额门槛的资料要求必须填写门槛金额"),
        ]

    def __str__(self):
        return row_label(self, "name")


class Holiday(models.Model):
    """Holiday calendar row for working-day deadlines: 法定节假日 or 调休上班日."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "法定节假日（休息）"
        WORKDAY = "workday", "调休上班日"

    region = models.ForeignKey(Region, verbose_name="统筹区（空 = 全国）", null=True, blank=True,
                               on_delete=models.CASCADE)
    date = models.DateField("日期")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    name = models.CharField("名称", max_length=30, blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "节假日日历"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(Coalesce("region", 0), "date", name="holiday_unique",
                                    violation_error_message="该日期已在日历中"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"


# --------------------------------------------------------------------------- access


class StaffProfile(models.Model):
    """Binds a staff user to the regions whose rows they may see and edit.

    Superusers see every region; a staff user without regions sees none.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="用户",
                                on_delete=models.CASCADE, related_name="staff_profile")
    regions = models.ManyToManyField(Region, verbose_name="负责统筹区", blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "经办人员区域"
        permissions = [("view_full_identity", "可查看完整身份证号和电话")]

    def __str__(self):
        return str(self.user)


class MaskingRule(ChecksInOneQuery, models.Model):
    """How a role sees one kind of personal data (个人信息保护法 §28, issue 15; docs/access.md
    §脱敏): in full, partly (the first ``keep_head`` and last ``keep_tail`` characters, the
    rest ``*``) or not at all. A user with several roles sees each field as the most
    revealing of their roles' rows; a user with no role row for a field falls back to the
    row without a role, then to ``policies.view_full_identity`` (full) or the partial
    default. Superusers see everything. Edited by superusers only. A name partly shown
    keeps its surname (``masking.mask_name``: ``keep_head`` characters, at least 1, one
    more for a name of four or more characters)."""

    class Field(models.TextChoices):
        DOCUMENT_NUMBER = "document_number", "证件号码"
        PHONE = "phone", "联系电话"
        BANK_ACCOUNT = "bank_account", "银行账号"
        BIRTH_DATE = "birth_date", "出生日期"
        NAME = "name", "姓名"

    class Mode(models.TextChoices):
        FULL = "full", "完整显示"
        PARTIAL = "partial", "部分遮盖"
        HIDDEN = "hidden", "完全隐藏"

    group = models.ForeignKey("auth.Group", verbose_name="角色", on_delete=models.CASCADE, null=True, blank=True,
                              related_name="masking_rules", help_text="留空：适用于没有角色规则的用户")
    field = models.CharField("信息类别", max_length=20, choices=Field.choices)
    mode = models.CharField("显示方式", max_length=10, choices=Mode.choices)
    keep_head = models.PositiveSmallIntegerField("保留前几位", default=0, validators=[MaxValueValidator(20)],
                                                 help_text="部分遮盖时显示的开头字符数")
    keep_tail = models.PositiveSmallIntegerField("保留后几位", default=0, validators=[MaxValueValidator(20)],
                                                 help_text="部分遮盖时显示的末尾字符数")
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "脱敏规则"
        ordering = ["group__name", "field"]
        constraints = [
            models.UniqueConstraint(fields=["group", "field"], condition=Q(group__isnull=False),
                                    name="masking_rule_once_per_role"),
            models.UniqueConstraint(fields=["field"], condition=Q(group__isnull=True),
                                    name="masking_rule_once_without_role"),
            models.CheckConstraint(condition=Q(mode__in=["full", "partial", "hidden"]), name="masking_rule_mode"),
            models.CheckConstraint(condition=Q(keep_head__lte=20) & Q(keep_tail__lte=20),
                                   name="masking_rule_keep_at_most_20"),
        ]

    def __str__(self):
        who = self.group.name if self.group_id else "其他用户"
        return f"{who}：{self.get_field_display()}{self.get_mode_display()}"


RULE_MODELS = [
    PlanFigure, EnrollmentWindow, ContributionStandard, SubsidyRule, PayerRelationRule,
    AutoEnrollmentRule, AnnualLimit,
    ApplicableClaimType, HospitalFeeClass, BenefitRule, LevelSubstitution, RatioAdjustment,
    CumulativeSegment, ChronicBenefit, TwoDiseaseBenefit, AdmissionCriterion,
    PreExistingCondition, Responsibility, ResponsibilityDrugRatio, ResponsibilityIdentityRatio,
    IncentiveRule, OutOfPocketCap, AssistanceRule, DocumentRule,
]
"""Every rule table owned by a plan year, in dependency order (rollover copies them in
this order, remapping the foreign keys between rows of the same plan year)."""


class DutySeparation(models.Model):
    """不相容岗位分离 (issue 16 §6; docs/money.md §岗位分离): an act (审核通过 a claim, 复核
    a refund, import a bank's returned file) that the person who did an earlier act on the
    same document may not do. A pair without a row is enforced; a bureau that must let one
    person do both unticks 须由不同人员办理 (the change is in the history)."""

    class Act(models.TextChoices):
        CLAIM_APPROVE = "claim_approve", "理赔审核通过"
        REFUND_APPROVE = "refund_approve", "退费复核通过"
        BANK_RETURN_IMPORT = "bank_return_import", "导入银行回盘"

    class Prior(models.TextChoices):
        CLAIM_ENTER = "claim_enter", "录入理赔"
        CLAIM_SETTLE = "claim_settle", "结算理赔"
        REFUND_RECORD = "refund_record", "登记退费"
        BATCH_CREATE = "batch_create", "生成支付批次"

    act = models.CharField("办理事项", max_length=30, choices=Act.choices)
    prior = models.CharField("不得由其办理的前序事项", max_length=30, choices=Prior.choices)
    enforced = models.BooleanField("须由不同人员办理", default=True)
    note = models.CharField("说明", max_length=200, blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "岗位分离规则"
        ordering = ["act", "prior"]
        constraints = [
            models.UniqueConstraint(fields=["act", "prior"], name="duty_separation_once",
                                    violation_error_message="该办理事项与前序事项的规则已存在"),
        ]

    def __str__(self):
        return f"{self.get_act_display()}与{self.get_prior_display()}"
