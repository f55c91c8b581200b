"""Sheet kind ``persons`` (参保人): spec README §2 (GB 11643 checks, birth date and sex
derived), §6 (bad input, all-or-nothing); codes.md (codes or Chinese names). The checks are the
model's own (``Person.clean``); docs/spreadsheets.md lists the columns and decisions."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from enrollment import documents, selectors
from enrollment.models import Enrollment, Person
from enrollment.services.enrollments import enrollment_categories_sync
from enrollment.services.visibility import person_regions_of_new, person_regions_sync
from enrollment.sheet_kinds.columns import (
    CATEGORIES,
    DOCUMENT_TYPES,
    ID_ALIASES,
    SEXES,
    document_number_cell,
    person_key,
    phone_cell,
)
from policies.lookups import RegionLookup
from policies.masking import masked_bank_account, masked_birth_date, masked_id, masked_name, masked_phone
from sheets.bulk_sql import InArray, insert_history_stored, insert_values
from sheets.fieldcheck import unchanged_checker
from sheets.parsing import number_text, parse_bool, parse_date, text
from sheets.registry import Column, SheetKind, register
from sheets.report import messages_by_field

# The fields ``Person.full_clean(exclude=[regions])`` cleans (the regions come from the
# region lookup; their ids are the lookup's own).
_CLEANED_FIELDS = [f for f in Person._meta.concrete_fields
                   if f.name not in ("hukou_region", "residence_region") and not f.generated]
_CACHED_FIELDS = {f.attname for f in _CLEANED_FIELDS if f.choices or isinstance(f, models.BooleanField)}
_CACHED_LIST = [f for f in _CLEANED_FIELDS if f.attname in _CACHED_FIELDS]
# the other fields' common path: no field.clean per value (sheets.fieldcheck)
_OTHERS_PASS = unchanged_checker(f for f in _CLEANED_FIELDS if f.attname not in _CACHED_FIELDS)
_CACHED_NAMES = tuple(f.attname for f in _CACHED_LIST)
_COMBINED_KEPT = 4096  # combinations of the coded fields' raw values kept per import
_COMBINED = object()  # the key of those combinations in the import's clean cache


def _person_errors(values: dict, cache: dict) -> dict[str | None, list[str]]:
    """``Person.full_clean(exclude=["hukou_region", "residence_region"],
    validate_unique=False, validate_constraints=False)`` on a dict of attname → value,
    without a model instance: every field's ``clean`` (type, choices, max length,
    validators; empty values of blank fields skipped), then ``Person.document_checks``
    (``Person.clean``). Cleaned and derived values are written back into ``values``;
    the messages are returned by field (as ``ValidationError.message_dict``). ``cache``
    keeps the cleaned values of the coded fields (pure functions of the value), each and
    as a whole row's (the values of a file's rows repeat together). When the other fields
    would all accept their values unchanged (``sheets.fieldcheck``), only the coded fields
    are cleaned (through the cache)."""
    errors: dict[str, list] = {}
    others_pass = _OTHERS_PASS(values)
    if others_pass:  # the coded fields' raw values seen together before, without an error
        raw_coded = tuple([values.get(name) for name in _CACHED_NAMES])
        combined = cache.setdefault(_COMBINED, {})
        coded_key = (raw_coded, tuple(map(type, raw_coded)))  # True, 1 and 1.0 kept apart
        cleaned = combined.get(coded_key)
        if cleaned is not None:
            values.update(zip(_CACHED_NAMES, cleaned, strict=True))
            return _document_errors(values, errors)
    for f in _CACHED_LIST if others_pass else _CLEANED_FIELDS:
        name = f.attname
        raw = values.get(name)
        if f.blank and raw in f.empty_values:
            continue
        if name in _CACHED_FIELDS:
            key = (name, type(raw), raw)
            if key in cache:
                values[name] = cache[key]
                continue
        try:
            values[name] = f.clean(raw, None)
        except ValidationError as exc:
            errors[f.name] = list(exc.error_list)
            continue
        if name in _CACHED_FIELDS:
            cache[key] = values[name]
    if others_pass and not errors and len(combined) < _COMBINED_KEPT:
        combined[coded_key] = tuple([values.get(name) for name in _CACHED_NAMES])
    return _document_errors(values, errors)


def _document_errors(values: dict, errors: dict) -> dict[str | None, list[str]]:
    """``Person.clean``'s checks after the field checks (``_person_errors``)."""
    number, birth, sex, clean_errors = Person.document_checks(
        values.get("document_type"), values.get("document_number"), values.get("birth_date"),
        values.get("sex"))
    values["document_number"], values["birth_date"], values["sex"] = number, birth, sex
    for field, message in clean_errors.items():
        errors.setdefault(field, []).append(ValidationError(message))
    for field, message in Person.residence_checks(values.get("long_term_resident"),
                                                  values.get("basic_insured_in_province"),
                                                  values.get("residence_region_id")).items():
        errors.setdefault(field, []).append(ValidationError(message))
    return messages_by_field(ValidationError(errors)) if errors else {}


