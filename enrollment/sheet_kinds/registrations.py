"""More spreadsheet kinds of the enrollment app (discovered like ``sheet_kinds``:
``SheetsConfig`` autodiscovers ``sheet_kinds_more`` too): ``registrations`` (门诊慢特病/两病
申报, status 申报), ``identities`` (特殊身份 with validity) and ``relations`` (家庭关系).

Spec README §2 (persons: special identities with validity dates, family relations;
门诊慢特病登记: a person applies for a disease of the region's catalogue), §6 (bad input:
every bad row reported with row and column, all-or-nothing); codes.md (codes or Chinese
names). The checks are the models' own (``full_clean``: overlapping identity periods,
contradicting reverse relations, disease of the scheme's region) and the services' rule
(``registration_duplicate_check``), plus the same checks across the rows of the file;
rows are written through the services (``registration_submit``, ``identity_add``,
``relation_add`` — the latter enrolls newborns automatically, as on the admin page).
Import permissions: the model's add permission (``enrollment.add_registration``,
``add_personidentity``, ``add_familyrelation``). docs/spreadsheets.md lists the columns.
"""
from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from import_export import fields as ie_fields

from enrollment import documents, selectors, services
from enrollment.models import FamilyRelation, Person, PersonIdentity, Registration
from enrollment.models.person import INVERSE_RELATION, RELATION_CHOICES
from enrollment.resources import FamilyRelationResource, PersonIdentityResource, SheetResource
from enrollment.services import registrations as services_registration
from enrollment.sheet_kinds.persons import DOCUMENT_TYPES, ID_ALIASES, SCHEME_KINDS
from insurance_rules.errors import CaseError
from policies import codes
from policies import models as pm
from policies.access import scope_queryset
from sheets.lookups import RegionLookup
from sheets.parsing import CodeTable, normalise_text, number_text, parse_bool, parse_date, parse_decimal, text
from sheets.registry import Column, SheetKind, register
from sheets.report import messages_by_field

DEPARTMENTS = CodeTable("认定部门", codes.Department.choices, {"退役军人事务局": "veterans",
                                                          "乡村振兴局": "rural_revitalization"})
RELATIONS = CodeTable("家庭关系", RELATION_CHOICES, {"儿子": "child", "女儿": "child", "丈夫": "spouse",
                                                 "妻子": "spouse", "父亲": "parent", "母亲": "parent"})
EVIDENCE = {"hba1c": "糖化血红蛋白（%）", "fasting_glucose": "空腹血糖（mmol/L）",
            "random_glucose": "随机血糖（mmol/L）", "ogtt_2h": "葡萄糖负荷后 2 小时血糖（mmol/L）",
            "symptoms": "有糖尿病症状", "type1_confirmed": "确诊为Ⅰ型糖尿病",
            "needs_medication": "需采取药物治疗", "management_record": "卫生健康部门规范化管理"}
LABS = ("hba1c", "fasting_glucose", "random_glucose", "ogtt_2h")


def _document_number(value) -> str:
    return documents.normalise(number_text(value, "证件号码"))


def _f(attribute, header):
    return ie_fields.Field(attribute=attribute, column_name=header, readonly=True)


def _written(call, number: int, *args, **kwargs):
    """Run a service in pass 2; a refusal (a concurrent change since pass 1) becomes an
    IntegrityError, which the engine reports and rolls everything back on."""
    try:
        return call(*args, **kwargs)
    except (ValidationError, CaseError) as exc:
        message = "；".join(exc.messages) if isinstance(exc, ValidationError) else exc.message
        raise IntegrityError(f"第 {number} 行：{message}") from exc


