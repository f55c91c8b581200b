"""Importing a plan-year workbook into a draft plan year (spec README §2 plan-year status,
§5 parameters are rows, §6 bad input: all-or-nothing, every bad row reported;
docs/policy-sheets.md).

The workbook is the one ``policies.resources.write_plan_year_workbook`` writes: one
sheet per rule table, named by the table's Chinese name (or model name), headers the
fields' Chinese names. The import is the fixture loader's upsert (``policies.loading``)
fed from cells instead of JSON:

- rows are matched by the loader's natural keys (``NATURAL_KEYS``); a missing row is
  created, a row whose values differ is updated (history with the acting user), an
  identical row is left alone — so re-importing an exported workbook changes nothing and
  reports every row 未变. Rows of the plan year that a sheet does not list are kept (and
  counted); a sheet that is absent leaves its table untouched. Nothing is deleted.
- a column absent from a sheet keeps the stored value of an existing row and gives a new
  row the field's default; an empty cell is the field's empty value (NULL / "" / default).
- every row is checked: each cell (widgets of ``policies.resources``), the plan-year
  column, codes (identity, disease of the region, window / responsibility of the plan
  year), a key repeated in the sheet, field validators and check constraints before the
  row is written, then — once the whole sheet is written, so that rows are checked
  against their final neighbours (cumulative segments) — the loader's ``validate_row``
  (``clean()``, unique constraints). A database refusal is turned into the constraint's
  Chinese message. Every error is collected with sheet, row, column and message; if any
  (or in a dry run) the transaction is rolled back: nothing is written.
- only a ``draft`` plan year can be imported into; the caller
  (``policies.services.plan_year_import_sheets``) provides the transaction and the
  permission check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import IntegrityError, connection, models, router, transaction

from sheets.parsing import CellError, is_empty, normalise_text, text
from sheets.registry import header_key

from . import checks
from .loading import NATURAL_KEYS, Section, data_fields, key_of_object, validate_row
from .models import RULE_MODELS, ChronicDisease, Identity, PlanYear
from .resources import PLAN_YEAR_HEADER, column_fields, header_of, sheet_resource, sheet_title


@dataclass(frozen=True)
class SheetError:
    sheet: str  # "" = the workbook as a whole
    row: int | None  # the spreadsheet's row number (header = 1); None = the sheet / file
    column: str  # the header ("" = the row as a whole)
    message: str
    value: str = ""

    def __str__(self):
        where = f"表“{self.sheet}”" if self.sheet else "文件"
        if self.row is not None:
            where += f"第 {self.row} 行"
        if self.column:
            where += f"“{self.column}”列"
        value = f"（{self.value}）" if self.value not in ("", None) else ""
        return f"{where}{value}：{self.message}"

    def as_list(self) -> list:
        return [self.sheet, "" if self.row is None else self.row, self.column, self.value,
                self.message]


ERROR_HEADERS = ["表", "行号", "列", "单元格内容", "错误说明"]


@dataclass
class SheetImportResult:
    plan_year: PlanYear
    file_name: str
    dry_run: bool = False
    section: Section | None = None
    errors: list[SheetError] = field(default_factory=list)
    written: bool = False
    sheets: list[str] = field(default_factory=list)  # model names of the sheets read

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors if e.row is not None})

    def table_counts(self) -> list[tuple[str, str, object]]:
        """(model name, Chinese name, TableCount) of each sheet read, in table order."""
        if self.section is None:
            return []
        return [(m.__name__, str(m._meta.verbose_name), self.section.tables[m.__name__])
                for m in RULE_MODELS if m.__name__ in self.section.tables]

    def summary(self) -> str:
        if not self.ok:
            return (f"{self.file_name}：{len(self.errors)} 处错误（{self.bad_rows} 行），"
                    f"未写入任何数据")
        verb = "试导入（未写入）" if self.dry_run else "已导入"
        return f"{self.file_name} {verb}：{self.section.summary()}"

    def lines(self) -> list[str]:
        if not self.ok:
            return [self.summary()]
        return [self.summary(), *self.section.table_lines()]


class _Fail(Exception):
    """A bad row: its errors are already recorded."""


class Lookups:
    """Codes the cells name: identities (code or name), the region's disease catalogue
    (code or name), rows of the plan year (code), including rows created by this import."""

    def __init__(self, plan_year: PlanYear):
        self.plan_year = plan_year
        self.identities = self._by_code_or_name(Identity.objects.all())
        self.diseases = self._by_code_or_name(
            ChronicDisease.objects.filter(region_id=plan_year.scheme.region_id))
        self.rows: dict = {}  # model → code → row (rule tables keyed by ``code``)
        self.failed: dict = {}  # model → codes of rows of this file that are bad

    @staticmethod
    def _by_code_or_name(queryset):
        by_code, by_name = {}, {}
        for obj in queryset:
            by_code[normalise_text(obj.code)] = obj
            by_name.setdefault(normalise_text(obj.name), []).append(obj)
        return by_code, by_name

    @staticmethod
    def _find(table, value, what: str):
        by_code, by_name = table
        key = normalise_text(text(value))
        if key in by_code:
            return by_code[key]
        found = by_name.get(key, [])
        if len(found) == 1:
            return found[0]
        if found:
            raise CellError(f"名称“{text(value)}”对应多个{what}（{'、'.join(o.code for o in found)}），请填写代码")
        raise CellError(f"找不到{what}“{text(value)}”（填代码或名称）")

    def identity(self, value, header):
        return self._find(self.identities, value, "特殊身份")

    def disease(self, value, header):
        return self._find(self.diseases, value, f"{self.plan_year.scheme.region.name}病种目录中的病种")

    def row(self, model, value, header):
        code = text(value)
        found = self.rows.get(model, {}).get(code)
        if found is not None:
            return found
        label = model._meta.verbose_name
        if code in self.failed.get(model, set()):
            raise CellError(f"所引用的{label}“{code}”本身有错误（见表“{sheet_title(model)}”）")
        raise CellError(f"本年度方案没有代码为“{code}”的{label}（表“{sheet_title(model)}”）")


# --------------------------------------------------------------------------- reading


def read_workbook(path) -> tuple[dict, list[SheetError]]:
    """model → (sheet title, headers, [(row number, values)]) of every sheet, and the
    workbook-level errors (unreadable file, unknown or repeated sheets)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        return {}, [SheetError("", None, "", "无法打开 Excel 文件：文件已损坏或不是 .xlsx 格式")]
    by_name = {}
    for model in RULE_MODELS:
        for name in (sheet_title(model), model.__name__):
            by_name[normalise_text(name).lower()] = model
    tables, errors = {}, []
    try:
        for sheet in book.worksheets:
            model = by_name.get(normalise_text(sheet.title).lower())
            if model is None:
                known = "、".join(sheet_title(m) for m in RULE_MODELS)
                errors.append(SheetError(sheet.title, None, "", f"无法识别的工作表名；可用的表名：{known}"))
                continue
            if model in tables:
                errors.append(SheetError(sheet.title, None, "",
                                         f"与工作表“{tables[model][0]}”是同一张参数表"))
                continue
            headers, rows = None, []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if all(is_empty(v) for v in values):
                    continue
                if headers is None:
                    headers = ["" if is_empty(v) else str(v).strip() for v in values]
                    continue
                rows.append((number, list(values)))
            tables[model] = (sheet.title, headers or [], rows)
    finally:
        book.close()
    return tables, errors


