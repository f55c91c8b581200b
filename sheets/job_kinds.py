"""Sheets as jobs (docs/jobs.md §导入, docs/spreadsheets.md §后台).

- The import of an uploaded sheet is two jobs: ``sheet_check`` validates the whole file
  (``run_import(dry_run=True)``) and keeps the preview or the error report; once the clerk
  confirms, ``sheet_import`` imports the same stored file all-or-nothing. The upload page
  returns at once; both run on a worker.
- ``sheet_export``: a kind's whole export for the user (scoped and masked as
  ``export_sheet --user``), optionally one region and one year, written on a worker into
  the job's result file. Its rows are report reads (``jobs.replica``): read from the
  replica when there is one; the job's own rows and the audit row go to the primary.

The three hold the personal data of the sheet's masked columns (``personal_data``): a
viewer other than the author who reads one of them masked gets no file and sees the
preview and the errors' cell contents through the columns' masks (``masked_details``;
docs/jobs.md §个人信息).
"""
from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied

from audit.models import Action
from audit.services import audit_record
from jobs.registry import job_kind
from jobs.replica import reports_read
from jobs.runner import JobError, JobInputError, JobRun
from jobs.scope import current_scope

from .engine import run_import
from .excel import export_file_name, scope_name
from .exporting import run_export
from .registry import SheetKind, get_kind
from .writers import write_errors

HIDDEN = "（已隐藏）"  # a cell of an unknown column, shown to a viewer who reads personal data masked
ERRORS_SHOWN = 200  # errors listed on the job's page; all of them are in the report
COUNTS = {"rows": "数据行数", "created": "新增", "updated": "更新", "unchanged": "无变化", "bad_rows": "有错误的行",
          "errors": "错误数"}
# a check writes nothing: its counts are what it found
CHECK_COUNTS = {"rows": "数据行数", "created": "可新增", "updated": "可更新", "unchanged": "无变化",
                "bad_rows": "有错误的行", "errors": "错误数"}


def _import(job_run: JobRun, *, dry_run: bool):
    kind = get_kind(job_run.params["sheet_kind"])
    total = job_run.params.get("rows")

    def progress(stage: str, rows: int) -> None:
        job_run.progress(rows, total, stage)

    with job_run.input_path() as path:
        try:
            result = run_import(kind, path, user=job_run.user, dry_run=dry_run, name=job_run.job.input_name,
                                progress=progress, parallel=True)  # a writer thread (PostgreSQL)
        except PermissionDenied as error:
            raise JobError(str(error)) from None
    # a check reads the whole file, and so does a failed one-pass import
    job_run.progress(result.rows, result.rows if result.ok or dry_run or not total else total, force=False)
    if result.ok:
        job_run.count(rows=result.rows, **result.counts, errors=0)
    else:  # nothing written: an import counts no row as added; a check, what it found
        job_run.count(rows=result.rows, **(result.counts if dry_run else {}), bad_rows=result.bad_rows,
                      errors=result.error_count)
    if result.errors:
        job_run.save_errors(export_file_name(f"{kind.label}导入错误报告", Path(job_run.job.input_name).stem),
                            lambda target: write_errors(result.errors, target))
        job_run.job.details = {
            "errors": [{"row": e.row, "column": e.column, "value": e.value, "message": e.message}
                       for e in result.errors[:ERRORS_SHOWN]],
            "errors_hidden": max(result.error_count - ERRORS_SHOWN, 0),
        }
        raise JobInputError(f"校验未通过：{result.summary()}。请下载错误报告，修改文件后重新上传。")
    if dry_run:
        job_run.job.details = {
            "preview_headers": ["行号", *(c.header for c in kind.import_columns())],
            "preview_rows": [[str(v) for v in row] for row in result.preview],
        }
    return result


def _sheet_kind(job) -> type[SheetKind] | None:
    try:
        return get_kind(job.params.get("sheet_kind", ""))
    except Exception:  # a kind no longer registered, or no kind at all
        return None


# every kind of personal data, for a job whose sheet kind is unknown
EVERY_FIELD = frozenset({"document_number", "phone", "bank_account", "birth_date", "name"})


