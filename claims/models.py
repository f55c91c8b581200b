"""Hospitals, claims (理赔/结算) and their settlement results (spec README §2 理赔/结算, §3
settlement-sheet amounts, §4 calculation, §6 bad input; codes.md hospitals and claim
types; leshan.md claim documents; liaocheng.md offline-review deadline).

- ``Hospital``: the 定点医疗机构 catalogue (codes.md attributes), shared by every region
  (a claim may be treated outside the person's region).
- ``Claim``: one settlement sheet — the amounts of README §3 and the facts the engine
  reads (``insurance_rules.facts.ClaimFacts``), the person, the pooling region, the plan
  year (= year of the service date, README §4.2), the hospital's settlement number
  (unique per hospital: re-importing never creates a duplicate) and the status
  workflow ``TRANSITIONS``.
- ``GivenLayer``: a layer's result taken from the hospital's settlement system (README
  §4.7), entered with the claim.
- ``ClaimLayer``: one result line per layer and settlement version. Re-settling writes a
  new version and keeps the old lines (``is_current = False``, README §4.8).
- ``ClaimDocument``: the 理赔所需资料 checklist generated from the ``DocumentRule`` rows on
  settlement; approval is refused while an item is missing (leshan.md).

Writes go through ``claims.services``; reads through ``claims.selectors``.
"""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from policies import codes
from policies.constraints import ChecksInOneQuery
from policies.history import AuditHistory
from policies.models import MONEY

NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
HALF_CENT = Decimal("0.005")


def amount_field(verbose_name, **kwargs):
    kwargs.setdefault("validators", NON_NEGATIVE)
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(verbose_name, **MONEY, **kwargs)


def non_negative(field, label):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
        name=f"%(app_label)s_%(class)s_{field}_nonneg",
        violation_error_message=f"“{label}”不能为负数")


class Hospital(ChecksInOneQuery, models.Model):
    """定点医疗机构 (codes.md Hospitals). ``region`` empty = outside every region of the
    system (its ``province`` then tells 省内异地 from 跨省)."""

    code = models.CharField("机构编码", max_length=30, unique=True)
    name = models.CharField("机构名称", max_length=120)
    region = models.ForeignKey("policies.Region", verbose_name="所在统筹区/区县", null=True,
                               blank=True, on_delete=models.PROTECT, related_name="hospitals",
                               help_text="空 = 本系统未登记的统筹区（统筹区外机构，按所在省份判断就医地）")
    province = models.CharField("所在省份", max_length=20, blank=True,
                                help_text="所在统筹区为空时必填，如“四川省”")
    level = models.PositiveSmallIntegerField("医院级别", choices=codes.HospitalLevel.choices)
    grade = models.CharField("等次", max_length=1, choices=codes.HospitalGrade.choices,
                             default=codes.HospitalGrade.UNGRADED)
    admin_level = models.CharField("行政级别", max_length=10, choices=codes.AdminLevel.choices,
                                   default=codes.AdminLevel.COUNTY)
    tcm = models.BooleanField("中医医疗机构", default=False)
    children = models.BooleanField("儿童医院或妇幼保健院", default=False)
    public = models.BooleanField("公立", default=True)
    cdrg = models.BooleanField("按C-DRG收付费", default=True,
                               help_text="按 C-DRG 付费方式结算住院费用（三明普惠医联保责任一以此为条件）")
    designated = models.BooleanField("定点医疗机构", default=True)
    note = models.CharField("备注", max_length=200, blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "医疗机构"
        ordering = ["code"]
        permissions = [("import_hospital", "可导入医疗机构表格")]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="hospital_level_1_3",
                                   violation_error_message="医院级别只能是 1、2 或 3"),
            models.CheckConstraint(condition=Q(region__isnull=False) | ~Q(province=""),
                                   name="hospital_region_or_province",
                                   violation_error_message="请选择所在统筹区或填写所在省份"),
        ]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @property
    def province_name(self) -> str:
        return self.region.province if self.region_id else self.province