# --------------------------------------------------------------------------- persons


@register
class PersonSheet(SheetKind):
    """参保人表: one row per person; key = (证件类型, 证件号码). A known person is updated
    with the row's non-empty cells (unchanged when they agree), an unknown one created."""

    name = "persons"
    model = Person
    writes = ("enrollment.Person",)
    label = "参保人"
    import_permission = "enrollment.import_person"
    REGION_FIELDS = ("hukou_region", "residence_region")

    def __init__(self):
        self.regions = RegionLookup()
        self.columns = [
            Column("document_type", "证件类型", DOCUMENT_TYPES, default=documents.ID_CARD,
                   description=f"空 = 居民身份证。{DOCUMENT_TYPES.describe()}"),
            Column("document_number", "证件号码", document_number_cell, required=True,
                   aliases=ID_ALIASES, mask=masked_id,
                   description="18 位身份证号按 GB 11643 校验；请设为文本格式"),
            Column("name", "姓名", text, required=True, mask=masked_name),
            Column("sex", "性别", SEXES, default="", description="18 位证件可空（按号码）；男/女"),
            Column("birth_date", "出生日期", parse_date, mask=masked_birth_date,
                   description="18 位证件可空（按号码）；2024-03-01、2024/3/1、2024年3月1日、20240301"),
            Column("category", "人员类别", CATEGORIES, required=True,
                   description=CATEGORIES.describe()),
            Column("phone", "联系电话", phone_cell, default="", mask=masked_phone),
            Column("hukou_region", "户籍所在地", self.regions,
                   description="行政区划代码或名称，如 500231 或 垫江县"),
            Column("residence_region", "常住地", self.regions,
                   description="行政区划代码或名称；户籍所在地或常住地须属于您负责的统筹区"),
            Column("resettled", "异地安置", parse_bool, default=False, description="是/否，空 = 否"),
            Column("long_term_resident", "在常住地长期居住（新市民）", parse_bool, default=False,
                   aliases=("新市民", "在本统筹区长期居住"),
                   description="是/否，空 = 否；基本医保在外地、在常住地长期居住（须填常住地）"),
            Column("hk_macao_taiwan", "港澳台同胞", parse_bool, default=False,
                   description="是/否，空 = 否"),
            Column("basic_insured_in_province", "在常住地所在省参加基本医保", parse_bool, default=False,
                   aliases=("在本省参加基本医保",),
                   description="是/否，空 = 否；在常住地所在省份参加基本医保（须填常住地）"),
            Column("bank_name", "开户银行", text, default=""),
            Column("bank_account_name", "账户名", text, default="", mask=masked_name),
            Column("bank_account_number", "银行账号",
                   lambda v: number_text(v, "银行账号"), default="", description="8–30 位数字，请设为文本格式",
                   mask=masked_bank_account),
            Column("bank_place", "开户地", text, default=""),
            Column("note", "备注", text, default=""),
            Column("created_at", "登记时间", export_only=True),
            Column("updated_at", "更新时间", export_only=True),
        ]
        self.FIELDS = tuple(c.key for c in self.import_columns())  # the Person fields of a row
        self._REGION_ATTNAMES = tuple((f, f"{f}_id") for f in self.REGION_FIELDS)
        self._FIELD_SET = frozenset(self.FIELDS)

    one_pass = True  # rows of the file are found through ctx.state["seen"] first

    def start(self, ctx):
        ctx.state["seen"] = {}
        ctx.state["clean_cache"] = {}

    def check(self, rows, ctx):
        seen = ctx.state["seen"]
        keys = {}
        for row in rows:
            get = row.values.get  # = row[key]
            key = person_key(get("document_type"), get("document_number"))
            if key in seen:
                ctx.error(row, "document_number", f"证件号码与第 {seen[key]} 行重复")
                continue
            seen[key] = row.number
            keys[row.number] = key
        numbers = {k[1] for k in keys.values()}
        existing = {(p.document_type, p.document_number): p
                    for p in Person.objects.filter(InArray(F("document_number"), numbers)).order_by()} if numbers else {}
        visible, enrolled = set(), set()
        if existing and not ctx.sees_all:
            ids = [p.pk for p in existing.values()]
            visible = set(selectors.persons_visible_to(ctx.user, Person.objects.filter(pk__in=ids))
                          .values_list("pk", flat=True))
            enrolled = set(Enrollment.objects.filter(
                person_id__in=ids, plan_year__scheme__region__in=ctx.region_ids)
                .values_list("person_id", flat=True))
        planned = []
        for row in rows:
            key = keys.get(row.number)
            if key is None:
                continue
            current = existing.get(key)
            if current is None:
                planned.extend(self._check_new(row, ctx))
            else:
                planned.extend(self._check_existing(row, current, ctx, visible, enrolled))
        return planned

    def _in_scope(self, ctx, values) -> bool:
        return ctx.sees_all or values["hukou_region_id"] in ctx.region_ids or (
            values["residence_region_id"] in ctx.region_ids)

    def _validate(self, row, values, ctx) -> bool:
        """``Person.full_clean`` (``_person_errors``) of the values; errors reported."""
        errors = _person_errors(values, ctx.state["clean_cache"])
        for field, messages in errors.items():
            key = field if self.has_column(field) else None
            for message in messages:
                ctx.error(row, key, message)
        return not errors

    def _check_new(self, row, ctx):
        get = row.values.get
        # the row's values copied (its keys are the import columns, ``FIELDS``: a missing
        # column has its default), each region replaced by its key
        values = dict(row.values)
        if values.keys() != self._FIELD_SET:  # a row not from ``parse_rows``: as before
            values = {f: get(f) for f in self.FIELDS}
        for field, attname in self._REGION_ATTNAMES:
            region = values.pop(field, None)
            values[attname] = region.pk if region is not None else None
        if not self._validate(row, values, ctx):  # derives birth date and sex from the number
            return []
        if not self._in_scope(ctx, values):
            key = "hukou_region" if "hukou_region" in row.present else "residence_region"
            shown = "、".join(str(get(f)) for f in self.REGION_FIELDS if get(f)) or "空"
            ctx.error(row, key, f"户籍所在地或常住地必须属于您负责的统筹区（当前：{shown}）", value="")
            return []
        ctx.count("created")
        return [("create", values)]

    def _check_existing(self, row, current, ctx, visible, enrolled):
        if not ctx.sees_all and current.pk not in visible:
            ctx.error(row, "document_number", "该证件号码已登记的参保人不属于您负责的统筹区，不能修改")
            return []
        values = {f.attname: getattr(current, f.attname) for f in Person._meta.concrete_fields}
        changed = []
        for field in self.FIELDS:
            if field in ("document_type", "document_number") or field not in row.filled:
                continue
            value = row.values[field]
            if field in self.REGION_FIELDS:  # compare ids: no query for the related row
                field, value = f"{field}_id", (value.pk if value is not None else None)
            if values[field] != value:
                values[field] = value
                changed.append(field.removesuffix("_id") if field.endswith("region_id") else field)
        if not self._validate(row, values, ctx):
            return []
        moved = {"hukou_region", "residence_region"} & set(changed)
        if moved and current.pk not in enrolled and not self._in_scope(ctx, values):
            ctx.error(row, sorted(moved)[0], "户籍所在地或常住地必须属于您负责的统筹区")
            return []
        if not changed:
            ctx.count("unchanged")
            return []
        ctx.count("updated")
        person = Person(**values)
        person._state.adding = False
        return [("update", person, changed)]

    def write(self, planned, ctx):
        new = [p[1] for p in planned if p[0] == "create"]
        updates = [p for p in planned if p[0] == "update"]
        now = timezone.now()
        new_ids = []
        if new:
            new_ids = insert_values(Person, new, now=now)  # completes the dicts (defaults, times, id)
            insert_history_stored(Person, new_ids, user=ctx.user, reason=None, when=now, created=True)
        if updates:
            fields = sorted({f for _op, _p, changed in updates for f in changed} | {"updated_at"})
            objs = []
            for _op, person, _changed in updates:
                person.updated_at = now
                objs.append(person)
            bulk_update_with_history(objs, Person, fields=fields, batch_size=1000,
                                     default_user=ctx.user)
        self._visibility(new_ids, updates)

    @staticmethod
    def _visibility(new_ids, updates):
        """The person → region visibility rows (``enrollment.services.visibility``) of the
        persons written above: the new ones' (``person_regions_of_new``), the moved ones
        synced, and the 人员类别 of the enrollments of the persons whose category changed."""
        if new_ids:
            person_regions_of_new(person_ids=new_ids)
        moved = [person.pk for _op, person, changed in updates
                 if {"hukou_region", "residence_region"} & set(changed)]
        if moved:
            person_regions_sync(person_ids=moved)
        recategorised = [person.pk for _op, person, changed in updates if "category" in changed]
        if recategorised:  # the enrollments' 人员类别 (docs/enrollment.md §人员类别)
            enrollment_categories_sync(person_ids=recategorised)

    def export_queryset(self, user, *, region=None, year=None):
        qs = selectors.persons_visible_to(user, Person.objects.all()) if user is not None \
            else Person.objects.all()
        if region is not None:
            ids = self.regions.with_descendants(region)
            enrolled = Enrollment.objects.filter(plan_year__scheme__region__in=ids)
            if year is not None:
                enrolled = enrolled.filter(plan_year__year=year)
            qs = qs.filter(Q(hukou_region__in=ids) | Q(residence_region__in=ids)
                           | Q(pk__in=enrolled.values("person_id")))
        elif year is not None:
            qs = qs.filter(pk__in=Enrollment.objects.filter(plan_year__year=year).values("person_id"))
        return qs.select_related("hukou_region", "residence_region").order_by("pk")
