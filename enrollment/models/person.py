"""Insured persons, their special identities and family relations (spec README §2 参保人;
codes.md person categories, special identities, relations).

A person is identified by a document (居民身份证, 港澳台居民居住证, 外国人永久居留证, 出生医学证明);
the number is unique per document type. For the 18-character numbers the birth date and
sex are derived from the number and must agree with what is entered (``clean``).
"""
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from enrollment import documents
from policies import codes
from policies.history import AuditHistory
from policies.masking import shown_name

from .visibility import LoadedRegionsMixin


class Person(LoadedRegionsMixin, models.Model):
    """参保人."""

    loaded_region_fields = ("hukou_region_id", "residence_region_id")  # enrollment.signals: the visibility rows

    class DocumentType(models.TextChoices):
        ID_CARD = documents.ID_CARD, "居民身份证"
        HK_MACAU_TAIWAN = documents.HK_MACAU_TAIWAN, "港澳台居民居住证"
        FOREIGN_PERMANENT = documents.FOREIGN_PERMANENT, "外国人永久居留证"
        BIRTH_CERTIFICATE = documents.BIRTH_CERTIFICATE, "出生医学证明"

    class Sex(models.TextChoices):
        MALE = documents.MALE, "男"
        FEMALE = documents.FEMALE, "女"

    document_type = models.CharField("证件类型", max_length=20, choices=DocumentType.choices,
                                     default=DocumentType.ID_CARD)
    document_number = models.CharField("证件号码", max_length=30, db_index=True)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=6, choices=Sex.choices, blank=True,
                           help_text="居民身份证等 18 位证件可留空，按号码自动填写")
    birth_date = models.DateField("出生日期", blank=True,
                                  help_text="居民身份证等 18 位证件可留空，按号码自动填写")
    phone = models.CharField("联系电话", max_length=20, blank=True, validators=[
        RegexValidator(r"^[0-9+\-]{7,20}$", "联系电话只能包含 7–20 位数字、+ 或 -")])
    # indexed with the id (Meta.indexes): the list filtered by region, in id order
    hukou_region = models.ForeignKey("policies.Region", verbose_name="户籍所在地", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+",
                                     db_index=False)
    residence_region = models.ForeignKey("policies.Region", verbose_name="常住地", null=True,
                                         blank=True, on_delete=models.PROTECT, related_name="+",
                                         db_index=False)
    category = models.CharField("人员类别", max_length=20, choices=codes.PersonCategory.choices)
    resettled = models.BooleanField("异地安置", default=False,
                                    help_text="已办理异地安置备案（乐山：安置地就医按统筹区内比例）")
    long_term_resident = models.BooleanField(
        "在常住地长期居住（新市民）", default=False,
        help_text="基本医保在外地参保、在上方“常住地”长期居住的新市民（三明普惠医联保允许其参保）；"
                  "勾选时须填写常住地")
    hk_macao_taiwan = models.BooleanField("港澳台同胞", default=False,
                                          help_text="香港、澳门、台湾居民（三明普惠医联保：须同时在本省参加基本医保）")
    basic_insured_in_province = models.BooleanField(
        "在常住地所在省参加基本医保", default=False,
        help_text="在常住地所在省份参加了基本医疗保险（可在省内其他统筹区）；勾选时须填写常住地")
    bank_name = models.CharField("开户银行", max_length=60, blank=True)
    bank_account_name = models.CharField("账户名", max_length=50, blank=True)
    bank_account_number = models.CharField("银行账号", max_length=40, blank=True, validators=[
        RegexValidator(r"^[0-9]{8,30}$", "银行账号只能是 8–30 位数字")])
    bank_place = models.CharField("开户地", max_length=60, blank=True)
    note = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "参保人"
        ordering = ["id"]
        permissions = [("import_person", "可导入参保人表格")]
        # the name searched by its beginning (LIKE '张%') or whole: enrollment.admin.search
        indexes = [models.Index(fields=["name"], name="person_name_prefix", opclasses=["varchar_pattern_ops"]),
                   # the list's filters (ordered by id): 人员类别 as a range in id order; the
                   # rare flags as small partial indexes, so a flag no one has is an empty
                   # index, not a walk of every person (issue 17, docs/benchmarks.md)
                   models.Index(fields=["category", "id"], name="person_category"),
                   # 户籍所在地 / 常住地: the first page's ids read off the index, not a walk of
                   # the persons of other regions in id order (they are stored region by region
                   # when a county's file is imported); also the foreign keys' own index
                   models.Index(fields=["hukou_region", "id"], name="person_hukou_region"),
                   models.Index(fields=["residence_region", "id"], name="person_residence_region"),
                   models.Index(fields=["id"], condition=Q(resettled=True), name="person_resettled"),
                   models.Index(fields=["id"], condition=Q(long_term_resident=True),
                                name="person_long_term_resident"),
                   models.Index(fields=["id"], condition=Q(hk_macao_taiwan=True), name="person_hk_macao_taiwan")]
        constraints = [
            models.UniqueConstraint(fields=["document_type", "document_number"],
                                    name="person_document_unique",
                                    violation_error_message="该证件号码已登记"),
            models.CheckConstraint(condition=~Q(document_number=""), name="person_document_set",
                                   violation_error_message="请填写证件号码"),
        ]

    def __str__(self):
        # the name as the viewing user may see it (脱敏规则 姓名; full outside a request)
        return f"{shown_name(self.name)}（{documents.mask(self.document_number)}）"

    @classmethod
    def from_db(cls, db, field_names, values):
        """Remembers the loaded 人员类别 as ``_loaded_category`` (enrollment.signals: a save
        that changes it passes it on to the person's enrollments, no query otherwise)."""
        instance = super().from_db(db, field_names, values)
        if "category" in instance.__dict__:
            instance._loaded_category = instance.category
        return instance

    def clean(self):
        """Check the document number; derive or cross-check birth date and sex."""
        self.document_number, self.birth_date, self.sex, errors = self.document_checks(
            self.document_type, self.document_number, self.birth_date, self.sex)
        errors.update(self.residence_checks(self.long_term_resident, self.basic_insured_in_province,
                                            self.residence_region_id))
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def residence_checks(long_term_resident, basic_insured_in_province, residence_region_id) -> dict:
        """The facts that are relative to the 常住地 need one (errors by field)."""
        if residence_region_id is not None:
            return {}
        for flag, name in ((long_term_resident, "long_term_resident"),
                           (basic_insured_in_province, "basic_insured_in_province")):
            if flag:
                label = Person._meta.get_field(name).verbose_name
                return {"residence_region": f"已勾选“{label}”，请填写常住地"}
        return {}

    @classmethod
    def document_checks(cls, document_type, number, birth_date, sex):
        """``clean``'s checks on plain values (also used by the spreadsheet import, which
        builds no instance per row): (normalised number, birth date, sex, errors by
        field) — birth date and sex derived from the number when empty."""
        errors = {}
        number = documents.normalise(number)
        try:
            info = documents.check_normalised(document_type, number)
        except documents.DocumentError as exc:
            return number, birth_date, sex, {"document_number": exc.message}
        label = _DOCUMENT_LABELS.get(document_type) or cls.DocumentType(document_type).label
        if info.birth_date is not None:
            if birth_date is None:
                birth_date = info.birth_date
            elif birth_date != info.birth_date:
                errors["birth_date"] = (
                    f"出生日期 {birth_date.isoformat()} 与{label}号码中的出生日期 "
                    f"{info.birth_date.isoformat()} 不一致")
        if info.sex is not None:
            if not sex:
                sex = info.sex
            elif sex != info.sex:
                shown = dict(cls.Sex.choices).get(sex, sex)
                errors["sex"] = (f"性别“{shown}”与{label}号码显示的性别"
                                 f"“{cls.Sex(info.sex).label}”不一致")
        if birth_date is None and "birth_date" not in errors:
            errors["birth_date"] = "请填写出生日期"
        if not sex and "sex" not in errors:
            errors["sex"] = "请填写性别"
        return number, birth_date, sex, errors

    def fill_from_document(self) -> None:
        """Fill an empty birth date / sex from a valid 18-character number (no errors)."""
        try:
            info = documents.check_document(self.document_type, self.document_number)
        except documents.DocumentError:
            return
        self.document_number = info.number
        if self.birth_date is None and info.birth_date is not None:
            self.birth_date = info.birth_date
        if not self.sex and info.sex is not None:
            self.sex = info.sex

    @property
    def masked_document_number(self) -> str:
        return documents.mask(self.document_number)