def personal_data(job) -> frozenset[str]:
    """The masking-rule fields of the job's sheet kind's masked columns (a mask function
    names its field, ``policies.masking``); every field when the kind is unknown."""
    kind = _sheet_kind(job)
    if kind is None:
        return EVERY_FIELD
    return frozenset(getattr(c.mask, "field", "document_number") for c in kind.columns if c.mask is not None)


def masked_details(job, request) -> dict:
    """The check's preview rows and error cells through the columns' masks, as
    ``request.user`` may read them (a cell of no known column is hidden)."""
    details = dict(job.details or {})
    kind = _sheet_kind(job)
    columns = kind.import_columns() if kind is not None else []
    by_header = {c.header: c for c in columns}

    def shown(column, value):
        if column is None:
            return HIDDEN if value not in (None, "") else value
        return column.mask(request, value) if column.mask is not None and value not in (None, "") else value

    if "preview_rows" in details:
        details["preview_rows"] = [[row[0], *(shown(c, v) for c, v in zip(columns, row[1:], strict=False))]
                                   for row in details["preview_rows"]]
    if "errors" in details:
        details["errors"] = [_masked_error(e, shown(by_header.get(e.get("column")), e.get("value")))
                             for e in details["errors"]]
    return details


def _masked_error(error: dict, value) -> dict:
    """The error with its cell content ``value`` as shown, in its message too (a message
    may quote the cell: “…第 17 位应为 9）：500231…”)."""
    raw, message = error.get("value"), error.get("message") or ""
    if raw not in (None, "") and value != raw:
        message = message.replace(str(raw), str(value))
    return {**error, "value": value, "message": message}


@job_kind("sheet_check", "校验导入表格", count_labels=CHECK_COUNTS, panel="admin/sheets/check_panel.html",
          personal_data=personal_data, mask_details=masked_details, unit="行")
def sheet_check(job_run: JobRun) -> str:
    result = _import(job_run, dry_run=True)
    c = result.counts
    return (f"校验通过：共 {result.rows} 行数据，将新增 {c['created']}，更新 {c['updated']}，"
            f"无变化 {c['unchanged']}。请核对预览后点击“确认导入”。")


def _audit_import(job_run: JobRun, stage: str, **details) -> None:
    audit_record(action=Action.IMPORT, user=job_run.user, obj=job_run.job, details={
        "stage": stage, "kind": get_kind(job_run.params["sheet_kind"]).label, "file": job_run.job.input_name,
        **details})


@job_kind("sheet_import", "导入表格", count_labels=COUNTS, personal_data=personal_data, unit="行")
def sheet_import(job_run: JobRun) -> str:
    _audit_import(job_run, "开始")
    try:
        result = _import(job_run, dry_run=False)
    except Exception:
        _audit_import(job_run, "失败（未写入任何数据）")
        raise
    _audit_import(job_run, "完成", rows=result.rows, result=result.summary())
    return result.summary()


@job_kind("sheet_export", "导出表格", count_labels={"rows": "导出行数"}, personal_data=personal_data, unit="行")
def sheet_export(job_run: JobRun) -> str:
    kind = get_kind(job_run.params["sheet_kind"])
    code, year, fmt = job_run.params.get("region"), job_run.params.get("year"), job_run.params.get("fmt", "xlsx")
    region = current_scope().region(code) if code else None
    scope = region.name if region is not None else scope_name(job_run.user)
    name = export_file_name(kind.label, scope, f"{year}年度" if year else None, ext=fmt)
    rows = {}

    def write(path):
        with reports_read():  # the replica, when there is one (config/db_routers.py)
            rows["n"] = run_export(kind, path, user=job_run.user, region=region, year=year, fmt=fmt,
                                   progress=lambda stage, n: job_run.progress(n, None, stage))

    job_run.save_result(name, write)
    audit_record(action=Action.EXPORT, user=job_run.user, obj=job_run.job, details={
        "kind": kind.label, "region": region.name if region is not None else "", "year": year, "rows": rows["n"],
        "file": name})
    job_run.count(rows=rows["n"])
    job_run.progress(rows["n"], rows["n"], force=False)
    return f"已导出{kind.label} {rows['n']} 行"