SPARSE_LINKS = ("disease", "settled_by", "approved_by", "paid_by", "resettle_cause", "reversed_by", "created_by")
"""The claims' foreign keys mostly NULL, indexed where set (``Claim.Meta.indexes``)."""


class Claim(ChecksInOneQuery, models.Model):
    """一次住院/门诊（或一个月的门诊慢特病）的结算单 and its workflow."""

    class Status(models.TextChoices):
        DRAFT = "draft", "录入"
        SETTLED = "settled", "已结算"
        APPROVED = "approved", "已审核"
        PAID = "paid", "已支付"
        RETURNED = "returned", "退回"
        REVERSED = "reversed", "已冲正"
        VOID = "void", "作废"

    TRANSITIONS = {
        Status.DRAFT: (Status.SETTLED, Status.VOID),
        Status.SETTLED: (Status.SETTLED, Status.APPROVED, Status.RETURNED, Status.VOID),
        Status.APPROVED: (Status.PAID, Status.RETURNED, Status.REVERSED),
        Status.RETURNED: (Status.SETTLED, Status.VOID),
        Status.PAID: (Status.REVERSED,),
        # 冲正 (docs/money.md §冲正与重新结算): corrected and settled again, or voided
        Status.REVERSED: (Status.SETTLED, Status.VOID),
        Status.VOID: (),
    }
    EDITABLE = (Status.DRAFT, Status.RETURNED, Status.REVERSED)
    COUNTED = (Status.SETTLED, Status.APPROVED, Status.PAID)  # build the YTD history
    PENDING_REVIEW = (Status.DRAFT, Status.SETTLED, Status.RETURNED)  # not yet decided
    REVERSIBLE = (Status.APPROVED, Status.PAID)  # 冲正

    # who, where, when
    # no index of their own: each leads an index of Meta (claim_person_year,
    # claim_region_recent) or the unique (hospital, settlement_no)
    person = models.ForeignKey("enrollment.Person", verbose_name="参保人", on_delete=models.PROTECT,
                               related_name="claims", db_index=False)
    region = models.ForeignKey("policies.Region", verbose_name="参保统筹区",
                               on_delete=models.PROTECT, related_name="claims", db_index=False)
    year = models.PositiveSmallIntegerField("年度", editable=False,
                                            help_text="就诊（入院）日期所在年度")
    claim_type = models.CharField("就医类型", max_length=20, choices=codes.ClaimType.choices)
    service_date = models.DateField("就诊/入院日期")
    discharge_date = models.DateField("出院日期", null=True, blank=True)
    hospital = models.ForeignKey(Hospital, verbose_name="医疗机构", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="claims", db_index=False)
    settlement_no = models.CharField("医院结算单号", max_length=60,
                                     help_text="同一医疗机构内唯一（重复导入不会重复登记）")
    location = models.CharField("就医地", max_length=20, choices=codes.Location.choices,
                                blank=True, help_text="留空 = 按医疗机构所在地自动判断")
    filed = models.BooleanField("已办理转诊/异地就医备案", default=True)
    # settlement-sheet amounts (README §3)
    total = amount_field("医疗总费用")
    out_of_catalog = amount_field("全自费（目录外）费用")
    class_b_copay = amount_field("乙类先行自付")
    compliant = amount_field("政策范围内（合规）费用",
                             help_text="= 医疗总费用 − 全自费 − 乙类先行自付；留空自动计算")
    tcm_compliant = amount_field("中医药合规费用")
    special_drug = amount_field("特药/高额药品费用")
    drug_class_a = amount_field("甲类药品费用")
    drug_class_b = amount_field("乙类药品费用")
    class_b_items = models.DecimalField("乙类项目费用", **MONEY, null=True, blank=True,
                                        validators=NON_NEGATIVE,
                                        help_text="未填乙类先行自付时，按年度方案的乙类先行自付比例计算")
    out_of_catalog_controlled = amount_field("目录外控费范围内费用")
    # medical facts
    disease = models.ForeignKey("policies.ChronicDisease", verbose_name="病种", null=True,
                                blank=True, on_delete=models.PROTECT, related_name="claims",
                                help_text="门诊慢特病/两病必填", db_index=False)
    major_disease = models.CharField("三类大病", max_length=20, blank=True,
                                     choices=codes.MajorDisease.choices)
    special_b = models.BooleanField("B 类特殊疾病门诊", default=False)
    delivery_mode = models.CharField("分娩方式", max_length=10, blank=True,
                                     choices=codes.DeliveryMode.choices)
    drug_list = models.CharField("特药目录代码", max_length=30, blank=True,
                                 help_text="特药费用所属的药品目录（按本统筹区险种的保险责任）")
    drug_class = models.CharField("药品类别", max_length=1, blank=True,
                                  choices=codes.DrugClass.choices)
    # acceptance and offline review (liaocheng.md: 7 working days)
    accepted_on = models.DateField("受理日期")
    offline_review = models.BooleanField("需线下审核", default=False)
    review_due_date = models.DateField("审核期限", null=True, blank=True, editable=False,
                                       help_text="受理日期起按工作日计算（年度方案参考指标“线下审核时限（工作日）”）")
    # workflow
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.TextField("退回/作废/冲正原因", blank=True)
    settlement_version = models.PositiveIntegerField("结算版本", default=0, editable=False)
    fund_total = models.DecimalField("基金支付合计", **MONEY, null=True, blank=True, editable=False)
    personal = models.DecimalField("个人负担", **MONEY, null=True, blank=True, editable=False)
    settled_at = models.DateTimeField("结算时间", null=True, blank=True, editable=False)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="结算人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+",
                                   editable=False, db_index=False)
    approved_at = models.DateTimeField("审核时间", null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+",
                                    editable=False, db_index=False)
    paid_at = models.DateTimeField("支付时间", null=True, blank=True, editable=False)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="支付登记人", null=True,
                                blank=True, on_delete=models.PROTECT, related_name="+",
                                editable=False, db_index=False)
    # re-settlement after a reversal of a claim this one's result depended on
    needs_resettle = models.BooleanField(
        "待重新结算", default=False, editable=False,
        help_text="本人同年度先前计入累计的理赔被冲正、退回或重新结算后，本理赔的结算结果可能不再正确")
    resettle_reason = models.CharField("重新结算原因", max_length=300, blank=True, editable=False)
    resettle_cause = models.ForeignKey("self", verbose_name="引起重新结算的理赔", null=True,
                                       blank=True, on_delete=models.PROTECT, related_name="+",
                                       editable=False, db_index=False)
    reversed_at = models.DateTimeField("冲正时间", null=True, blank=True, editable=False)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="冲正人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+",
                                    editable=False, db_index=False)
    note = models.TextField("备注", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+",
                                   editable=False, db_index=False)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "理赔结算"
        ordering = ["-service_date", "-id"]
        permissions = [
            ("settle_claim", "可结算/重新结算理赔"),
            ("approve_claim", "可审核通过理赔"),
            ("reject_claim", "可退回/作废理赔"),
            ("pay_claim", "可登记理赔支付"),
            ("reverse_claim", "可冲正已审核/已支付的理赔"),
            ("import_claim", "可导入理赔结算单表格"),
        ]
        indexes = [
            models.Index(fields=["person", "year", "status"], name="claim_person_year"),
            # the claims list's ordering, for every user and for a one-region user
            # (docs/benchmarks.md §Admin pages at scale): page 1 reads the index, no sort
            models.Index(fields=["-service_date", "-id"], name="claim_recent"),
            models.Index(fields=["region", "-service_date", "-id"], name="claim_region_recent"),
            # the exact 结算单号 search (the unique constraint leads with the hospital)
            models.Index(fields=["settlement_no"], name="claim_settlement_no"),
            # the list's 待重新结算 / 需线下审核 / 线下审核期限 filters: flags few claims carry,
            # as partial indexes in the list's order, so a flag no claim in the list has is
            # an empty index, not a walk of every claim (issue 17, docs/benchmarks.md)
            models.Index(fields=["-service_date", "-id"], condition=Q(needs_resettle=True),
                         name="claim_needs_resettle"),
            models.Index(fields=["-service_date", "-id"], condition=Q(offline_review=True),
                         name="claim_offline_review"),
            # the links most claims leave empty (a disease for the chronic claims only, the
            # people of each step once it is taken, none for a system import or settlement):
            # partial indexes of the rows that have one, which the protected deletes and the
            # 病种 filter read, so an UPDATE of a claim without one adds no index entry
            # (issue 17 §4, docs/benchmarks.md)
            *(models.Index(fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"claim_{name}")
              for name in SPARSE_LINKS),
        ]
        constraints = [
            models.UniqueConstraint(fields=["hospital", "settlement_no"],
                                    name="claim_hospital_settlement_unique",
                                    violation_error_message="该医疗机构已登记此结算单号"),
            models.CheckConstraint(condition=~Q(settlement_no=""), name="claim_settlement_no_set",
                                   violation_error_message="请填写医院结算单号"),
            *(non_negative(f, label) for f, label in [
                ("total", "医疗总费用"), ("out_of_catalog", "全自费（目录外）费用"),
                ("class_b_copay", "乙类先行自付"), ("compliant", "政策范围内（合规）费用"),
                ("tcm_compliant", "中医药合规费用"), ("special_drug", "特药/高额药品费用"),
                ("drug_class_a", "甲类药品费用"), ("drug_class_b", "乙类药品费用"),
                ("class_b_items", "乙类项目费用"),
                ("out_of_catalog_controlled", "目录外控费范围内费用")]),
            # within half a cent: SQLite evaluates the arithmetic in binary floating point
            models.CheckConstraint(
                condition=Q(compliant__gt=F("total") - F("out_of_catalog") - F("class_b_copay")
                            - HALF_CENT)
                & Q(compliant__lt=F("total") - F("out_of_catalog") - F("class_b_copay") + HALF_CENT),
                name="claim_compliant_consistent",
                violation_error_message="合规费用必须等于 医疗总费用 − 全自费 − 乙类先行自付"),
            models.CheckConstraint(condition=Q(tcm_compliant__lte=F("compliant")),
                                   name="claim_tcm_within_compliant",
                                   violation_error_message="中医药合规费用不能超过合规费用"),
            models.CheckConstraint(condition=Q(special_drug__lte=F("total")),
                                   name="claim_special_drug_within_total",
                                   violation_error_message="特药费用不能超过医疗总费用"),
            models.CheckConstraint(
                condition=Q(discharge_date__isnull=True) | Q(discharge_date__gte=F("service_date")),
                name="claim_discharge_after_admission",
                violation_error_message="出院日期不能早于入院日期"),
            models.CheckConstraint(
                condition=~Q(status__in=["settled", "approved", "paid"]) | Q(settlement_version__gte=1),
                name="claim_settled_has_version",
                violation_error_message="已结算的理赔必须有结算结果"),
        ]

    def __str__(self):
        where = self.hospital.name if self.hospital_id else "无医疗机构"
        return f"{where} {self.settlement_no}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, ())

    def current_layers(self):
        return self.layers.filter(is_current=True).order_by("seq")