_DOCUMENT_LABELS = {t.value: t.label for t in Person.DocumentType}  # document_checks, per row


class PersonIdentity(models.Model):
    """A special identity (特殊身份) held from ``valid_from`` to ``valid_to`` (inclusive;
    empty end = open), certified by a department (codes.md special identities)."""

    person = models.ForeignKey(Person, verbose_name="参保人", on_delete=models.CASCADE,
                               related_name="identities")
    identity = models.ForeignKey("policies.Identity", verbose_name="特殊身份",
                                 on_delete=models.PROTECT, related_name="holders")
    valid_from = models.DateField("认定起始日")
    valid_to = models.DateField("认定终止日", null=True, blank=True, help_text="空 = 长期有效")
    department = models.CharField("认定部门", max_length=30, choices=codes.Department.choices,
                                  blank=True, help_text="空 = 该身份的默认认定部门")
    document_ref = models.CharField("认定文书编号", max_length=60, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "参保人特殊身份"
        ordering = ["person", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="personidentity_valid_ordered",
                violation_error_message="认定起始日不能晚于认定终止日"),
            models.UniqueConstraint(fields=["person", "identity", "valid_from"],
                                    name="personidentity_unique",
                                    violation_error_message="该参保人已有同一起始日的该身份"),
        ]

    def __str__(self):
        end = self.valid_to.isoformat() if self.valid_to else "长期"
        return f"{self.identity}（{self.valid_from.isoformat()} 至 {end}）"

    def clean(self):
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValidationError({"valid_to": "认定终止日不能早于认定起始日"})
        if self.person_id and self.identity_id and self.valid_from:
            others = PersonIdentity.objects.filter(person_id=self.person_id,
                                                   identity_id=self.identity_id).exclude(pk=self.pk)
            for other in others:
                if (other.valid_to is None or self.valid_from <= other.valid_to) and (
                        self.valid_to is None or other.valid_from <= self.valid_to):
                    raise ValidationError({"valid_from": f"“{self.identity.name}”身份的认定期间"
                                                         f"与已登记的{other}重叠"})

    def valid_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