class _PersonsMixin:
    """Persons of a chunk by document number, and which of them the user may see."""

    def _persons(self, ctx, numbers) -> tuple[dict, set | None]:
        persons = defaultdict(list)
        for person in Person.objects.filter(document_number__in=numbers):
            persons[person.document_number].append(person)
        visible = None
        if not ctx.sees_all:
            ids = [p.pk for found in persons.values() for p in found]
            visible = set(selectors.persons_visible_to(ctx.user, Person.objects.filter(pk__in=ids))
                          .values_list("pk", flat=True))
        return persons, visible

    def _person(self, ctx, row, data, number_key, name_key, document_type=None):
        found = data["persons"].get(row[number_key], [])
        if document_type:
            found = [p for p in found if p.document_type == document_type]
        if not found:
            ctx.error(row, number_key, "未登记的参保人，请先导入或登记参保人")
            return None
        if len(found) > 1:
            ctx.error(row, number_key, "该号码对应多名参保人（证件类型不同），请填写证件类型")
            return None
        person = found[0]
        if data["visible"] is not None and person.pk not in data["visible"]:
            ctx.error(row, number_key, "该参保人不属于您负责的统筹区")
            return None
        if row[name_key] and row[name_key] != person.name:
            ctx.error(row, name_key, f"姓名与证件号码登记的姓名“{person.name}”不一致")
            return None
        return person

    def _report(self, ctx, row, exc, mapping) -> None:
        for field, messages in messages_by_field(exc).items():
            key = mapping.get(field, field if any(c.key == field for c in self.columns) else None)
            for message in messages:
                ctx.error(row, key, message, value=None if key in row.present else "")


# --------------------------------------------------------------------------- registrations


class RegistrationResource(SheetResource):
    """门诊慢特病/两病登记 (export): the registrations import columns plus the status and
    validity."""

    document_type = _f("person__document_type", "证件类型")
    document_number = _f("person__document_number", "证件号码")
    name = _f("person__name", "姓名")
    region = _f("scheme__region__name", "统筹区")
    scheme = _f("scheme__kind", "险种")
    disease = _f("disease__name", "病种")
    application_date = _f("application_date", "申请日期")
    institution = _f("institution", "受理机构")
    documents = _f("documents", "资料说明")
    hba1c = _f("hba1c", EVIDENCE["hba1c"])
    fasting_glucose = _f("fasting_glucose", EVIDENCE["fasting_glucose"])
    random_glucose = _f("random_glucose", EVIDENCE["random_glucose"])
    ogtt_2h = _f("ogtt_2h", EVIDENCE["ogtt_2h"])
    symptoms = _f("symptoms", EVIDENCE["symptoms"])
    type1_confirmed = _f("type1_confirmed", EVIDENCE["type1_confirmed"])
    needs_medication = _f("needs_medication", EVIDENCE["needs_medication"])
    management_record = _f("management_record", EVIDENCE["management_record"])
    status = _f("status", "状态")
    valid_from = _f("valid_from", "有效期起")
    valid_to = _f("valid_to", "有效期止")

    class Meta:
        model = Registration
        fields = ("document_type", "document_number", "name", "region", "scheme", "disease",
                  "application_date", "institution", "documents", *EVIDENCE, "status", "valid_from",
                  "valid_to")
        export_order = fields

    def dehydrate_document_type(self, obj):
        return obj.person.get_document_type_display()

    def dehydrate_document_number(self, obj):
        return self.id_number(obj.person.document_number)

    def dehydrate_scheme(self, obj):
        return obj.scheme.get_kind_display()

    def dehydrate_status(self, obj):
        return obj.get_status_display()

    def _yes_no(self, value):
        return "是" if value else "否"

    def dehydrate_symptoms(self, obj):
        return self._yes_no(obj.symptoms)

    def dehydrate_type1_confirmed(self, obj):
        return self._yes_no(obj.type1_confirmed)

    def dehydrate_needs_medication(self, obj):
        return self._yes_no(obj.needs_medication)

    def dehydrate_management_record(self, obj):
        return self._yes_no(obj.management_record)


