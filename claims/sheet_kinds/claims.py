"""Sheet kind ``claims`` (the
hospitals' monthly settlement lists: one row = one settlement sheet, imported in status
录入; ``settle_claims`` — or ``import_sheet claims … --settle`` — settles them).

Spec README §3 (settlement-sheet amounts), §4.7 (given layers), §6 (bad input: every bad
row reported with row and column, all-or-nothing; a claim dated outside coverage,
negative or inconsistent amounts, an unknown code); codes.md (hospital attributes, claim
types: code or Chinese name). A claim row is checked by the service's own functions
(``services.claim_derive`` + ``services.claim_validate``, whose amount checks are
``insurance_rules.claim_amounts``: compliant = total − out of catalogue − class-B copay,
class-B copay from class-B items, year, region, location,
coverage on the service date, given layers only for schemes held); the settlement
number is checked in bulk against the file and the database (key = (医疗机构,
结算单号): the same row again is 无变化, a different row with that key an error).
docs/spreadsheets.md lists the columns.

A row is checked as values (issue 17 §3: a ``Claim`` per row and its ``full_clean`` were
half of a row's time): a ``ClaimDraft`` carries what the service checks read, the
persons and their enrollments of a chunk are read as values (``fetch.enrollments_of_years``),
the fields' own checks run on the row's dict of columns (``sheets.fieldcheck``: the
messages of ``Claim.full_clean``), and that dict is what ``write`` inserts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone

from claims import batch, fetch, services
from claims.models import Claim, GivenLayer, Hospital
from claims.sheet_kinds.columns import (
    AMOUNTS,
    CHANGE_REASON,
    CLAIM_TYPES,
    COMPARED,
    DELIVERY_MODES,
    DRUG_CLASSES,
    GIVEN_NAMES,
    GIVEN_PART_ALIASES,
    GIVEN_PARTS,
    LOCATIONS,
    MAJOR_DISEASES,
    STATUSES,
    ZERO,
    code_cell,
    given_header,
    given_key,
    given_value,
    settlement_no_cell,
)
from enrollment import documents
from enrollment.models import Person
from enrollment.selectors import persons_visible_to
from enrollment.sheet_kinds.columns import (
    DOCUMENT_TYPES,
    ID_ALIASES,
    document_number_cell,
)
from insurance_rules.claim_amounts import compliant_of
from policies import codes
from policies.lookups import RegionLookup
from policies.masking import mask_for_user_or_system, masked_id, masked_name
from policies.models import ChronicDisease
from sheets.bulk_sql import InArray, insert_history, insert_values
from sheets.fieldcheck import field_errors, unchanged_checker
from sheets.parsing import normalise_text, parse_bool, parse_date, parse_decimal, text
from sheets.registry import Column, SheetKind, register
from sheets.report import messages_by_field

_EXCLUDED = ["person", "region", "hospital", "disease", "created_by"]  # checked by the kind itself
# the fields Claim.full_clean(exclude=_EXCLUDED) cleans (Claim.clean is Model's: nothing)
_CLEANED = [f for f in Claim._meta.concrete_fields if f.name not in _EXCLUDED and not f.generated]
# the columns of a new claim that the sheet does not fill, as Claim() leaves them; the
# status as its plain value, "draft" (录入), not the enum member, so that the fields'
# quick check (sheets.fieldcheck: exact types) passes it
_NEW_CLAIM = {f.attname: f.get_default() for f in Claim._meta.concrete_fields
              if not f.primary_key and not (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))}
_NEW_CLAIM["status"] = Claim.Status.DRAFT.value
# the plain values of a draft, stored as they are
_VALUES = ("claim_type", "service_date", "discharge_date", "settlement_no", "location", "filed", *AMOUNTS,
           "major_disease", "special_b", "delivery_mode", "drug_list", "drug_class", "accepted_on",
           "offline_review", "note", "year", "review_due_date")
# The fields' quick check (Claim.full_clean's common path) of a row runs over the columns
# the row sets; the others hold _NEW_CLAIM's constants, checked once here (a field's
# check reads its own value only). Should they ever fail, every row checks every field.
_SET_BY_ROW = frozenset({*_VALUES, "person_id", "region_id", "hospital_id", "disease_id", "created_by_id"})
_CONSTANTS_PASS = unchanged_checker(f for f in _CLEANED if f.attname not in _SET_BY_ROW)(_NEW_CLAIM)
_CLAIM_FIELDS_PASS = unchanged_checker(f for f in _CLEANED if f.attname in _SET_BY_ROW or not _CONSTANTS_PASS)


class SheetPerson(NamedTuple):
    """A registered person as the sheet reads it (values, no model instance): what the
    row checks and the service checks read of ``claim.person``."""

    pk: int
    document_type: str
    document_number: str
    name: str


@dataclass(slots=True)
class ClaimDraft:
    """One row of the sheet as the claim it would enter, in values: the attributes that
    ``services.claim_derive``/``claim_validate`` and ``selectors.review_due_date`` read
    and fill of a ``Claim`` (``person``/``region``/``hospital``/``disease`` and their
    ``*_id``), without a model instance per row. Not frozen: ``claim_derive`` fills
    the derived fields in place, as it does on a ``Claim``."""

    person: SheetPerson
    region: object  # policies.Region or None until derived
    hospital: Hospital
    claim_type: str
    service_date: date
    discharge_date: date | None
    settlement_no: str
    location: str
    filed: bool
    total: Decimal
    out_of_catalog: Decimal
    class_b_copay: Decimal
    compliant: Decimal | None
    tcm_compliant: Decimal
    special_drug: Decimal
    drug_class_a: Decimal
    drug_class_b: Decimal
    class_b_items: Decimal | None
    out_of_catalog_controlled: Decimal
    major_disease: str
    special_b: bool
    delivery_mode: str
    drug_list: str
    drug_class: str
    accepted_on: date | None
    offline_review: bool
    note: str
    disease: object = None  # policies.ChronicDisease
    year: int | None = None
    review_due_date: date | None = None

    @property
    def person_id(self) -> int:
        return self.person.pk

    @property
    def region_id(self) -> int | None:
        return None if self.region is None else self.region.pk

    @property
    def hospital_id(self) -> int | None:
        return None if self.hospital is None else self.hospital.pk

    @property
    def disease_id(self) -> int | None:
        return None if self.disease is None else self.disease.pk

    def values(self, created_by_id) -> dict:
        """The row of the new claim (attname → value; ``bulk_sql.insert_values`` adds the
        key and the time of entry)."""
        row = dict(_NEW_CLAIM)
        for name in _VALUES:
            row[name] = getattr(self, name)
        row.update(person_id=self.person.pk, region_id=self.region_id, hospital_id=self.hospital_id,
                   disease_id=self.disease_id, created_by_id=created_by_id)
        return row

# what a recorded claim is compared on (a row whose settlement number it holds)
_RECORDED = tuple(dict.fromkeys(("id", "hospital_id", "settlement_no", "person_id", "region_id", "disease_id",
                                  "accepted_on", "service_date", "status", *COMPARED)))


class _Recorded(NamedTuple("_Recorded", [(name, object) for name in (*_RECORDED, "person_name")])):
    """A stored claim read as the values of ``_RECORDED`` and its person's name."""

    @property
    def pk(self) -> int:
        return self.id


