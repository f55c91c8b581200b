"""Admin integration of the import framework (docs/spreadsheets.md §后台).

``SheetAdminMixin`` (before ``ExportMixin``/``ModelAdmin``) adds to a changelist:

- 导入: upload an .xlsx/.csv → the whole file is validated (``run_import`` dry run, the
  same all-or-nothing validator as the command) → either the full error report (every
  bad row with row, column, cell and message; downloadable as .xlsx) or a preview (the
  first rows as read, and how many rows would be created/updated/unchanged) → 确认导入
  runs the import in one transaction. Requires the kind's import permission
  (e.g. ``enrollment.import_person``).
- 下载导入模板: the kind's empty .xlsx template.
- 导出 (django-import-export's ``ExportMixin``): the changelist's rows (scoped to the
  user's regions, filters applied) through the kind's resource, with masking for users
  without ``policies.view_full_identity``; csv or xlsx.
"""
from __future__ import annotations

import secrets
import tempfile
from io import BytesIO
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import SelectableFieldsExportForm

from .engine import run_import
from .excel import attach, export_file_name, scope_name, sheet_title
from .registry import get_kind
from .writers import write_errors, write_table, write_template

SESSION_KEY = "sheets_uploads"
ERROR_DISPLAY_LIMIT = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_dir() -> Path:
    directory = Path(tempfile.gettempdir()) / "medins_sheets"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


class SheetUploadForm(forms.Form):
    file = forms.FileField(label="表格文件", help_text="Excel（.xlsx）或 CSV（UTF-8 或 GBK/GB18030 编码）")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError("请上传 .xlsx 或 .csv 文件")
        return upload


class TypedXLSX(XLSX):
    """django-import-export's xlsx format written by ``sheets.writers.write_table``: typed
    cells (money ``0.00``, dates, local times), the dataset's title as sheet title, bold
    header row and frozen panes — the same file as ``export_sheet`` writes."""

    def export_data(self, dataset, **kwargs):
        buffer = BytesIO()
        write_table(buffer, list(dataset.headers or []), (list(row) for row in dataset),
                    fmt="xlsx", title=dataset.title or "Sheet1")
        return buffer.getvalue()