RELATION_CHOICES = [(c.value, c.label) for c in codes.Relation
                    if c.value in ("spouse", "child", "parent", "spouse_parent", "sibling", "guardian")]

INVERSE_RELATION = {"spouse": "spouse", "child": "parent", "parent": "child", "sibling": "sibling"}
"""``relative`` is the person's X ⇔ the person is the relative's INVERSE[X] (where the
inverse has a code; 配偶的父母 and 监护人 have none)."""


class FamilyRelation(models.Model):
    """``relative`` is ``person``'s ``relation`` (e.g. relation = child: the relative is
    the person's child)."""

    person = models.ForeignKey(Person, verbose_name="参保人", on_delete=models.CASCADE,
                               related_name="relations")
    relative = models.ForeignKey(Person, verbose_name="亲属", on_delete=models.CASCADE,
                                 related_name="relations_as_relative")
    relation = models.CharField("亲属是参保人的", max_length=20, choices=RELATION_CHOICES)
    note = models.CharField("备注", max_length=200, blank=True)
    history = AuditHistory()

    class Meta:
        verbose_name = verbose_name_plural = "家庭关系"
        ordering = ["person", "relation"]
        constraints = [
            models.CheckConstraint(condition=~Q(person=F("relative")), name="relation_not_self",
                                   violation_error_message="不能与本人建立家庭关系"),
            models.UniqueConstraint(fields=["person", "relative"], name="relation_unique",
                                    violation_error_message="这两人之间已登记家庭关系"),
        ]

    def __str__(self):
        return f"{shown_name(self.relative.name)} 是 {shown_name(self.person.name)} 的{self.get_relation_display()}"

    def clean(self):
        if self.person_id and self.person_id == self.relative_id:
            raise ValidationError({"relative": "不能与本人建立家庭关系"})
        if self.person_id and self.relative_id and self.relation:
            reverse = FamilyRelation.objects.filter(person_id=self.relative_id,
                                                    relative_id=self.person_id).first()
            if reverse is not None and INVERSE_RELATION.get(self.relation) != reverse.relation:
                raise ValidationError({"relation": (
                    f"已登记{reverse}，与“{shown_name(self.relative.name)} 是 {shown_name(self.person.name)} 的"
                    f"{self.get_relation_display()}”矛盾")})