_GIVEN_KEYS = [(kind, {part: given_key(kind, part) for part in GIVEN_PARTS}) for kind in GIVEN_NAMES]


@register
class ClaimSheet(SheetKind):
    """结算单（医院月度结算清单）: one row = one settlement sheet, entered in status 录入;
    key = (医疗机构编码, 医院结算单号). See the module docstring."""

    name = "claims"
    model = Claim
    writes = ("claims.Claim", "claims.GivenLayer")
    label = "理赔结算单"
    import_permission = "claims.import_claim"
    one_pass = True  # a sheet of the file is found through ctx.state["seen"] first

    def __init__(self):
        self.regions = RegionLookup()
        self.imported_ids: list[int] = []  # claims created by the last import (``--settle``)

        def amount(key, header, *, required=False, default=ZERO, aliases=(), description="元，两位小数；空 = 0",
                   render=None):
            return Column(key, header, parse_decimal, required=required, default=default,
                          aliases=aliases, description=description, render=render)

        self.columns = [
            Column("document_type", "证件类型", DOCUMENT_TYPES, default=documents.ID_CARD,
                   description="空 = 居民身份证", attribute="person__document_type"),
            Column("document_number", "证件号码", document_number_cell, required=True,
                   aliases=ID_ALIASES, description="须为已登记的参保人；请设为文本格式",
                   attribute="person__document_number", mask=masked_id),
            Column("name", "姓名", text, aliases=("参保人姓名",), description="填写时须与登记的姓名一致",
                   attribute="person__name", mask=masked_name),
            Column("region", "参保统筹区", self.regions, aliases=("参保地", "统筹区"),
                   description="空 = 按参保人当年度的参保登记确定；行政区划代码或名称"),
            Column("claim_type", "就医类型", CLAIM_TYPES, required=True, aliases=("就医类别", "医疗类别"),
                   description=CLAIM_TYPES.describe()),
            Column("service_date", "就诊/入院日期", parse_date, required=True,
                   aliases=("入院日期", "就诊日期"), description="住院填入院日期；年度 = 该日期所在年度"),
            Column("discharge_date", "出院日期", parse_date),
            Column("hospital_code", "医疗机构编码", code_cell, required=True,
                   aliases=("机构编码", "定点机构编码"), description="须为已登记的医疗机构（先导入医疗机构）",
                   attribute="hospital__code"),
            Column("hospital_name", "医疗机构名称", export_only=True, attribute="hospital__name"),
            Column("settlement_no", "医院结算单号", settlement_no_cell, required=True,
                   aliases=("结算单号", "结算流水号", "结算编号"),
                   description="同一医疗机构内唯一；重复导入同一结算单不会重复登记"),
            Column("location", "就医地", LOCATIONS, default="",
                   description=f"空 = 按医疗机构所在地判断。{LOCATIONS.describe()}"),
            Column("filed", "已办理转诊/异地就医备案", parse_bool, default=True, aliases=("已备案",),
                   description="是/否，空 = 是（统筹区外就医未备案填“否”）"),
            amount("total", "医疗总费用", required=True, description="元，两位小数"),
            amount("out_of_catalog", "全自费（目录外）费用", aliases=("全自费费用", "目录外费用", "全自费")),
            amount("class_b_copay", "乙类先行自付", description="元；空 = 0，填了乙类项目费用时按年度方案比例计算"),
            amount("compliant", "政策范围内（合规）费用", default=None, aliases=("合规费用", "政策范围内费用"),
                   description="空 = 医疗总费用 − 全自费 − 乙类先行自付；填写时须等于该值"),
            amount("tcm_compliant", "中医药合规费用"),
            amount("special_drug", "特药/高额药品费用", aliases=("特药费用",)),
            amount("drug_class_a", "甲类药品费用"),
            amount("drug_class_b", "乙类药品费用"),
            amount("class_b_items", "乙类项目费用", default=None, description="元；空 = 未提供",
                   render=lambda value: "" if value is None else value),
            amount("out_of_catalog_controlled", "目录外控费范围内费用"),
            Column("disease", "病种", text, default="", aliases=("病种代码", "病种名称"),
                   description="门诊慢特病/两病必填：参保统筹区病种目录的代码或名称", attribute="disease__name"),
            Column("major_disease", "三类大病", MAJOR_DISEASES, default="",
                   description=MAJOR_DISEASES.describe()),
            Column("special_b", "B类特殊疾病门诊", parse_bool, default=False, description="是/否，空 = 否"),
            Column("delivery_mode", "分娩方式", DELIVERY_MODES, default="",
                   description="住院分娩必填：顺产/剖宫产"),
            Column("drug_list", "特药目录代码", text, default="",
                   description="如 sm_cancer、sm_rare、lc_high_cost、lc_special_efficacy"),
            Column("drug_class", "药品类别", DRUG_CLASSES, default="", description="A/B/C"),
            Column("accepted_on", "受理日期", parse_date, description="空 = 导入当天"),
            Column("offline_review", "需线下审核", parse_bool, default=False,
                   description="是/否，空 = 否"),
            Column("note", "备注", text, default=""),
        ]
        for kind in GIVEN_NAMES:
            label = codes.SchemeKind(kind).label
            for part, word in GIVEN_PARTS.items():
                aliases = (f"带入·{label}{word}",) + tuple(
                    f"带入·{name}{alias}" for name in (GIVEN_NAMES[kind], label)
                    for alias in GIVEN_PART_ALIASES[part])
                self.columns.append(Column(
                    given_key(kind, part), given_header(kind, part), parse_decimal, aliases=aliases,
                    description=("医院结算系统带入的该险种本层支付（元）" if part == "paid"
                                 else f"带入结果的{word}（元，需要时填写；须同时填写支付）"),
                    export=given_value(kind, part)))
        self.columns += [
            Column("year", "年度", export_only=True),
            Column("status", "状态", export_only=True, export=lambda claim, _resource: claim.get_status_display()),
            Column("fund_total", "基金支付合计", export_only=True),
            Column("personal", "个人负担", export_only=True),
            Column("settlement_version", "结算版本", export_only=True),
            Column("created_at", "录入时间", export_only=True),
        ]

    # ------------------------------------------------------------------ state

    def start(self, ctx):
        diseases = {}
        for disease in ChronicDisease.objects.all():
            for value in (disease.code, disease.name):
                diseases.setdefault((disease.region_id, normalise_text(value).lower()), disease)
        ctx.state.update(seen={}, diseases=diseases, today=timezone.localdate(),
                         user_id=getattr(ctx.user, "pk", None))
        if ctx.writing:
            self.imported_ids = []

    # ------------------------------------------------------------------ check

    def check(self, rows, ctx):
        seen = ctx.state["seen"]
        keyed = []
        for row in rows:
            key = (normalise_text(row["hospital_code"]), row["settlement_no"])
            if key in seen:
                ctx.error(row, "settlement_no", f"医院结算单号与第 {seen[key]} 行重复（同一医疗机构内不能重复）")
                continue
            seen[key] = row.number
            keyed.append(row)
        if not keyed:
            return []
        data = self._load(ctx, keyed)
        planned = []
        for row in keyed:
            result = self._check_row(ctx, data, row)
            if result is not None:
                planned.append(result)
        return planned

    def _load(self, ctx, rows) -> dict:
        """What the rows of a chunk need, in a fixed number of queries (the service checks
        of a new claim then read the person's enrollments)."""
        numbers = sorted({row["document_number"] for row in rows})
        persons = {(p.document_type, p.document_number): p for p in map(SheetPerson._make, Person.objects.filter(
            InArray(F("document_number"), numbers)).values_list("pk", "document_type", "document_number", "name"))}
        visible = None
        if not ctx.sees_all and persons:
            visible = set(persons_visible_to(ctx.user, Person.objects.filter(
                pk__in=[p.pk for p in persons.values()])).values_list("pk", flat=True))
        hospitals = {}
        for hospital in Hospital.objects.filter(code__in={row["hospital_code"] for row in rows}):
            hospital.region = self.regions.get(hospital.region_id)
            hospitals[hospital.code] = hospital
        q = Q(pk__in=[])
        by_hospital = defaultdict(set)
        for row in rows:
            hospital = hospitals.get(row["hospital_code"])
            if hospital is not None:
                by_hospital[hospital.pk].add(row["settlement_no"])
        for hospital_id, values in by_hospital.items():
            q |= Q(hospital_id=hospital_id, settlement_no__in=values)
        recorded = {}
        for values in Claim.objects.filter(q).values_list(*_RECORDED, "person__name"):  # values: no instance per claim
            claim = _Recorded._make(values)
            recorded[claim.hospital_id, claim.settlement_no] = claim
        given = defaultdict(dict)
        for layer in GivenLayer.objects.filter(claim__in=[c.pk for c in recorded.values()]):
            given[layer.claim_id][layer.scheme_kind] = (layer.paid, layer.deductible, layer.over_cap)
        enrollments, suspensions = fetch.enrollments_of_years([p.pk for p in persons.values()],
                                                              {row["service_date"].year for row in rows})
        return dict(persons=persons, visible=visible, hospitals=hospitals, recorded=recorded, given=given,
                    enrollments=enrollments, suspensions=suspensions)

    def _given(self, ctx, row) -> list[dict] | None:
        """The row's given layers; None (reported) when a part is given without 支付."""
        layers, ok = [], True
        for kind, keys in _GIVEN_KEYS:
            if keys["paid"] not in row.filled:
                for part in ("deductible", "over_cap"):
                    if keys[part] in row.filled:
                        ctx.error(row, keys[part], f"填写了{given_header(kind, part)}，请同时填写"
                                                   f"{given_header(kind, 'paid')}")
                        ok = False
                continue
            layers.append({"scheme_kind": kind, "paid": row[keys["paid"]],
                           "deductible": row.get(keys["deductible"], ZERO),
                           "over_cap": row.get(keys["over_cap"], ZERO)})
        return layers if ok else None

    def _report(self, ctx, row, exc: ValidationError, given) -> None:
        for field, messages in messages_by_field(exc).items():
            if field == "person":
                key = "document_number"
            elif field == "hospital":
                key = "hospital_code"
            elif field == "region":
                key = "region" if "region" in row.present else "document_number"
            elif field == "given_layers":
                key = given_key(given[0]["scheme_kind"], "paid") if given else None
            elif self.has_column(field) and field not in ("year", "status"):
                key = field
            else:
                key = None
            for message in messages:
                ctx.error(row, key, message, value=None if key in row.present else "")

    def _check_row(self, ctx, data, row):
        person = data["persons"].get((row["document_type"] or documents.ID_CARD, row["document_number"]))
        if person is None:
            ctx.error(row, "document_number", "未登记的参保人，请先导入或登记参保人")
            return None
        if data["visible"] is not None and person.pk not in data["visible"]:
            ctx.error(row, "document_number", "该参保人不属于您负责的统筹区")
            return None
        if row["name"] and row["name"] != person.name:
            ctx.error(row, "name", f"姓名与证件号码登记的姓名“{mask_for_user_or_system(ctx.user, 'name', person.name)}”不一致")
            return None
        hospital = data["hospitals"].get(row["hospital_code"])
        if hospital is None:
            ctx.error(row, "hospital_code", "未登记的医疗机构编码，请先导入医疗机构")
            return None
        given = self._given(ctx, row)
        if given is None:
            return None
        values = row.values
        claim = ClaimDraft(
            person=person, region=values["region"], hospital=hospital, claim_type=values["claim_type"],
            service_date=values["service_date"], discharge_date=values["discharge_date"],
            settlement_no=values["settlement_no"], location=values["location"], filed=values["filed"],
            **{name: values[name] for name in AMOUNTS},
            major_disease=values["major_disease"], special_b=values["special_b"],
            delivery_mode=values["delivery_mode"], drug_list=values["drug_list"],
            drug_class=values["drug_class"], accepted_on=values["accepted_on"],
            offline_review=values["offline_review"], note=values["note"])
        enrollments = data["enrollments"].get((person.pk, row["service_date"].year), [])
        try:
            services.claim_derive(claim, enrollments=enrollments, today=ctx.state["today"])
        except ValidationError as exc:
            self._report(ctx, row, exc, given)
            return None
        if not ctx.in_scope(claim.region_id):
            key = "region" if "region" in row.present else "document_number"
            ctx.error(row, key, f"参保统筹区“{claim.region.name}”不属于您负责的统筹区", value="")
            return None
        if row["disease"]:
            disease = ctx.state["diseases"].get((claim.region_id, normalise_text(row["disease"]).lower()))
            if disease is None:
                ctx.error(row, "disease", f"{claim.region.name}的病种目录中没有“{row['disease']}”（填病种代码或名称）")
                return None
            claim.disease = disease
        recorded = data["recorded"].get((hospital.pk, claim.settlement_no))
        if recorded is not None:
            return self._check_recorded(ctx, data, row, claim, given, recorded)
        try:
            services.claim_validate(claim=claim, given=given, check_duplicate=False, enrollments=enrollments,
                                    suspensions=data["suspensions"])
            claim.review_due_date = services.selectors.review_due_date(claim)
            # Claim.full_clean(exclude=_EXCLUDED) on the row's values: the fields' checks
            # are skipped when every value would pass them unchanged (sheets.fieldcheck)
            values = claim.values(ctx.state["user_id"])
            if not _CLAIM_FIELDS_PASS(values):
                errors = field_errors(_CLEANED, values)
                if errors:
                    raise ValidationError(errors)
        except ValidationError as exc:
            self._report(ctx, row, exc, given)
            return None
        ctx.count("created")
        return values, given

    def _check_recorded(self, ctx, data, row, claim, given, recorded):
        """A settlement number already recorded at the hospital: 无变化 when the row equals
        the stored sheet, else an error naming the stored claim and the differing columns."""
        if claim.compliant is None:
            claim.compliant = compliant_of(claim.total, claim.out_of_catalog, claim.class_b_copay)
        differ = [name for name in COMPARED if getattr(claim, name) != getattr(recorded, name)]
        if claim.person_id != recorded.person_id:
            differ.insert(0, "document_number")
        if claim.region_id != recorded.region_id:
            differ.append("region")
        if claim.disease_id != recorded.disease_id:
            differ.append("disease")
        if "accepted_on" in row.filled and claim.accepted_on != recorded.accepted_on:
            differ.append("accepted_on")
        stored = data["given"].get(recorded.pk, {})
        mine = {g["scheme_kind"]: (g["paid"], g["deductible"], g["over_cap"]) for g in given}
        for kind in sorted(set(stored) | set(mine)):
            if stored.get(kind) != mine.get(kind):
                differ.append(given_key(kind, "paid"))
        if not ctx.in_scope(recorded.region_id):
            ctx.error(row, "settlement_no", "该结算单已由其他统筹区登记，不能导入")
            return None
        if not differ:
            ctx.count("unchanged")
            return None
        columns = "、".join(self.header(k) for k in differ)
        ctx.error(row, "settlement_no", (
            f"{claim.hospital.name}已登记结算单号“{claim.settlement_no}”（参保人 {mask_for_user_or_system(ctx.user, 'name', recorded.person_name)}，"
            f"就诊日期 {recorded.service_date.isoformat()}，状态 {STATUSES[recorded.status]}），"
            f"与本行不一致（{columns}），不能重复登记"))
        return None

    # ------------------------------------------------------------------ write

    def write(self, planned, ctx):
        """The checked sheets and their given layers, with their history rows, through
        ``sheets.bulk_sql`` (COPY on PostgreSQL): Django's ``bulk_create`` compiled every
        value of every row and cost more than the checks."""
        rows = [values for values, _given in planned]
        now = timezone.now()
        insert_values(Claim, rows, now=now)
        insert_history(Claim, rows, user=ctx.user, reason=CHANGE_REASON, when=now, created=True)
        layers = [{"claim_id": values["id"], **layer} for values, given in planned for layer in given]
        if layers:
            insert_values(GivenLayer, layers, now=now)
            insert_history(GivenLayer, layers, user=ctx.user, reason=CHANGE_REASON, when=now, created=True)
        self.imported_ids.extend(values["id"] for values in rows)

    def settle_imported(self, user):
        """结算 the claims created by the last import, in this process (``claims.batch``)."""
        return batch.claims_settle_batch(claims=Claim.objects.filter(pk__in=self.imported_ids), acting_user=user)

    # ------------------------------------------------------------------ export

    def export_queryset(self, user, *, region=None, year=None):
        qs = self.regions.exported(Claim.objects.all(), user, "region", region)
        if year is not None:
            qs = qs.filter(year=year)
        return (qs.select_related("person", "region", "hospital", "disease")
                .prefetch_related("given_layers").order_by("pk"))
