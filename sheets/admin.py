"""Admin integration of the import framework (docs/spreadsheets.md §后台).

``SheetAdminMixin`` (before ``ExportMixin``/``ModelAdmin``) adds to a changelist:

- 导入: upload an .xlsx/.csv → the file is stored (Django's storage) and a 校验 job
  validates it on a worker (``sheets.job_kinds``: ``run_import`` dry run, the same
  all-or-nothing validator as the command) while the job's page shows the progress →
  either the error report (every bad row with row, column, cell and message; download
  .xlsx) or a preview (the first rows as read, and how many rows would be
  created/updated/unchanged) → 确认导入 starts the 导入 job, one transaction on a
  worker. Requires the kind's import permission (e.g. ``enrollment.import_person``).
- 下载导入模板: the kind's empty .xlsx template.
- 导出 (django-import-export's ``ExportMixin``): the changelist's rows (scoped to the
  user's regions, filters applied) through the kind's resource, with masking for users
  without ``policies.view_full_identity``; csv or xlsx.
"""
from __future__ import annotations

from io import BytesIO

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import SelectableFieldsExportForm

from jobs.models import Job
from jobs.scope import current_scope
from jobs.services import job_start

from .excel import attach, export_file_name, scope_name, sheet_title
from .registry import get_kind
from .writers import write_table, write_template

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BackgroundExportForm(forms.Form):
    region = forms.CharField(label="统筹区代码", required=False, max_length=12,
                             help_text="选填：只导出该统筹区（含下级区域）；留空为您负责的全部统筹区")
    year = forms.IntegerField(label="参保年度", required=False, min_value=2000, max_value=2100,
                              help_text="选填：只导出该年度")
    fmt = forms.ChoiceField(label="格式", choices=[("xlsx", "Excel（.xlsx）"), ("csv", "CSV（UTF-8）")])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_region(self):
        code = self.cleaned_data["region"].strip()
        if not code:
            return None
        scope = current_scope()
        region = scope.region(code)
        if region is None:
            raise forms.ValidationError(f"未知的统筹区代码：{code}")
        if not scope.sees_all(self.user) and region.pk not in scope.region_ids(self.user):
            raise forms.ValidationError("该统筹区不在您负责的范围内")
        return region


class SheetUploadForm(forms.Form):
    file = forms.FileField(label="表格文件", help_text="Excel（.xlsx）或 CSV（UTF-8 或 GBK/GB18030 编码）")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError("请上传 .xlsx 或 .csv 文件")
        limit = settings.SHEETS_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(f"文件大小超过 {limit} MB 的上限：请拆分成多个文件后分别导入")
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
            path("export-job/", self.admin_site.admin_view(self.sheet_export_job_view),
                 name=self._url_name("export_job")),
            path("import-sheet/template.xlsx", self.admin_site.admin_view(self.sheet_template_view),
                 name=self._url_name("import_template")),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_export_permission(request):
            extra_context["sheet_export_job_url"] = reverse(f"admin:{self._url_name('export_job')}")
        if self.has_sheet_import_permission(request):
            extra_context["sheet_import_url"] = reverse(f"admin:{self._url_name('import_sheet')}")
            extra_context["sheet_template_url"] = reverse(f"admin:{self._url_name('import_template')}")
        return super().changelist_view(request, extra_context=extra_context)

    def sheet_export_job_view(self, request):
        """后台导出: the kind's whole export (scoped and masked for the user) as a job, for
        lists too large for the immediate 导出 of the changelist."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        kind = get_kind(self.sheet_kind)
        form = BackgroundExportForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            region, year = form.cleaned_data["region"], form.cleaned_data["year"]
            words = [kind.label, *([region.name] if region else []), *([f"{year}年度"] if year else [])]
            job = job_start(kind="sheet_export", title="导出" + "_".join(words), acting_user=request.user,
                            params={"sheet_kind": self.sheet_kind, "region": region.code if region else None,
                                    "year": year, "fmt": form.cleaned_data["fmt"]},
                            region_ids=[region.pk] if region else _regions_of(request.user))
            messages.info(request, "已开始导出；完成后可在本页下载文件")
            return HttpResponseRedirect(reverse("admin:jobs_myjob_change", args=[job.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form,
                   "title": f"后台导出{kind.label}"}
        return TemplateResponse(request, "admin/sheets/export_job.html", context)

    def sheet_template_view(self, request):
        if not self.has_sheet_import_permission(request):
            raise PermissionDenied
        kind = get_kind(self.sheet_kind)
        response = HttpResponse(content_type=XLSX_TYPE)
        write_template(kind, response, fmt="xlsx")
        return attach(response, export_file_name(f"{kind.label}导入模板", stamp=False))

    def sheet_import_view(self, request):
        """The upload page: a posted file is stored and checked by a ``sheet_check`` job
        (the page returns at once and opens the job's page); 确认导入 on that page posts
        back here and starts the ``sheet_import`` job on the same stored file."""
        if not self.has_sheet_import_permission(request):
            raise PermissionDenied
        kind = get_kind(self.sheet_kind)
        if request.method == "POST" and "job" in request.POST:
            return self._confirm(request, kind)
        form = SheetUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            job = job_start(kind="sheet_check", title=f"校验{kind.label}表格：{upload.name}", acting_user=request.user,
                            params={"sheet_kind": self.sheet_kind,
                                    "confirm_url": reverse(f"admin:{self._url_name('import_sheet')}")},
                            input_file=upload, input_name=upload.name, region_ids=_regions_of(request.user))
            messages.info(request, "文件已上传，正在后台校验；本页会自动显示进度")
            return HttpResponseRedirect(reverse("admin:jobs_myjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "kind": kind,
            "title": f"导入{kind.label}表格", "columns": kind.import_columns(), "form": form,
            "template_url": reverse(f"admin:{self._url_name('import_template')}"),
        }
        return TemplateResponse(request, "admin/sheets/import.html", context)

    def _confirm(self, request, kind):
        check = Job.objects.filter(pk=request.POST.get("job") or 0, kind="sheet_check",
                                   created_by=request.user).first()
        if check is None or check.params.get("sheet_kind") != self.sheet_kind:
            raise Http404("没有这个校验任务")
        if check.status != Job.Status.SUCCEEDED:
            messages.error(request, "该文件未通过校验，不能导入；请修改后重新上传")
            return HttpResponseRedirect(reverse("admin:jobs_myjob_change", args=[check.pk]))
        started = check.next_steps.first()
        if started is None:
            started = job_start(kind="sheet_import", title=f"导入{kind.label}表格：{check.input_name}",
                                acting_user=request.user, params={**check.params, "rows": check.counts.get("rows")},
                                input_file=check.input_file.name, input_name=check.input_name,
                                region_ids=check.regions.values_list("region_id", flat=True), parent=check)
            messages.info(request, "已开始导入；本页会自动显示进度")
        return HttpResponseRedirect(reverse("admin:jobs_myjob_change", args=[started.pk]))


def _regions_of(user) -> list:
    scope = current_scope()
    return [] if scope.sees_all(user) else sorted(scope.region_ids(user))