@register
class RegistrationSheet(_PersonsMixin, SheetKind):
    """门诊慢特病/两病申报: one row = one application (status 申报). Key = (参保人, 病种,
    申请日期): the same application again is 无变化; the services' duplicate rule (a
    pending application, or a registration valid on the date, for the same disease) is
    an error, also between rows of the file."""

    name = "registrations"
    writes = ("enrollment.Registration",)
    label = "门诊慢特病登记"
    import_permission = "enrollment.add_registration"

    def __init__(self):
        self.resource_class = RegistrationResource
        self.regions = RegionLookup()
        self.columns = [
            Column("document_type", "证件类型", DOCUMENT_TYPES, default="", description="空 = 按证件号码查找"),
            Column("document_number", "证件号码", _document_number, required=True, aliases=ID_ALIASES,
                   description="须为已登记的参保人"),
            Column("name", "姓名", text, description="填写时须与登记的姓名一致"),
            Column("region", "统筹区", self.regions, required=True, description="行政区划代码或名称"),
            Column("scheme", "险种", text, required=True,
                   description=f"险种类别代码或名称，或险种名称：{SCHEME_KINDS.describe()}"),
            Column("disease", "病种", text, required=True, aliases=("病种代码", "病种名称"),
                   description="该统筹区病种目录的代码或名称"),
            Column("application_date", "申请日期", parse_date, required=True),
            Column("institution", "受理机构", text, default=""),
            Column("documents", "资料说明", text, default=""),
            *(Column(key, header, parse_decimal, description="0–100，可空")
              for key, header in EVIDENCE.items() if key in LABS),
            *(Column(key, header, parse_bool, default=False, description="是/否，空 = 否")
              for key, header in EVIDENCE.items() if key not in LABS),
            *(Column(key, header, export_only=True) for key, header in (
                ("status", "状态"), ("valid_from", "有效期起"), ("valid_to", "有效期止"))),
        ]

    def start(self, ctx):
        diseases = {}
        for disease in pm.ChronicDisease.objects.all():
            for value in (disease.code, disease.name):
                diseases.setdefault((disease.region_id, normalise_text(value).lower()), disease)
        ctx.state.update(seen={}, diseases=diseases,
                         schemes=list(pm.Scheme.objects.select_related("region")))

    def _scheme(self, ctx, region, value):
        try:
            kind = SCHEME_KINDS(value)
        except Exception:
            kind = None
        for scheme in ctx.state["schemes"]:
            if scheme.region_id == region.pk and (scheme.kind == kind or scheme.name == text(value)):
                return scheme
        return None

    def check(self, rows, ctx):
        data = dict(zip(("persons", "visible"), self._persons(ctx, {r["document_number"] for r in rows}),
                        strict=True))
        work = []
        for row in rows:
            person = self._person(ctx, row, data, "document_number", "name", row["document_type"])
            if person is None:
                continue
            region = row["region"].pooling_region
            if not ctx.in_scope(region.pk):
                ctx.error(row, "region", f"统筹区“{region.name}”不属于您负责的统筹区", value="")
                continue
            scheme = self._scheme(ctx, region, row["scheme"])
            if scheme is None:
                ctx.error(row, "scheme", f"{region.name}没有险种“{row['scheme']}”")
                continue
            disease = ctx.state["diseases"].get((region.pk, normalise_text(row["disease"]).lower()))
            if disease is None:
                ctx.error(row, "disease", f"{region.name}的病种目录中没有“{row['disease']}”（填病种代码或名称）")
                continue
            key = (person.pk, disease.pk)
            if key in ctx.state["seen"]:
                ctx.error(row, "disease", f"与第 {ctx.state['seen'][key]} 行重复（同一参保人同一病种不能重复申报）")
                continue
            ctx.state["seen"][key] = row.number
            work.append((row, person, scheme, disease))
        existing = {}
        if work:
            for reg in Registration.objects.filter(person_id__in={p.pk for _r, p, _s, _d in work},
                                                   disease_id__in={d.pk for *_x, d in work}):
                existing[(reg.person_id, reg.disease_id, reg.application_date)] = reg
        planned = []
        for row, person, scheme, disease in work:
            recorded = existing.get((person.pk, disease.pk, row["application_date"]))
            if recorded is not None:
                if recorded.scheme_id == scheme.pk and (not row["institution"]
                                                        or row["institution"] == recorded.institution):
                    ctx.count("unchanged")
                else:
                    ctx.error(row, "disease", f"该参保人 {row['application_date'].isoformat()} 的病种 {disease} "
                                              f"申报已登记（{recorded.get_status_display()}），与本行不一致")
                continue
            evidence = {key: row[key] for key in EVIDENCE}
            registration = Registration(person=person, scheme=scheme, disease=disease,
                                        application_date=row["application_date"],
                                        institution=row["institution"], documents=row["documents"],
                                        **evidence)
            try:
                services_registration.registration_duplicate_check(
                    person=person, disease=disease, application_date=row["application_date"])
                registration.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                self._report(ctx, row, exc, {None: "disease"})
                continue
            ctx.count("created")
            planned.append((row.number, registration))
        return planned

    def write(self, planned, ctx):
        for number, reg in planned:
            _written(services_registration.registration_submit, number, person=reg.person, scheme=reg.scheme,
                     disease=reg.disease, application_date=reg.application_date, acting_user=ctx.user,
                     institution=reg.institution, documents=reg.documents,
                     **{key: getattr(reg, key) for key in EVIDENCE})

    def export_queryset(self, user, *, region=None, year=None):
        qs = Registration.objects.all()
        if user is not None:
            qs = scope_queryset(qs, user, "scheme__region")
        if region is not None:
            qs = qs.filter(scheme__region__in=self.regions.with_descendants(region))
        if year is not None:
            qs = qs.filter(application_date__year=year)
        return qs.select_related("person", "scheme__region", "disease").order_by("pk")