class GivenLayer(ChecksInOneQuery, models.Model):
    """A layer's result from the hospital's settlement system (README §4.7)."""

    claim = models.ForeignKey(Claim, verbose_name="理赔", on_delete=models.CASCADE,
                              related_name="given_layers")
    scheme_kind = models.CharField("险种类别", max_length=30, choices=codes.SchemeKind.choices)
    paid = amount_field("本层支付")
    deductible = amount_field("起付线")
    over_cap = amount_field("超封顶线合规费用")
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "带入的结算结果"
        ordering = ["claim", "id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "scheme_kind"], name="givenlayer_unique",
                                    violation_error_message="该险种的结算结果已带入"),
            non_negative("paid", "本层支付"), non_negative("deductible", "起付线"),
            non_negative("over_cap", "超封顶线合规费用"),
        ]

    def __str__(self):
        return f"{self.get_scheme_kind_display()}：{self.paid}"


class ClaimLayer(ChecksInOneQuery, models.Model):
    """One result line (one layer) of one settlement version of a claim."""

    claim = models.ForeignKey(Claim, verbose_name="理赔", on_delete=models.CASCADE,
                              related_name="layers")
    version = models.PositiveIntegerField("结算版本")
    is_current = models.BooleanField("当前结果", default=True,
                                     help_text="重新结算后，旧版本的结果保留为历史")
    seq = models.PositiveSmallIntegerField("结算顺序")
    scheme_kind = models.CharField("险种类别", max_length=30, choices=codes.SchemeKind.choices)
    scheme_name = models.CharField("险种名称", max_length=80)
    paid = models.DecimalField("本层支付", **MONEY)
    deductible = models.DecimalField("起付线", max_digits=16, decimal_places=4, default=Decimal("0"))
    ratio = models.DecimalField("报销比例（%）", max_digits=7, decimal_places=3, null=True, blank=True)
    capped = models.DecimalField("超限额未付", **MONEY, default=Decimal("0"))
    basis = models.DecimalField("计算基数", max_digits=18, decimal_places=6, null=True, blank=True)
    reason = models.CharField("不支付原因", max_length=40, blank=True)
    explanation = models.TextField("计算说明")
    param_refs = models.JSONField("使用的参数行", default=list, blank=True)
    items = models.JSONField("保险责任明细", default=list, blank=True)
    extra = models.JSONField("累计用数据", default=dict, blank=True)
    given = models.BooleanField("医院结算系统带入", default=False)
    settled_at = models.DateTimeField("结算时间")
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="结算人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "结算结果"
        ordering = ["claim", "-version", "seq"]
        indexes = [models.Index(fields=["claim", "is_current"], name="claimlayer_current")]
        constraints = [
            models.UniqueConstraint(fields=["claim", "version", "scheme_kind"],
                                    name="claimlayer_unique",
                                    violation_error_message="同一结算版本中险种重复"),
            non_negative("paid", "本层支付"), non_negative("capped", "超限额未付"),
            models.CheckConstraint(condition=Q(version__gte=1), name="claimlayer_version_1",
                                   violation_error_message="结算版本从 1 开始"),
        ]

    def __str__(self):
        return f"{self.scheme_name}：{self.paid}（第 {self.version} 版）"


class ClaimDocument(models.Model):
    """One item of the claim's 理赔所需资料 checklist (leshan.md; ``DocumentRule`` rows)."""

    claim = models.ForeignKey(Claim, verbose_name="理赔", on_delete=models.CASCADE,
                              related_name="documents")
    scheme_kind = models.CharField("险种类别", max_length=30, choices=codes.SchemeKind.choices)
    rule = models.ForeignKey("policies.DocumentRule", verbose_name="资料要求", null=True,
                             blank=True, on_delete=models.SET_NULL, related_name="+")
    code = models.CharField("资料代码", max_length=30)
    name = models.CharField("资料名称", max_length=120)
    copies = models.PositiveSmallIntegerField("份数", default=1)
    seq = models.PositiveSmallIntegerField("顺序", default=0)
    received = models.BooleanField("已收取", default=False)
    received_at = models.DateTimeField("收取时间", null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="收取人", null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "理赔所需资料"
        ordering = ["claim", "scheme_kind", "seq", "id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "scheme_kind", "code"],
                                    name="claimdocument_unique",
                                    violation_error_message="清单中已有此资料"),
        ]

    def __str__(self):
        return f"{self.name}（{self.copies} 份）{'✓' if self.received else ''}"
