"""Writes of jobs (docs/jobs.md): start, cancel, run again, remove old files."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import live
from .models import Job, JobRegion
from .registry import get_kind, kind_label
from .runner import run_job
from .selectors import may_manage, may_rerun


def _enqueue(job: Job) -> None:
    if getattr(settings, "JOBS_RUN_INLINE", False):
        run_job.delay(job.pk)  # the test settings: now, inside the test's transaction
    else:
        transaction.on_commit(lambda: run_job.delay(job.pk))


@transaction.atomic
def job_start(*, kind: str, title: str, acting_user, params: dict | None = None, input_file=None,
              input_name: str = "", region_ids=(), parent: Job | None = None) -> Job:
    """Queue a job of ``kind``; it runs on a worker once this transaction commits.
    ``input_file``: an uploaded file (stored in the default storage) or the name of a
    stored file (a later step of the same upload)."""
    get_kind(kind)
    job = Job(kind=kind, title=title[:200], created_by=acting_user, params=params or {}, parent=parent,
              input_name=input_name[:200])
    if isinstance(input_file, str):
        job.input_file.name = input_file
    elif input_file is not None:
        job.input_file.save(input_name or input_file.name, input_file, save=False)
        job.input_name = (input_name or input_file.name)[:200]
    job.save()
    JobRegion.objects.bulk_create([JobRegion(job=job, region_id=r) for r in sorted(set(region_ids))])
    _enqueue(job)
    return job


@transaction.atomic
def job_cancel(*, job: Job, acting_user) -> Job:
    """Cancel a queued job at once; ask a running one to stop at its next progress report
    (its transaction is rolled back: nothing of it is written)."""
    if not may_manage(acting_user, job):
        raise PermissionDenied("只有任务的发起人或管理员可以取消任务")
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.finished:
        raise ValidationError("任务已结束，不能取消")
    if job.status == Job.Status.QUEUED:
        job.status = Job.Status.CANCELLED
        job.message = "已取消（尚未开始执行）。"
        job.finished_at = timezone.now()
    job.cancel_requested = True
    job.save(update_fields=["status", "message", "finished_at", "cancel_requested"])
    live.request_cancel(job)
    return job


def job_rerun(*, job: Job, acting_user) -> Job:
    """Run a failed or cancelled job again, as a new job with the same input; not a job
    that failed on its input (``selectors.may_rerun``)."""
    if not may_manage(acting_user, job):
        raise PermissionDenied("只有任务的发起人或管理员可以重新运行任务")
    if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
        raise ValidationError("只有失败或已取消的任务可以重新运行")
    if not may_rerun(job):
        raise ValidationError("该任务因上传的内容有错误而失败，重新运行只会得到同样的结果；"
                              "请按错误报告修改文件后重新上传")
    return job_start(kind=job.kind, title=job.title, acting_user=acting_user, params=job.params,
                     input_file=job.input_file.name or None, input_name=job.input_name,
                     region_ids=job.regions.values_list("region_id", flat=True), parent=job.parent)


def job_files_remove_old(*, days: int, acting_user=None) -> int:
    """Delete the input, result and error files of jobs that ended more than ``days`` days
    ago (the rows and logs stay); returns how many jobs lost their files."""
    cutoff = timezone.now() - timedelta(days=days)
    removed = 0
    old = Job.objects.filter(finished_at__lt=cutoff).exclude(input_file="", result_file="", error_file="")
    for job in old.iterator():
        for field in (job.input_file, job.result_file, job.error_file):
            # an upload is shared by its 校验 and 导入 jobs and by reruns: it goes with the last
            # of them that is still running or inside the retention period
            in_use = Job.objects.filter(input_file=field.name).exclude(pk=job.pk).filter(
                Q(finished_at__isnull=True) | Q(finished_at__gte=cutoff)).exists()
            if field.name and not in_use:
                field.storage.delete(field.name)
        Job.objects.filter(pk=job.pk).update(input_file="", result_file="", error_file="")
        removed += 1
    return removed


def job_start_periodic(kind: str) -> Job:
    """A calendar duty's job, started by the system (no user: every region)."""
    return job_start(kind=kind, title=f"{kind_label(kind)}（定时）", acting_user=None)


@shared_task(name="jobs.periodic")
def start_periodic(kind: str) -> None:
    """What celery beat sends (``CELERY_BEAT_SCHEDULE``): queue the duty's job."""
    job_start_periodic(kind)
