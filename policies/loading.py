"""Writing policy fixture documents into the database (spec README §5: "The 2024 rows
of the five seed systems ship as fixtures and load with one management command").

An idempotent upsert by natural keys: every row of a document is matched to the
database row with the same natural key (codes, never database ids); a missing row is
created, a row whose values differ is updated, an identical row is left alone (no
history entry). A row in the database that the document does not list is kept and
counted as "not in the file" — loading never deletes. Every created or updated row is
validated first (``validate_row``: ``full_clean`` without the look-ups the loader has
already made), so a bad row fails with a Chinese message naming the file, the table
and the row. The caller (``policies.services.policies_load``) runs
this inside one transaction: a failure writes nothing.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, router
from django.db.models import F

from . import checks
from .errors import PolicyFixtureError
from .fixture_files import FixtureDocument
from .models import (
    RULE_MODELS,
    AdmissionCriterion,
    AnnualLimit,
    ApplicableClaimType,
    AssistanceRule,
    AutoEnrollmentRule,
    BenefitRule,
    ChronicBenefit,
    ChronicDisease,
    ContributionStandard,
    CumulativeSegment,
    DocumentRule,
    EnrollmentWindow,
    Holiday,
    HospitalFeeClass,
    Identity,
    IncentiveRule,
    LevelSubstitution,
    OutOfPocketCap,
    PayerRelationRule,
    PlanFigure,
    PlanYear,
    PreExistingCondition,
    RatioAdjustment,
    Region,
    Responsibility,
    ResponsibilityDrugRatio,
    ResponsibilityIdentityRatio,
    Scheme,
    SubsidyRule,
    TwoDiseaseBenefit,
)

NATURAL_KEYS: dict[type[models.Model], tuple[str, ...]] = {
    # rule tables: the key within one plan year (= the unique constraint minus plan_year)
    PlanFigure: ("code",),
    EnrollmentWindow: ("code",),
    ContributionStandard: ("window", "tier"),
    SubsidyRule: ("identity", "tier"),
    PayerRelationRule: ("channel", "relation", "category"),
    AutoEnrollmentRule: ("trigger",),
    AnnualLimit: ("pool", "tier", "identity"),
    ApplicableClaimType: ("claim_type", "delivery_mode"),
    HospitalFeeClass: ("level", "grade"),
    BenefitRule: ("claim_type", "delivery_mode", "level", "fee_class", "admin_level", "location",
                  "tier"),
    LevelSubstitution: ("claim_type", "from_level"),
    RatioAdjustment: ("code", "claim_type", "delivery_mode"),
    CumulativeSegment: ("identity", "seq"),
    ChronicBenefit: ("disease",),
    TwoDiseaseBenefit: ("disease",),
    AdmissionCriterion: ("disease", "code"),
    PreExistingCondition: ("group", "name"),
    Responsibility: ("code",),
    ResponsibilityDrugRatio: ("responsibility", "drug_class"),
    ResponsibilityIdentityRatio: ("responsibility", "identity"),
    IncentiveRule: ("responsibility", "min_years"),
    OutOfPocketCap: ("min_participation_rate",),
    AssistanceRule: ("identity", "kind"),
    DocumentRule: ("scope", "code"),
    # code tables and the scheme / plan-year level
    Region: ("code",),
    Identity: ("code",),
    Holiday: ("region", "date"),
    ChronicDisease: ("region", "code"),
    Scheme: ("region", "kind"),
    PlanYear: ("scheme", "year"),
}
"""Natural key of every table; a fixture row names other rows by these keys."""

RULE_TABLES = {m.__name__: m for m in RULE_MODELS}
COMMENT_KEY = "说明"
SYSTEM_KEYS = {COMMENT_KEY, "region", "schemes"}
CODES_KEYS = {COMMENT_KEY, "regions", "identities", "holidays", "chronic_diseases"}
SCHEME_KEYS = {COMMENT_KEY, "kind", "name", "settlement_order", "formula", "has_tiers", "operator",
               "note", "plan_years"}
PLAN_YEAR_KEYS = {COMMENT_KEY, "year", "status", "official_participation_rate", "source", "note",
                  "rows"}


# --------------------------------------------------------------------------- report


@dataclass
class TableCount:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_file: int = 0


@dataclass
class Section:
    """Counts of one part of a load (the code tables, or one plan year of one scheme)."""

    title: str
    tables: dict[str, TableCount] = field(default_factory=dict)

    def count(self, model) -> TableCount:
        return self.tables.setdefault(model.__name__, TableCount())

    @property
    def created(self) -> int:
        return sum(c.created for c in self.tables.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.tables.values())

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in self.tables.values())

    @property
    def not_in_file(self) -> int:
        return sum(c.not_in_file for c in self.tables.values())

    def summary(self) -> str:
        text = f"{self.title}：新增 {self.created} 行，更新 {self.updated} 行，未变 {self.unchanged} 行"
        if self.not_in_file:
            text += f"（数据库中另有 {self.not_in_file} 行不在文件中，未删除）"
        return text

    def table_lines(self) -> list[str]:
        lines = []
        for name, c in self.tables.items():
            label = _verbose(TABLES_BY_NAME[name])
            lines.append(f"  {label}（{name}）：新增 {c.created}，更新 {c.updated}，未变 {c.unchanged}"
                         + (f"，文件外 {c.not_in_file}" if c.not_in_file else ""))
        return lines


@dataclass
class LoadReport:
    """What ``policies_load`` did: one section per code-table file and per plan year."""

    sections: list[Section] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(s, attr) for s in self.sections)

    @property
    def changed(self) -> int:
        return self.total("created") + self.total("updated")

    def lines(self, *, per_table: bool = False) -> list[str]:
        out = []
        for s in self.sections:
            out.append(s.summary())
            if per_table:
                out.extend(s.table_lines())
        out.append(f"合计：新增 {self.total('created')} 行，更新 {self.total('updated')} 行，"
                   f"未变 {self.total('unchanged')} 行")
        return out


TABLES_BY_NAME = {m.__name__: m for m in NATURAL_KEYS}


# --------------------------------------------------------------------------- helpers


def _verbose(model) -> str:
    return str(model._meta.verbose_name)


def data_fields(model) -> list[models.Field]:
    """The concrete fields a fixture row sets (all but the primary key and the fields
    nobody edits, e.g. ``PlanYear.rules_version``, kept by the database)."""
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.editable]


def key_of_values(model, values: dict) -> tuple:
    return tuple(v.pk if isinstance(v, models.Model) else v
                 for v in (values[name] for name in NATURAL_KEYS[model]))


def key_of_object(model, obj) -> tuple:
    return tuple(getattr(obj, model._meta.get_field(name).attname) for name in NATURAL_KEYS[model])


def describe_error(exc: ValidationError, model) -> str:
    """A ValidationError as one Chinese sentence, fields named by their verbose names."""
    if not hasattr(exc, "error_dict"):
        return "；".join(exc.messages)
    parts = []
    for name, messages in exc.message_dict.items():
        if name == NON_FIELD_ERRORS:
            parts.extend(messages)
            continue
        try:
            label = f"{model._meta.get_field(name).verbose_name}（{name}）"
        except FieldDoesNotExist:
            label = name
        parts.extend(f"{label}：{m}" for m in messages)
    return "；".join(parts)


def constraint_fields(constraint) -> set[str]:
    """Field names a unique constraint covers (plain fields or expressions such as
    ``Coalesce("identity", 0)``)."""
    if constraint.fields:
        return set(constraint.fields)
    names = set()

    def walk(expression):
        if isinstance(expression, F):
            names.add(expression.name)
        elif hasattr(expression, "get_source_expressions"):
            for sub in expression.get_source_expressions():
                walk(sub)

    for expression in constraint.expressions:
        walk(expression)
    return names


@functools.cache
def natural_key_constraints(model) -> list[models.UniqueConstraint]:
    """The unique constraints that say "one row per natural key" (within the plan year
    for rule tables; a child row's key names its parent row, which is of the plan year)."""
    key = set(NATURAL_KEYS[model])
    keys = [key, key | {"plan_year"}] if model in RULE_MODELS else [key]
    return [c for c in model._meta.constraints
            if isinstance(c, models.UniqueConstraint) and constraint_fields(c) in keys]


def validate_row(obj) -> None:
    """``full_clean()`` minus two database round trips the loader has already answered.

    Every field validator, ``clean()``, every check constraint and every other unique
    rule runs as in ``full_clean`` (simple check conditions evaluated in Python by
    ``policies.checks``). Skipped: the existence query of a foreign key that
    the loader resolved to a row it holds, and the natural-key unique constraint (the
    upsert looked that key up and rejects a key repeated within the file; the database
    constraint still guards the insert).
    """
    model = type(obj)
    errors: dict = {}
    resolved = {f.name for f in data_fields(model)
                if f.is_relation and getattr(obj, f.attname) is not None}
    try:
        obj.clean_fields(exclude=resolved)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        obj.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    failed = {name for name in errors if name != NON_FIELD_ERRORS}
    try:
        obj.validate_unique(exclude=failed | set(NATURAL_KEYS[model]))
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    skip = natural_key_constraints(model)
    using = router.db_for_write(model, instance=obj)
    for constraint in model._meta.constraints:
        if constraint in skip:
            continue
        try:
            if isinstance(constraint, models.CheckConstraint):
                checks.validate_check(constraint, model, obj, exclude=failed, using=using)
            else:
                constraint.validate(model, obj, exclude=failed, using=using)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _to_python(f: models.Field, raw, where: str):
    if raw is None:
        if isinstance(f, (models.CharField, models.TextField)) and not f.null:
            return ""
        return None
    if isinstance(raw, bool) and not isinstance(f, models.BooleanField):
        raise PolicyFixtureError(f"{where}：字段“{f.verbose_name}”（{f.name}）的值 {raw} 类型不对")
    if isinstance(f, models.IntegerField) and isinstance(raw, Decimal) and raw != int(raw):
        raise PolicyFixtureError(f"{where}：字段“{f.verbose_name}”（{f.name}）必须是整数，而不是 {raw}")
    if isinstance(f, (models.DecimalField, models.IntegerField)) and isinstance(raw, float):
        raw = Decimal(str(raw))
    try:
        return f.to_python(raw)
    except ValidationError as exc:
        raise PolicyFixtureError(
            f"{where}：字段“{f.verbose_name}”（{f.name}）的值“{raw}”无效：{'；'.join(exc.messages)}"
        ) from exc


def _key_text(row: dict, model) -> str:
    parts = [f"{name}={row[name]}" for name in NATURAL_KEYS[model] if row.get(name) not in (None, "")]
    return "，".join(parts)


# --------------------------------------------------------------------------- writer


class _Loader:
    """Loads documents one after the other, keeping lookups of what exists."""

    def __init__(self, acting_user):
        self.acting_user = acting_user
        self.report = LoadReport()
        self.regions = {r.code: r for r in Region.objects.all()}
        self.identities = {i.code: i for i in Identity.objects.all()}
        self.diseases: dict[int, dict[str, ChronicDisease]] = {}
        for d in ChronicDisease.objects.all():
            self.diseases.setdefault(d.region_id, {})[d.code] = d
        self.holidays = {key_of_object(Holiday, h): h for h in Holiday.objects.all()}

    # -- generic row conversion and upsert ----------------------------------------------

    def convert(self, model, row, where: str, *, fixed: dict, resolve) -> dict:
        """Fixture row → field values (foreign keys as objects); omitted fields → defaults."""
        if not isinstance(row, dict):
            raise PolicyFixtureError(f"{where}：每一行必须是 JSON 对象")
        fields = {f.name: f for f in data_fields(model)}
        unknown = sorted(k for k in row if k not in fields or k in fixed)
        if unknown:
            allowed = "、".join(n for n in fields if n not in fixed)
            raise PolicyFixtureError(f"{where}：未知字段 {'、'.join(unknown)}（可用字段：{allowed}）")
        values = {}
        for name, f in fields.items():
            if name in fixed:
                values[name] = fixed[name]
            elif name in row:
                raw = row[name]
                if f.is_relation:
                    values[name] = None if raw in (None, "") else resolve(f, str(raw), where)
                else:
                    values[name] = _to_python(f, raw, where)
            else:
                values[name] = None if f.is_relation else f.get_default()
        return values

    def upsert(self, model, values: dict, existing: dict, section: Section, where: str):
        key = key_of_values(model, values)
        count = section.count(model)
        obj = existing.get(key)
        if obj is None:
            obj = model(**values)
            outcome = "created"
        else:
            changed = []
            for f in data_fields(model):
                new = values[f.name]
                new_raw = new.pk if isinstance(new, models.Model) else new
                if getattr(obj, f.attname) != new_raw:
                    changed.append(f)
            if not changed:
                count.unchanged += 1
                return obj
            for f in data_fields(model):
                if f in changed or f.is_relation:  # relations: same ids, cached objects
                    setattr(obj, f.name, values[f.name])
            outcome = "updated"
        try:
            validate_row(obj)
        except ValidationError as exc:
            raise PolicyFixtureError(f"{where}：{describe_error(exc, model)}") from exc
        if self.acting_user is not None:
            obj._history_user = self.acting_user
        try:
            obj.save()
        except IntegrityError as exc:
            raise PolicyFixtureError(f"{where}：数据库拒绝保存：{exc}") from exc
        existing[key] = obj
        setattr(count, outcome, getattr(count, outcome) + 1)
        return obj

    def rows_of(self, container, key, label, where):
        rows = container.get(key, [])
        if not isinstance(rows, list):
            raise PolicyFixtureError(f"{where}：“{label}”必须是 JSON 数组")
        return rows

    # -- code tables --------------------------------------------------------------------

    def load_codes(self, doc: FixtureDocument):
        data = doc.data
        _check_keys(data, CODES_KEYS, f"文件 {doc.label}")
        section = Section(f"编码表（{doc.label}）")
        self.report.sections.append(section)
        base = f"文件 {doc.label}"

        def resolve_region(f, code, where):
            if code not in self.regions:
                raise PolicyFixtureError(f"{where}：找不到统筹区代码“{code}”（上级须列在下级之前）")
            return self.regions[code]

        for i, row in enumerate(self.rows_of(data, "regions", "regions", base), 1):
            where = f"{base}，表“统筹区”（Region）第 {i} 行（{_key_text(row, Region)}）"
            values = self.convert(Region, row, where, fixed={}, resolve=resolve_region)
            self.regions[values["code"]] = self.upsert(
                Region, values, {(r.code,): r for r in self.regions.values()}, section, where)

        existing = {(i.code,): i for i in self.identities.values()}
        for i, row in enumerate(self.rows_of(data, "identities", "identities", base), 1):
            where = f"{base}，表“特殊身份”（Identity）第 {i} 行（{_key_text(row, Identity)}）"
            values = self.convert(Identity, row, where, fixed={}, resolve=None)
            self.identities[values["code"]] = self.upsert(Identity, values, existing, section, where)

        seen_days = {}
        for i, row in enumerate(self.rows_of(data, "holidays", "holidays", base), 1):
            where = f"{base}，表“节假日日历”（Holiday）第 {i} 行"
            for day_row in _expand_holiday(row, where):
                day_key = (day_row.get("region"), day_row["date"])
                if day_key in seen_days:
                    raise PolicyFixtureError(f"{where}：日期 {day_row['date']} 与第 {seen_days[day_key]} 行重复")
                seen_days[day_key] = i
                values = self.convert(Holiday, day_row, f"{where}（{day_row['date']}）", fixed={},
                                      resolve=resolve_region)
                self.upsert(Holiday, values, self.holidays, section, f"{where}（{day_row['date']}）")

        for g, group in enumerate(self.rows_of(data, "chronic_diseases", "chronic_diseases", base), 1):
            gwhere = f"{base}，病种目录第 {g} 组"
            if not isinstance(group, dict) or set(group) - {"region", "diseases", COMMENT_KEY}:
                raise PolicyFixtureError(f"{gwhere}：每组须为 {{\"region\": 代码, \"diseases\": [...]}}")
            region = resolve_region(None, str(group.get("region")), gwhere)
            catalogue = self.diseases.setdefault(region.pk, {})
            existing = {(region.pk, d.code): d for d in catalogue.values()}

            def resolve_disease(f, code, where, catalogue=catalogue):
                if code not in catalogue:
                    raise PolicyFixtureError(f"{where}：找不到病种代码“{code}”（被引用的病种须列在前面）")
                return catalogue[code]

            for i, row in enumerate(self.rows_of(group, "diseases", "diseases", gwhere), 1):
                where = (f"{base}，表“病种目录”（ChronicDisease，{region.code}）第 {i} 行"
                         f"（code={row.get('code') if isinstance(row, dict) else ''}）")
                values = self.convert(ChronicDisease, row, where, fixed={"region": region},
                                      resolve=resolve_disease)
                catalogue[values["code"]] = self.upsert(ChronicDisease, values, existing, section, where)

    # -- one system -----------------------------------------------------------------------

    def load_system(self, doc: FixtureDocument):
        data = doc.data
        base = f"文件 {doc.label}"
        _check_keys(data, SYSTEM_KEYS, base)
        code = doc.region_code
        region = self.regions.get(code)
        if region is None:
            raise PolicyFixtureError(f"{base}：统筹区代码“{code}”不在编码表（codes.json）中")
        region_rows: dict = {model: {} for model in RULE_MODELS}  # model → plan year id → key → row
        for model in RULE_MODELS:
            for o in model.objects.filter(plan_year__scheme__region=region):
                region_rows[model].setdefault(o.plan_year_id, {})[key_of_object(model, o)] = o
        schemes = {s.kind: s for s in Scheme.objects.filter(region=region)}
        existing_schemes = {(region.pk, kind): s for kind, s in schemes.items()}
        for s_no, scheme_data in enumerate(self.rows_of(data, "schemes", "schemes", base), 1):
            swhere = f"{base}，第 {s_no} 个险种（{scheme_data.get('kind', '')}）"
            if not isinstance(scheme_data, dict):
                raise PolicyFixtureError(f"{swhere}：险种必须是 JSON 对象")
            _check_keys(scheme_data, SCHEME_KEYS, swhere)
            plan_years = self.rows_of(scheme_data, "plan_years", "plan_years", swhere)
            row = {k: v for k, v in scheme_data.items() if k not in ("plan_years", COMMENT_KEY)}
            values = self.convert(Scheme, row, f"{swhere}，表“险种”（Scheme）", fixed={"region": region},
                                  resolve=None)
            scheme_section = Section(f"{region.name} {values['name']}")
            scheme = self.upsert(Scheme, values, existing_schemes, scheme_section,
                                 f"{swhere}，表“险种”（Scheme）")
            scheme.region = region
            existing_years = {(scheme.pk, py.year): py for py in PlanYear.objects.filter(scheme=scheme)}
            if not plan_years:
                self.report.sections.append(scheme_section)
            for y_no, py_data in enumerate(plan_years, 1):
                self.load_plan_year(scheme, py_data, existing_years, scheme_section if y_no == 1 else None,
                                    f"{swhere}，第 {y_no} 个年度方案", region_rows)

    def load_plan_year(self, scheme, py_data, existing_years, scheme_section, where, region_rows):
        if not isinstance(py_data, dict):
            raise PolicyFixtureError(f"{where}：年度方案必须是 JSON 对象")
        _check_keys(py_data, PLAN_YEAR_KEYS, where)
        where = f"{where}（{py_data.get('year', '')} 年度）"
        row = {k: v for k, v in py_data.items() if k not in ("rows", COMMENT_KEY)}
        values = self.convert(PlanYear, row, f"{where}，表“年度方案”（PlanYear）", fixed={"scheme": scheme},
                              resolve=None)
        section = Section(f"{scheme.region.name} {scheme.name} {values['year']}")
        if scheme_section is not None:
            section.tables.update(scheme_section.tables)
        self.report.sections.append(section)
        plan_year = self.upsert(PlanYear, values, existing_years, section,
                                f"{where}，表“年度方案”（PlanYear）")
        plan_year.scheme = scheme

        tables = py_data.get("rows", {})
        if not isinstance(tables, dict):
            raise PolicyFixtureError(f"{where}：“rows”必须是以表名为键的 JSON 对象")
        unknown = sorted(set(tables) - set(RULE_TABLES))
        if unknown:
            raise PolicyFixtureError(f"{where}：未知的表 {'、'.join(unknown)}（可用：{'、'.join(RULE_TABLES)}）")

        existing = {model: region_rows[model].get(plan_year.pk, {}) for model in RULE_MODELS}
        catalogue = self.diseases.get(scheme.region_id, {})

        def resolve(f, code, row_where):
            target = f.related_model
            if target is Identity:
                found = self.identities.get(code)
            elif target is ChronicDisease:
                found = catalogue.get(code)
            elif target in existing and NATURAL_KEYS[target] == ("code",):
                found = existing[target].get((code,))
            else:  # pragma: no cover - a new foreign key without a resolver
                raise PolicyFixtureError(f"{row_where}：字段 {f.name} 不能在文件中引用")
            if found is None:
                raise PolicyFixtureError(
                    f"{row_where}：字段“{f.verbose_name}”（{f.name}）找不到代码“{code}”"
                    f"（{_verbose(target)}）")
            return found

        for model in RULE_MODELS:
            name = model.__name__
            if name not in tables:
                continue
            rows = self.rows_of(tables, name, name, where)
            seen = {}
            for i, row in enumerate(rows, 1):
                row_where = (f"{where}，表“{_verbose(model)}”（{name}）第 {i} 行"
                             f"（{_key_text(row, model) if isinstance(row, dict) else ''}）")
                values = self.convert(model, row, row_where, fixed={"plan_year": plan_year},
                                      resolve=resolve)
                key = key_of_values(model, values)
                if key in seen:
                    raise PolicyFixtureError(f"{row_where}：与第 {seen[key]} 行的键重复")
                seen[key] = i
                self.upsert(model, values, existing[model], section, row_where)
            section.count(model).not_in_file = len(set(existing[model]) - set(seen))


def _check_keys(data: dict, allowed: set, where: str):
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PolicyFixtureError(f"{where}：未知的键 {'、'.join(unknown)}（可用：{'、'.join(sorted(allowed))}）")


def _expand_holiday(row, where) -> list[dict]:
    """A holiday row names one ``date`` or a ``from``–``to`` range of days."""
    if not isinstance(row, dict):
        raise PolicyFixtureError(f"{where}：每一行必须是 JSON 对象")
    if "date" in row:
        return [dict(row)]
    try:
        start, end = date.fromisoformat(row["from"]), date.fromisoformat(row["to"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyFixtureError(f"{where}：须填写 date，或 from 与 to（YYYY-MM-DD）") from exc
    if start > end:
        raise PolicyFixtureError(f"{where}：起始日 {start} 不能晚于结束日 {end}")
    rest = {k: v for k, v in row.items() if k not in ("from", "to")}
    return [{**rest, "date": (start + timedelta(days=n)).isoformat()}
            for n in range((end - start).days + 1)]


def load_documents(documents: list[FixtureDocument], *, acting_user=None) -> LoadReport:
    """Upsert every document (code tables first); the caller provides the transaction."""
    loader = _Loader(acting_user)
    for doc in documents:
        if doc.is_system:
            loader.load_system(doc)
        else:
            loader.load_codes(doc)
    return loader.report