# --------------------------------------------------------------------------- identities


@register
class IdentitySheet(_PersonsMixin, SheetKind):
    """参保人特殊身份: key = (参保人, 特殊身份, 认定起始日); the same row again is 无变化, a
    different one with that key an error; periods of one identity may not overlap (also
    between rows of the file)."""

    name = "identities"
    writes = ("enrollment.PersonIdentity",)
    label = "特殊身份"
    import_permission = "enrollment.add_personidentity"

    def __init__(self):
        self.resource_class = PersonIdentityResource
        self.columns = [
            Column("document_number", "证件号码", _document_number, required=True, aliases=ID_ALIASES,
                   description="须为已登记的参保人"),
            Column("name", "姓名", text, description="填写时须与登记的姓名一致"),
            Column("identity", "特殊身份", text, required=True, aliases=("身份", "身份类别"),
                   description="特殊身份代码或名称（如 低保对象）"),
            Column("valid_from", "认定起始日", parse_date, required=True, aliases=("有效期起",)),
            Column("valid_to", "认定终止日", parse_date, aliases=("有效期止",), description="空 = 长期有效"),
            Column("department", "认定部门", DEPARTMENTS, default="",
                   description=f"空 = 该身份的默认认定部门。{DEPARTMENTS.describe()}"),
            Column("document_ref", "认定文书编号", text, default=""),
            Column("note", "备注", text, default=""),
        ]

    def start(self, ctx):
        identities = {}
        for identity in pm.Identity.objects.all():
            for value in (identity.code, identity.name):
                identities.setdefault(normalise_text(value).lower(), identity)
        ctx.state.update(identities=identities, periods=defaultdict(list))

    def check(self, rows, ctx):
        data = dict(zip(("persons", "visible"), self._persons(ctx, {r["document_number"] for r in rows}),
                        strict=True))
        work = []
        for row in rows:
            person = self._person(ctx, row, data, "document_number", "name")
            if person is None:
                continue
            identity = ctx.state["identities"].get(normalise_text(row["identity"]).lower())
            if identity is None:
                names = "、".join(sorted({i.name for i in ctx.state["identities"].values()}))
                ctx.error(row, "identity", f"未知的特殊身份“{row['identity']}”；可填代码或名称：{names}")
                continue
            work.append((row, person, identity))
        existing = {}
        if work:
            for pi in PersonIdentity.objects.filter(person_id__in={p.pk for _r, p, _i in work}):
                existing[(pi.person_id, pi.identity_id, pi.valid_from)] = pi
        planned = []
        for row, person, identity in work:
            department = row["department"] or identity.department
            recorded = existing.get((person.pk, identity.pk, row["valid_from"]))
            if recorded is not None:
                same = (recorded.valid_to == row["valid_to"] and recorded.department == department
                        and recorded.document_ref == row["document_ref"] and recorded.note == row["note"])
                if same:
                    ctx.count("unchanged")
                else:
                    ctx.error(row, "valid_from", f"已登记{recorded}，与本行不一致（认定终止日、认定部门、"
                                                 f"文书编号或备注不同）")
                continue
            obj = PersonIdentity(person=person, identity=identity, valid_from=row["valid_from"],
                                 valid_to=row["valid_to"], department=department,
                                 document_ref=row["document_ref"], note=row["note"])
            try:
                obj.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                self._report(ctx, row, exc, {None: "valid_from"})
                continue
            periods = ctx.state["periods"][(person.pk, identity.pk)]
            clash = next((n for n, start, end in periods
                          if (end is None or obj.valid_from <= end)
                          and (obj.valid_to is None or start <= obj.valid_to)), None)
            if clash is not None:
                ctx.error(row, "valid_from", f"“{identity.name}”身份的认定期间与第 {clash} 行重叠")
                continue
            periods.append((row.number, obj.valid_from, obj.valid_to))
            ctx.count("created")
            planned.append((row.number, obj))
        return planned

    def write(self, planned, ctx):
        for number, obj in planned:
            _written(services.identity_add, number, person=obj.person, identity=obj.identity,
                     valid_from=obj.valid_from, valid_to=obj.valid_to, department=obj.department,
                     document_ref=obj.document_ref, note=obj.note, acting_user=ctx.user)

    def export_queryset(self, user, *, region=None, year=None):
        persons = Person.objects.all() if user is None else selectors.persons_visible_to(user)
        qs = PersonIdentity.objects.filter(person__in=persons)
        if year is not None:
            qs = qs.filter(valid_from__year__lte=year).exclude(valid_to__year__lt=year)
        return qs.select_related("person", "identity").order_by("pk")


