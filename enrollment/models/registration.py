"""Chronic-disease (门诊慢特病) and “两病” registrations (spec README §2 门诊慢特病登记;
changzhi.md chronic-disease catalogue and “两病” admission criteria).

A person applies for a disease of the region's catalogue under a scheme; the evidence
(typed fields, blood-pressure readings) is checked against the admission criteria of the
scheme's plan year (``insurance_rules.enrollment.registration``); a reviewer holding
``enrollment.approve_registration`` approves or rejects; an approved registration has a
validity period (``valid_from`` – ``valid_to``, empty end = until terminated) and unlocks
the disease's outpatient benefit.

Status workflow (``TRANSITIONS``)::

    submitted 申报 → in_review 审核中 → approved 已批准 → terminated 已终止
                                    ↘ rejected 已驳回

Rejected and terminated are terminal. Writes go through
``enrollment.services.registrations``; every transition is kept twice: by
django-simple-history (the whole row) and by a ``RegistrationTransition`` row (who, when,
from, to, reason).
"""
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from policies.constraints import ChecksInOneQuery
from policies.history import AuditHistory
from policies.masking import shown_name

from .person import Person

LAB = {"max_digits": 5, "decimal_places": 2, "null": True, "blank": True,
       "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]}


class Registration(ChecksInOneQuery, models.Model):
    """门诊慢特病 / 两病 登记."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "申报"
        IN_REVIEW = "in_review", "审核中"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"
        TERMINATED = "terminated", "已终止"

    TRANSITIONS = {
        Status.SUBMITTED: (Status.IN_REVIEW,),
        Status.IN_REVIEW: (Status.APPROVED, Status.REJECTED),
        Status.APPROVED: (Status.TERMINATED,),
        Status.REJECTED: (),
        Status.TERMINATED: (),
    }
    PENDING = (Status.SUBMITTED, Status.IN_REVIEW)
    HELD = (Status.APPROVED, Status.TERMINATED)  # granted once; validity says until when

    person = models.ForeignKey(Person, verbose_name="参保人", on_delete=models.PROTECT,
                               related_name="registrations")
    scheme = models.ForeignKey("policies.Scheme", verbose_name="险种", on_delete=models.PROTECT,
                               related_name="registrations")
    disease = models.ForeignKey("policies.ChronicDisease", verbose_name="病种",
                                on_delete=models.PROTECT, related_name="registrations")
    application_date = models.DateField("申请日期")
    institution = models.CharField("受理机构", max_length=100, blank=True,
                                   help_text="如参保地乡镇卫生院")
    # evidence (证明材料)
    hba1c = models.DecimalField("糖化血红蛋白（%）", **LAB)
    fasting_glucose = models.DecimalField("空腹血糖（mmol/L）", **LAB,
                                          help_text="禁食至少 8 小时")
    random_glucose = models.DecimalField("随机血糖（mmol/L）", **LAB)
    ogtt_2h = models.DecimalField("葡萄糖负荷后 2 小时血糖（mmol/L）", **LAB)
    symptoms = models.BooleanField("有糖尿病症状", default=False,
                                   help_text="多尿、多饮及不能解释的体重下降")
    type1_confirmed = models.BooleanField("确诊为Ⅰ型糖尿病", default=False)
    needs_medication = models.BooleanField("需采取药物治疗", default=False)
    management_record = models.BooleanField(
        "卫生健康部门规范化管理", default=False,
        help_text="已纳入卫生健康部门规范化管理的“两病”患者直接纳入（须在资料说明中注明管理记录）")
    documents = models.TextField("资料说明", blank=True,
                                 help_text="住院病历、诊断证明/门诊手册、检验单、管理记录等")
    # workflow
    status = models.CharField("状态", max_length=12, choices=Status.choices,
                              default=Status.SUBMITTED)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")
    decision_date = models.DateField("审核决定日期", null=True, blank=True)
    reason = models.TextField("驳回/终止原因", blank=True)
    valid_from = models.DateField("有效期起", null=True, blank=True)
    valid_to = models.DateField("有效期止", null=True, blank=True, help_text="空 = 终止前长期有效")
    assessment = models.JSONField("审核时的准入标准结果", default=list, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "门诊慢特病登记"
        ordering = ["-application_date", "-id"]
        permissions = [("approve_registration", "可审批门诊慢特病/两病登记")]
        indexes = [models.Index(fields=["person", "status"], name="registration_person_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True)
                | Q(valid_from__lte=F("valid_to")),
                name="registration_valid_ordered",
                violation_error_message="有效期起不能晚于有效期止"),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "terminated"]) | Q(valid_from__isnull=False),
                name="registration_held_has_validity",
                violation_error_message="已批准的登记必须有有效期起"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="registration_rejected_has_reason",
                violation_error_message="驳回必须填写原因"),
        ]

    def __str__(self):
        return f"{shown_name(self.person.name)} · {self.disease}（{self.get_status_display()}）"

    def clean(self):
        errors = {}
        if self.scheme_id and self.disease_id and self.disease.region_id != self.scheme.region_id:
            errors["disease"] = (f"病种 {self.disease} 不属于险种“{self.scheme}”所在统筹区的病种目录")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            errors["valid_to"] = "有效期止不能早于有效期起"
        if errors:
            raise ValidationError(errors)

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, ())

    def valid_on(self, day) -> bool:
        return (self.status in self.HELD and self.valid_from is not None
                and self.valid_from <= day and (self.valid_to is None or day <= self.valid_to))


class PendingRegistration(Registration):
    """The reviewer's queue (待审核登记): submitted or in-review registrations."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "待审核登记"


class BloodPressureReading(models.Model):
    """A clinic blood-pressure reading at rest (诊室血压), evidence of a HBP registration."""

    registration = models.ForeignKey(Registration, verbose_name="登记", on_delete=models.CASCADE,
                                     related_name="bp_readings")
    date = models.DateField("测量日期")
    systolic = models.PositiveSmallIntegerField(
        "收缩压（mmHg）", validators=[MinValueValidator(1), MaxValueValidator(400)])
    diastolic = models.PositiveSmallIntegerField(
        "舒张压（mmHg）", validators=[MinValueValidator(1), MaxValueValidator(300)])
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "血压读数"
        ordering = ["registration", "date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(systolic__gt=F("diastolic")),
                                   name="bp_systolic_above_diastolic",
                                   violation_error_message="收缩压必须高于舒张压"),
        ]

    def __str__(self):
        return f"{self.date.isoformat()} {self.systolic}/{self.diastolic} mmHg"

    def clean(self):
        if self.systolic and self.diastolic and self.systolic <= self.diastolic:
            raise ValidationError({"diastolic": f"舒张压 {self.diastolic} 不低于收缩压 "
                                                f"{self.systolic}，请核对读数"})
        if (self.registration_id and self.date
                and self.date > self.registration.application_date):
            raise ValidationError({"date": f"测量日期 {self.date.isoformat()} 晚于申请日期 "
                                           f"{self.registration.application_date.isoformat()}"})


class RegistrationTransition(models.Model):
    """One status change of a registration: who, when, from, to, reason."""

    registration = models.ForeignKey(Registration, verbose_name="登记", on_delete=models.CASCADE,
                                     related_name="transitions")
    from_status = models.CharField("原状态", max_length=12, choices=Registration.Status.choices,
                                   blank=True, help_text="空 = 新申报")
    to_status = models.CharField("新状态", max_length=12, choices=Registration.Status.choices)
    at = models.DateTimeField("时间", default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True,
                           on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("原因/说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "登记状态变更"
        ordering = ["registration", "at", "id"]

    def __str__(self):
        frm = self.get_from_status_display() or "—"
        at = timezone.localtime(self.at) if timezone.is_aware(self.at) else self.at  # Asia/Shanghai
        return f"{frm} → {self.get_to_status_display()}（{at:%Y-%m-%d %H:%M}）"
