"""后台任务 in the admin (docs/jobs.md §页面): 我的任务 (every staff user: the jobs they
started) and 全部任务 (users with ``jobs.view_job``: the jobs of their regions). A job's
page shows a progress bar that updates itself (``jobs/progress.js`` polls the small JSON
view ``progress/``), the counts, the log, the kind's own panel (an import's preview or
errors), 取消 / 重新运行 (not for a job that failed on its input), and the downloads of the input, the result and the error report.
Jobs are written only by their workers and by ``jobs.services``: nothing here edits one.
Another user's job holding personal data (``JobKind.personal_data``) is shown to a viewer
who reads it masked elsewhere with its panel masked and without its files
(``selectors.reads_personal_data``; docs/jobs.md §个人信息).
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.models import Action
from audit.services import audit_record
from listing.paging import EstimatedCountPaginator
from listing.read_only import ReadOnlyAdminMixin

from . import selectors, services
from .models import Job, MyJob
from .registry import get_kind, kind_label

FILES_REFUSED = ("该任务的文件含有参保人个人信息（证件号码、联系电话、银行账号等），"
                 "只有任务发起人和可查看完整个人信息的人员可以下载。")


class JobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """全部任务: read-only list and pages, scoped to the user's regions."""

    list_display = ["id", "title", "kind_name", "status_badge", "progress_text", "created_by", "created_at",
                    "finished_at"]
    list_display_links = ["id", "title"]
    list_filter = ["status", "created_at"]
    search_fields = ["title", "input_name"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.jobs_visible_to(request.user, super().get_queryset(request)).select_related("created_by")

    @admin.display(description="任务类型")
    def kind_name(self, job):
        return kind_label(job.kind)

    @admin.display(description="状态", ordering="status")
    def status_badge(self, job):
        return format_html('<span class="job-status job-status-{}">{}</span>', job.status, job.get_status_display())

    @admin.display(description="进度")
    def progress_text(self, job):
        return selectors.job_state(job)["progress_text"]

    # ------------------------------------------------------------------ pages

    def _url(self, name: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{name}"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:job_id>/progress/", view(self.progress_view), name=self._url("progress")),
            path("<int:job_id>/cancel/", view(self.cancel_view), name=self._url("cancel")),
            path("<int:job_id>/rerun/", view(self.rerun_view), name=self._url("rerun")),
            path("<int:job_id>/file/<str:which>/", view(self.file_view), name=self._url("file")),
            *super().get_urls(),
        ]

    def _job(self, request, job_id) -> Job:
        job = self.get_queryset(request).filter(pk=job_id).first()
        if job is None:
            raise Http404("没有这个任务，或您无权查看")
        return job

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            job = self._job(request, int(object_id))
        except ValueError:
            raise Http404("没有这个任务") from None
        try:
            kind = get_kind(job.kind)
        except Exception:
            kind = None
        may_rerun = selectors.may_rerun(job)  # before the details are masked
        in_full = selectors.reads_personal_data(request.user, job)
        show_panel = bool(kind and kind.panel)
        if not in_full and show_panel:
            if kind.mask_details is None:
                show_panel = False
            else:  # the page's copy only: nothing saves the job here
                job.details = kind.mask_details(job, request)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "job": job, "kind": kind,
            "title": job.title, "state": selectors.job_state(job),
            "log_lines": job.log_lines.all()[:500], "may_manage": selectors.may_manage(request.user, job),
            "may_rerun": may_rerun,
            "progress_url": reverse(f"admin:{self._url('progress')}", args=[job.pk]),
            "cancel_url": reverse(f"admin:{self._url('cancel')}", args=[job.pk]),
            "rerun_url": reverse(f"admin:{self._url('rerun')}", args=[job.pk]),
            "files": [(which, label, name, reverse(f"admin:{self._url('file')}", args=[job.pk, which]))
                      for which, label, name, _field in self._files(job)],
            "files_refused": FILES_REFUSED if not in_full else "", "show_panel": show_panel,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/jobs/job_page.html", {**context, **(extra_context or {})})

    # (URL word, label, the Job fields <prefix>_file / <prefix>_name)
    FILES = (("result", "结果文件", "result"), ("errors", "错误报告", "error"), ("input", "上传的文件", "input"))

    @classmethod
    def _files(cls, job: Job):
        """(URL word, label, download name, file field) of each file the job has."""
        for which, label, prefix in cls.FILES:
            field = getattr(job, f"{prefix}_file")
            if field.name:
                yield which, label, getattr(job, f"{prefix}_name") or label, field

    def progress_view(self, request, job_id):
        return JsonResponse(selectors.job_state(self._job(request, job_id)))

    def cancel_view(self, request, job_id):
        return self._post_action(request, job_id, services.job_cancel, "已申请取消；任务将在下一次报告进度时停止")

    def rerun_view(self, request, job_id):
        return self._post_action(request, job_id, services.job_rerun, "已重新提交任务")

    def _post_action(self, request, job_id, action, done_message):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = self._job(request, job_id)
        try:
            result = action(job=job, acting_user=request.user)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
            result = job
        else:
            messages.success(request, done_message)
        return HttpResponseRedirect(reverse(f"admin:{self._url('change')}", args=[result.pk]))

    def file_view(self, request, job_id, which):
        job = self._job(request, job_id)
        if not selectors.reads_personal_data(request.user, job):
            raise PermissionDenied(FILES_REFUSED)
        for key, label, name, field in self._files(job):
            if key == which:
                try:
                    handle = field.open("rb")
                except FileNotFoundError:
                    raise Http404("文件已按保存期限删除") from None
                audit_record(action=Action.DOWNLOAD, request=request, obj=job,
                             details={"which": label, "file": name, "kind": kind_label(job.kind)})
                return FileResponse(handle, as_attachment=True, filename=name)
        raise Http404("没有这个文件")


class MyJobAdmin(JobAdmin):
    """我的任务: the jobs the user started (every staff user)."""

    list_display = ["id", "title", "kind_name", "status_badge", "progress_text", "created_at", "finished_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(created_by=request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)


admin.site.register(Job, JobAdmin)
admin.site.register(MyJob, MyJobAdmin)