class XlsxFirstExportForm(SelectableFieldsExportForm):
    """The admin export form with Excel (.xlsx) preselected (no empty “---” choice) and
    each column to tick named by its Chinese header (django-import-export would show the
    attribute name, title-cased: “Plan Year (年度方案)”)."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        field = self.fields["format"]
        field.choices = [c for c in field.choices if c[0] != ""]
        field.initial = "0"

    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        return field.column_name if field is not None and field.column_name else field_name


class ExcelExportMixin:
    """django-import-export admin exports a clerk can use in Excel (before ``ExportMixin``):
    xlsx first and preselected, typed cells, a sheet title and a file name that say what
    it is (``参保人_垫江县_20261203.xlsx``, RFC 5987 ``filename*``). ``export_label``:
    what the rows are (default: the model's plural name)."""

    export_formats = [TypedXLSX, CSV]
    export_form_class = XlsxFirstExportForm
    export_label: str = ""

    def get_export_label(self) -> str:
        return self.export_label or str(self.opts.verbose_name_plural)

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        data.title = sheet_title(self.get_export_label(), scope_name(request.user))
        return data

    def get_export_filename(self, request, queryset, file_format):
        return export_file_name(self.get_export_label(), scope_name(request.user),
                                ext=file_format.get_extension())

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # django-import-export writes filename="…" (mangled for a Chinese name)
        response = super()._do_file_export(file_format, request, queryset, export_form=export_form)
        return attach(response, self.get_export_filename(request, queryset, file_format))


class SheetAdminMixin(ExcelExportMixin):
    sheet_kind: str = ""
    import_export_change_list_template = "admin/sheets/change_list.html"

    # ------------------------------------------------------------------ export

    def get_export_label(self) -> str:
        return self.export_label or get_kind(self.sheet_kind).label

    def get_export_resource_classes(self, request):
        return [get_kind(self.sheet_kind).resource_class]

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    # ------------------------------------------------------------------ import

    def has_sheet_import_permission(self, request) -> bool:
        return request.user.has_perm(get_kind(self.sheet_kind).import_permission)

    def _url_name(self, action: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{action}"

    def get_urls(self):
        urls = [
            path("import-sheet/", self.admin_site.admin_view(self.sheet_import_view),
                 name=self._url_name("import_sheet")),
            path("import-sheet/template.xlsx", self.admin_site.admin_view(self.sheet_template_view),
                 name=self._url_name("import_template")),
            path("import-sheet/errors/<str:token>.xlsx", self.admin_site.admin_view(self.sheet_errors_view),
                 name=self._url_name("import_errors")),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_sheet_import_permission(request):
            extra_context["sheet_import_url"] = reverse(f"admin:{self._url_name('import_sheet')}")
            extra_context["sheet_template_url"] = reverse(f"admin:{self._url_name('import_template')}")
        return super().changelist_view(request, extra_context=extra_context)

    def sheet_template_view(self, request):
        if not self.has_sheet_import_permission(request):
            raise PermissionDenied
        kind = get_kind(self.sheet_kind)
        response = HttpResponse(content_type=XLSX_TYPE)
        write_template(kind, response, fmt="xlsx")
        return attach(response, export_file_name(f"{kind.label}导入模板", stamp=False))

    def sheet_errors_view(self, request, token):
        upload = request.session.get(SESSION_KEY, {}).get(token)
        if upload is None or not self.has_sheet_import_permission(request):
            raise Http404
        kind = get_kind(self.sheet_kind)
        report = Path(upload["path"] + ".errors.xlsx")
        if not report.exists():
            raise Http404
        return FileResponse(open(report, "rb"), as_attachment=True, content_type=XLSX_TYPE,
                            filename=export_file_name(f"{kind.label}导入错误报告", Path(upload["name"]).stem))

    def _store_upload(self, request, upload) -> tuple[str, dict]:
        token = secrets.token_hex(16)
        suffix = Path(upload.name).suffix.lower()
        target = upload_dir() / f"{token}{suffix}"
        with open(target, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        info = {"kind": self.sheet_kind, "name": upload.name, "path": str(target)}
        uploads = request.session.get(SESSION_KEY, {})
        uploads[token] = info
        request.session[SESSION_KEY] = uploads
        return token, info

    def _forget_upload(self, request, token):
        uploads = request.session.get(SESSION_KEY, {})
        info = uploads.pop(token, None)
        request.session[SESSION_KEY] = uploads
        if info:
            for name in (info["path"], info["path"] + ".errors.xlsx"):
                Path(name).unlink(missing_ok=True)

    def sheet_import_view(self, request):
        if not self.has_sheet_import_permission(request):
            raise PermissionDenied
        kind = get_kind(self.sheet_kind)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "kind": kind,
            "title": f"导入{kind.label}表格", "columns": kind.import_columns(),
            "template_url": reverse(f"admin:{self._url_name('import_template')}"),
        }
        form = SheetUploadForm()
        if request.method == "POST" and request.POST.get("token"):
            token = request.POST["token"]
            info = request.session.get(SESSION_KEY, {}).get(token)
            if info is None or info["kind"] != self.sheet_kind:
                messages.error(request, "上传的文件已失效，请重新上传")
                return HttpResponseRedirect(request.path)
            result = run_import(kind, info["path"], user=request.user, name=info["name"])
            if result.ok:
                self._forget_upload(request, token)
                messages.success(request, result.summary())
                return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
            context.update(self._result_context(kind, result, token, info))
        elif request.method == "POST":
            form = SheetUploadForm(request.POST, request.FILES)
            if form.is_valid():
                token, info = self._store_upload(request, form.cleaned_data["file"])
                result = run_import(kind, info["path"], user=request.user, dry_run=True, name=info["name"])
                context.update(self._result_context(kind, result, token, info))
        context["form"] = form
        return TemplateResponse(request, "admin/sheets/import.html", context)

    def _result_context(self, kind, result, token, info) -> dict:
        context = {"result": result, "token": token}
        if result.errors:
            write_errors(result.errors, info["path"] + ".errors.xlsx")
            context["errors"] = result.errors[:ERROR_DISPLAY_LIMIT]
            context["errors_hidden"] = max(len(result.errors) - ERROR_DISPLAY_LIMIT, 0)
            context["errors_url"] = reverse(f"admin:{self._url_name('import_errors')}", args=[token])
        else:
            context["preview_headers"] = ["行号", *(c.header for c in kind.import_columns())]
            context["preview_rows"] = result.preview
        return context