# --------------------------------------------------------------------------- relations


@register
class RelationSheet(_PersonsMixin, SheetKind):
    """家庭关系 (亲属是参保人的 …): key = (参保人, 亲属); the same relation again is 无变化,
    another one an error; a contradicting reverse relation (recorded or in the file) is an
    error."""

    name = "relations"
    writes = ("enrollment.FamilyRelation",)
    label = "家庭关系"
    import_permission = "enrollment.add_familyrelation"

    def __init__(self):
        self.resource_class = FamilyRelationResource
        self.columns = [
            Column("document_number", "参保人证件号码", _document_number, required=True,
                   description="须为已登记的参保人"),
            Column("name", "参保人姓名", text),
            Column("relation", "亲属是参保人的", RELATIONS, required=True, aliases=("关系", "与参保人关系"),
                   description=RELATIONS.describe()),
            Column("relative_number", "亲属证件号码", _document_number, required=True,
                   description="须为已登记的参保人"),
            Column("relative_name", "亲属姓名", text),
            Column("note", "备注", text, default=""),
        ]

    def start(self, ctx):
        ctx.state["pairs"] = {}  # (person id, relative id) → (row number, relation)

    def check(self, rows, ctx):
        numbers = {r["document_number"] for r in rows} | {r["relative_number"] for r in rows}
        data = dict(zip(("persons", "visible"), self._persons(ctx, numbers), strict=True))
        work = []
        for row in rows:
            person = self._person(ctx, row, data, "document_number", "name")
            relative = self._person(ctx, row, data, "relative_number", "relative_name")
            if person is None or relative is None:
                continue
            if person.pk == relative.pk:
                ctx.error(row, "relative_number", "不能与本人建立家庭关系")
                continue
            pairs = ctx.state["pairs"]
            if (person.pk, relative.pk) in pairs:
                ctx.error(row, "relative_number", f"这两人之间的关系与第 {pairs[(person.pk, relative.pk)][0]} 行重复")
                continue
            reverse = pairs.get((relative.pk, person.pk))
            if reverse is not None and INVERSE_RELATION.get(row["relation"]) != reverse[1]:
                ctx.error(row, "relation", f"与第 {reverse[0]} 行登记的关系矛盾")
                continue
            pairs[(person.pk, relative.pk)] = (row.number, row["relation"])
            work.append((row, person, relative))
        existing = {}
        if work:
            for fr in FamilyRelation.objects.filter(person_id__in={p.pk for _r, p, _x in work}):
                existing[(fr.person_id, fr.relative_id)] = fr
        planned = []
        for row, person, relative in work:
            recorded = existing.get((person.pk, relative.pk))
            if recorded is not None:
                if recorded.relation == row["relation"]:
                    ctx.count("unchanged")
                else:
                    ctx.error(row, "relation", f"已登记“{relative.name} 是 {person.name} 的"
                                               f"{recorded.get_relation_display()}”，与本行不一致")
                continue
            obj = FamilyRelation(person=person, relative=relative, relation=row["relation"], note=row["note"])
            try:
                obj.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                self._report(ctx, row, exc, {"relative": "relative_number", None: "relation"})
                continue
            ctx.count("created")
            planned.append((row.number, obj))
        return planned

    def write(self, planned, ctx):
        for number, obj in planned:
            _written(services.relation_add, number, person=obj.person, relative=obj.relative,
                     relation=obj.relation, note=obj.note, acting_user=ctx.user)

    def export_queryset(self, user, *, region=None, year=None):
        persons = Person.objects.all() if user is None else selectors.persons_visible_to(user)
        return (FamilyRelation.objects.filter(person__in=persons)
                .select_related("person", "relative").order_by("pk"))