# --------------------------------------------------------------------------- importing


class _Importer:
    def __init__(self, plan_year: PlanYear, acting_user, result: SheetImportResult):
        self.plan_year = plan_year
        self.acting_user = acting_user
        self.result = result
        self.lookups = Lookups(plan_year)
        scheme = plan_year.scheme
        self.section = Section(f"{scheme.region.name} {scheme.name} {plan_year.year}")
        result.section = self.section
        for model in RULE_MODELS:
            if NATURAL_KEYS[model] == ("code",):
                self.lookups.rows[model] = {o.code: o for o in model.objects.filter(plan_year=plan_year)}

    # -- errors ---------------------------------------------------------------------

    def error(self, sheet, row, column, message, value=None):
        shown = "" if value is None else text(value)
        self.result.errors.append(SheetError(sheet, row, column, message, shown))

    def validation_errors(self, sheet, number, model, exc: ValidationError, constraint_of=None):
        """Each message of a ValidationError on the column of its field."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.error(sheet, number, "", message)
            return
        for name, messages in exc.message_dict.items():
            column = ""
            if name != NON_FIELD_ERRORS:
                try:
                    column = header_of(model._meta.get_field(name))
                except FieldDoesNotExist:
                    column = name
            for message in messages:
                self.error(sheet, number, column or (constraint_of or {}).get(message, ""), message)

    # -- one sheet ------------------------------------------------------------------

    def match_headers(self, model, title, headers) -> dict[int, models.Field] | None:
        by_key = {}
        for f in column_fields(model):
            for name in (header_of(f), f.name):
                by_key.setdefault(header_key(name), f)
        by_key.setdefault(header_key("年度方案"), model._meta.get_field("plan_year"))
        mapping, seen, ok = {}, {}, True
        for index, header in enumerate(headers):
            if not header:
                continue
            f = by_key.get(header_key(header))
            if f is None:
                known = "、".join(header_of(c) for c in column_fields(model))
                self.error(title, 1, header, f"无法识别的列名；{sheet_title(model)}表可用的列：{known}")
                ok = False
            elif f.name in seen:
                self.error(title, 1, header, f"列重复出现（第 {seen[f.name] + 1} 列和第 {index + 1} 列）")
                ok = False
            else:
                seen[f.name] = index
                mapping[index] = f
        for name in NATURAL_KEYS[model]:
            if name not in seen:
                f = model._meta.get_field(name)
                self.error(title, 1, header_of(f), f"缺少列“{header_of(f)}”（用于识别每一行）")
                ok = False
        return mapping if ok else None

    def empty_value(self, f: models.Field):
        if f.null:
            return None
        if f.has_default():
            return f.get_default()
        if isinstance(f, (models.CharField, models.TextField)):
            return ""
        raise CellError(f"请填写“{header_of(f)}”")

    def parse_row(self, model, title, number, raw, mapping, resource_fields) -> dict:
        values, bad = {}, False
        for index, f in mapping.items():
            cell = raw[index] if index < len(raw) else None
            try:
                if is_empty(cell):
                    value = self.plan_year if f.name == "plan_year" else self.empty_value(f)
                else:
                    value = resource_fields[f.name].widget.parse(cell, self.lookups)
            except CellError as exc:
                self.error(title, number, header_of(f), exc.message, "" if is_empty(cell) else cell)
                bad = True
                continue
            values[f.name] = value
        if bad:
            raise _Fail
        values["plan_year"] = self.plan_year
        return values

    def field_checks(self, obj, title, number) -> bool:
        """Field validators and check constraints (before writing); False if any fails."""
        model = type(obj)
        errors: dict = {}
        resolved = {f.name for f in data_fields(model) if f.is_relation and getattr(obj, f.attname) is not None}
        try:
            obj.clean_fields(exclude=resolved)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        failed = set(errors)
        using = router.db_for_write(model, instance=obj)
        for constraint in model._meta.constraints:
            if not isinstance(constraint, models.CheckConstraint):
                continue
            try:
                checks.validate_check(constraint, model, obj, exclude=failed, using=using)
            except ValidationError as exc:
                column = constraint_column(model, constraint)
                for message in exc.messages:
                    self.error(title, number, column, message)
                failed.add(NON_FIELD_ERRORS)
        if errors:
            self.validation_errors(title, number, model, ValidationError(errors))
        return not failed

    def save(self, obj, title, number) -> bool:
        if self.acting_user is not None:
            obj._history_user = self.acting_user
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError as exc:
            column, message = integrity_message(type(obj), exc)
            self.error(title, number, column, message)
            return False
        return True

    def import_sheet(self, model, title, headers, rows):
        mapping = self.match_headers(model, title, headers)
        if mapping is None:
            return
        count = self.section.count(model)
        present = {f.name for f in mapping.values()}
        key_fields = [model._meta.get_field(n) for n in NATURAL_KEYS[model]]
        resource_fields = sheet_resource(model).fields
        # the rows' related rows read with them, the plan year (and its scheme's region) the
        # locked one: clean() reads them, one query per row and relation otherwise
        joined = [f.name for f in data_fields(model) if f.is_relation and f.name != "plan_year"]
        existing = {}
        for o in model.objects.filter(plan_year=self.plan_year).select_related(*joined):
            o.plan_year = self.plan_year
            existing[key_of_object(model, o)] = o
        seen: dict[tuple, int] = {}
        written: list[tuple[int, models.Model]] = []
        for number, raw in rows:
            code = raw_code(model, mapping, raw)
            try:
                values = self.parse_row(model, title, number, raw, mapping, resource_fields)
            except _Fail:
                self.mark_failed(model, code)
                continue
            key = tuple(v.pk if isinstance(v, models.Model) else v
                        for v in (values[f.name] for f in key_fields))
            if key in seen:
                self.error(title, number, header_of(key_fields[0]),
                           f"与第 {seen[key]} 行的键（{'、'.join(header_of(f) for f in key_fields)}）重复")
                continue
            seen[key] = number
            obj = existing.get(key)
            if obj is None:
                obj = model(**{f.name: (values[f.name] if f.name in values else
                                        (None if f.is_relation else f.get_default()))
                               for f in data_fields(model)})
                outcome = "created"
            else:
                changed = [f for f in data_fields(model) if f.name in present and
                           getattr(obj, f.attname) != _raw(values[f.name])]
                if not changed:
                    count.unchanged += 1
                    continue
                for f in changed:
                    setattr(obj, f.name, values[f.name])
                outcome = "updated"
            if not self.field_checks(obj, title, number) or not self.save(obj, title, number):
                self.mark_failed(model, code)
                continue
            existing[key] = obj
            if model in self.lookups.rows:
                self.lookups.rows[model][obj.code] = obj
            written.append((number, obj))
            setattr(count, outcome, getattr(count, outcome) + 1)
        # clean() and unique rules against the sheet's final rows (e.g. segment order)
        for number, obj in written:
            try:
                validate_row(obj)
            except ValidationError as exc:
                self.validation_errors(title, number, model, exc)
                self.mark_failed(model, getattr(obj, "code", None))
        count.not_in_file = len(set(existing) - set(seen))

    def mark_failed(self, model, code):
        if code and model in self.lookups.rows:
            self.lookups.failed.setdefault(model, set()).add(code)


def raw_code(model, mapping, raw) -> str | None:
    """The ``code`` cell of a row of a table keyed by code (to name it when it fails)."""
    for index, f in mapping.items():
        if f.name == "code" and index < len(raw) and not is_empty(raw[index]):
            return text(raw[index])
    return None


def _raw(value):
    return value.pk if isinstance(value, models.Model) else value


def constraint_column(model, constraint) -> str:
    """The column of the first field a constraint names (in the model's field order)."""
    if isinstance(constraint, models.CheckConstraint):
        names = checks.referenced_fields(constraint.condition)
    else:
        from .loading import constraint_fields

        names = constraint_fields(constraint) - {"plan_year"}
    for f in column_fields(model):
        if f.name in names:
            return header_of(f)
    return ""


def integrity_message(model, exc: IntegrityError) -> tuple[str, str]:
    """(column, Chinese message) of a database refusal: the violated constraint's own
    message when the error names it (PostgreSQL always; SQLite for check constraints and
    expression indexes, by columns for unique ones)."""
    detail = str(exc)
    for constraint in model._meta.constraints:
        if constraint.name in detail:
            return constraint_column(model, constraint), constraint.get_violation_error_message()
    if "UNIQUE constraint failed:" in detail:
        columns = {c.strip().rpartition(".")[2] for c in detail.split(":", 1)[1].split(",")}
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
                attnames = {model._meta.get_field(n).column for n in constraint.fields}
                if attnames == columns:
                    return constraint_column(model, constraint), constraint.get_violation_error_message()
    return "", f"数据库拒绝保存（{connection.vendor}）：{detail}"


def import_workbook(plan_year: PlanYear, path, *, acting_user, result: SheetImportResult) -> None:
    """Read and upsert the workbook into ``plan_year`` (locked, draft), collecting every
    error in ``result``. The caller rolls back when ``result.errors`` (or a dry run)."""
    if plan_year.status != PlanYear.Status.DRAFT:
        result.errors.append(SheetError(
            "", None, "", f"年度方案“{plan_year}”的状态为“{plan_year.get_status_display()}”：参数表只能导入到"
                          f"草稿年度方案（生效或已关闭的年度方案请在后台逐项修改，或先结转生成下一年度草稿）"))
        return
    tables, errors = read_workbook(path)
    result.errors.extend(errors)
    if errors:
        return
    if not tables:
        result.errors.append(SheetError("", None, "", "文件中没有可识别的参数表工作表"))
        return
    importer = _Importer(plan_year, acting_user, result)
    for model in RULE_MODELS:
        if model in tables:
            title, headers, rows = tables[model]
            result.sheets.append(model.__name__)
            importer.import_sheet(model, title, headers, rows)


__all__ = ["SheetError", "SheetImportResult", "import_workbook", "read_workbook", "PLAN_YEAR_HEADER",
           "ERROR_HEADERS"]
