"""Sheet kind ``registrations`` (门诊慢特病/两病申报, status 申报).

Spec README §2 (门诊慢特病登记: a person applies for a disease of the region's catalogue), §6
(every bad row reported with row and column, all-or-nothing); codes.md. The checks are the
model's own (``full_clean``: disease of the scheme's region) and the service's rule
(``registration_duplicate_check``), plus the same checks across the rows of the file; rows
are written through ``registration_submit``. Import permission: ``enrollment.add_registration``."""
from __future__ import annotations

from django.core.exceptions import ValidationError

from enrollment.models import Registration
from enrollment.services import registrations as services_registration
from enrollment.sheet_kinds.columns import (
    DOCUMENT_TYPES,
    ID_ALIASES,
    SCHEME_KINDS,
    document_number_cell,
)
from enrollment.sheet_kinds.rows import PersonRowsMixin, written
from policies import models as pm
from policies.lookups import RegionLookup
from policies.masking import masked_id, masked_name
from sheets.parsing import normalise_text, parse_bool, parse_date, parse_decimal, text
from sheets.registry import Column, SheetKind, register

EVIDENCE = {"hba1c": "糖化血红蛋白（%）", "fasting_glucose": "空腹血糖（mmol/L）",
            "random_glucose": "随机血糖（mmol/L）", "ogtt_2h": "葡萄糖负荷后 2 小时血糖（mmol/L）",
            "symptoms": "有糖尿病症状", "type1_confirmed": "确诊为Ⅰ型糖尿病",
            "needs_medication": "需采取药物治疗", "management_record": "卫生健康部门规范化管理"}
LABS = ("hba1c", "fasting_glucose", "random_glucose", "ogtt_2h")


@register
class RegistrationSheet(PersonRowsMixin, SheetKind):
    """门诊慢特病/两病申报: one row = one application (status 申报). Key = (参保人, 病种,
    申请日期): the same application again is 无变化; the services' duplicate rule (a
    pending application, or a registration valid on the date, for the same disease) is
    an error, also between rows of the file."""

    name = "registrations"
    model = Registration
    writes = ("enrollment.Registration",)
    label = "门诊慢特病登记"
    import_permission = "enrollment.add_registration"

    def __init__(self):
        self.regions = RegionLookup()
        self.columns = [
            Column("document_type", "证件类型", DOCUMENT_TYPES, default="", description="空 = 按证件号码查找",
                   attribute="person__document_type"),
            Column("document_number", "证件号码", document_number_cell, required=True, aliases=ID_ALIASES,
                   description="须为已登记的参保人", attribute="person__document_number", mask=masked_id),
            Column("name", "姓名", text, description="填写时须与登记的姓名一致", attribute="person__name",
                   mask=masked_name),
            Column("region", "统筹区", self.regions, required=True, description="行政区划代码或名称",
                   attribute="scheme__region"),
            Column("scheme", "险种", text, required=True,
                   description=f"险种类别代码或名称，或险种名称：{SCHEME_KINDS.describe()}",
                   attribute="scheme__kind", render=SCHEME_KINDS.label),
            Column("disease", "病种", text, required=True, aliases=("病种代码", "病种名称"),
                   description="该统筹区病种目录的代码或名称", attribute="disease__name"),
            Column("application_date", "申请日期", parse_date, required=True),
            Column("institution", "受理机构", text, default=""),
            Column("documents", "资料说明", text, default=""),
            *(Column(key, header, parse_decimal, description="0–100，可空")
              for key, header in EVIDENCE.items() if key in LABS),
            *(Column(key, header, parse_bool, default=False, description="是/否，空 = 否")
              for key, header in EVIDENCE.items() if key not in LABS),
            Column("status", "状态", export_only=True, export=lambda obj, _resource: obj.get_status_display()),
            Column("valid_from", "有效期起", export_only=True),
            Column("valid_to", "有效期止", export_only=True),
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
        qs = self.regions.exported(Registration.objects.all(), user, "scheme__region", region)
        if year is not None:
            qs = qs.filter(application_date__year=year)
        return qs.select_related("person", "scheme__region", "disease").order_by("pk")
