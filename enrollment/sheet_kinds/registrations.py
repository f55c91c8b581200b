"""Sheet kind ``registrations`` (门诊慢特病/两病申报, status 申报; with its export resource).

Spec README §2 (门诊慢特病登记: a person applies for a disease of the region's catalogue), §6
(every bad row reported with row and column, all-or-nothing); codes.md. The checks are the
model's own (``full_clean``: disease of the scheme's region) and the service's rule
(``registration_duplicate_check``), plus the same checks across the rows of the file; rows
are written through ``registration_submit``. Import permission: ``enrollment.add_registration``."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from import_export import fields as ie_fields

from enrollment.models import Registration
from enrollment.resources import SheetResource
from enrollment.services import registrations as services_registration
from enrollment.sheet_kinds.columns import (
    DOCUMENT_TYPES,
    ID_ALIASES,
    SCHEME_KINDS,
    document_number_cell,
)
from enrollment.sheet_kinds.rows import PersonRowsMixin, written
from policies import models as pm
from policies.access import scope_queryset
from policies.lookups import RegionLookup
from sheets.parsing import normalise_text, parse_bool, parse_date, parse_decimal, text
from sheets.registry import Column, SheetKind, register

EVIDENCE = {"hba1c": "糖化血红蛋白（%）", "fasting_glucose": "空腹血糖（mmol/L）",
            "random_glucose": "随机血糖（mmol/L）", "ogtt_2h": "葡萄糖负荷后 2 小时血糖（mmol/L）",
            "symptoms": "有糖尿病症状", "type1_confirmed": "确诊为Ⅰ型糖尿病",
            "needs_medication": "需采取药物治疗", "management_record": "卫生健康部门规范化管理"}
LABS = ("hba1c", "fasting_glucose", "random_glucose", "ogtt_2h")


def _f(attribute, header):
    return ie_fields.Field(attribute=attribute, column_name=header, readonly=True)





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
class RegistrationSheet(PersonRowsMixin, SheetKind):
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
            Column("document_number", "证件号码", document_number_cell, required=True, aliases=ID_ALIASES,
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
            written(services_registration.registration_submit, number, person=reg.person, scheme=reg.scheme,
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
