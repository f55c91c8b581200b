"""Running a job in a worker (docs/jobs.md §执行): the Celery tasks of ``jobs.tasks`` call
``execute`` and ``execute_part``; the kind's functions get a ``JobRun``.

- A job is taken once: its row is locked and moved from 排队 to 运行中. A message that
  arrives for a job already 运行中 is the second delivery of a task whose worker died
  (``acks_late``): the job is marked 失败 with the reason, and the user runs it again
  (``services.job_rerun``). The kinds do their writes in one transaction, so a killed
  worker leaves nothing half-written.
- A part of a split job runs in one transaction together with its ``JobPart`` row: a
  part delivered twice (or again after its worker died) is done exactly once. The last
  part to finish writes the job's sums and summary.
- Failures the user can act on are ``JobError`` (their Chinese message is shown;
  ``JobInputError`` when the input itself is wrong, which a rerun cannot mend); any
  other exception is logged with its traceback for the administrators and the user reads
  a Chinese reason with the job's number.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from celery import shared_task
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from . import live
from .files import local_path
from .models import Job, JobLog, JobPart
from .registry import SPLIT, get_kind

logger = logging.getLogger("jobs")

PROGRESS_EVERY = 0.5  # seconds between two progress writes
WORKER_LOST = ("处理该任务的进程意外终止（例如服务器重启），未完成的部分没有写入任何数据。"
               "请点击“重新运行”再执行一次。")


class JobError(Exception):
    """A failure the user can act on: its message (Chinese) becomes the job's result."""


class JobInputError(JobError):
    """The job's input is wrong (a sheet that fails its checks): run again on the same
    input it fails the same way, so it is not offered again (``selectors.may_rerun``);
    the user corrects the file and uploads it again."""


class JobCancelled(Exception):
    """The user asked to cancel: raised at the next progress report."""


def internal_error_message(job_id: int) -> str:
    return f"任务执行出错，未完成的部分没有写入任何数据。请把任务编号 {job_id} 告知系统管理员。"


class JobRun:
    """What a kind's function sees of its job."""

    def __init__(self, job: Job):
        self.job = job
        self.kind = get_kind(job.kind)
        self._reported = 0.0
        self._lines: list[JobLog] = []

    @property
    def params(self) -> dict:
        return self.job.params

    @property
    def user(self):
        return self.job.created_by

    # ------------------------------------------------------------------ progress

    def progress(self, done: int, total: int | None = None, stage: str = "", *, force: bool = False) -> None:
        """Report ``done`` of ``total``; raises ``JobCancelled`` when the user cancelled."""
        self.job.done = done
        if total is not None:
            self.job.total = total
        now = time.monotonic()
        if force or now - self._reported >= PROGRESS_EVERY:
            self._reported = now
            live.set_progress(self.job, done, self.job.total, stage)
            self.check_cancel()

    def check_cancel(self) -> None:
        if live.cancel_requested(self.job):
            raise JobCancelled

    def log(self, text: str) -> None:
        """A line of the job's log (written when the job ends, whatever its outcome)."""
        self._lines.append(JobLog(job_id=self.job.pk, at=timezone.now(), text=str(text)[:500]))

    def count(self, **counts: int) -> None:
        self.job.counts = {**self.job.counts, **counts}

    def flush_log(self) -> None:
        if self._lines:
            JobLog.objects.bulk_create(self._lines)
            self._lines = []

    # ------------------------------------------------------------------ files

    def input_path(self):
        """A local path of the job's input file (``files.local_path``), as a context manager."""
        return local_path(self.job.input_file.name, self.job.input_file.storage)

    def _save(self, field_name: str, name: str, write) -> None:
        """``write(path)`` writes the file; it is then stored in the job's ``field_name``."""
        directory = tempfile.mkdtemp(prefix="medins-job-")
        try:
            path = os.path.join(directory, "file" + Path(name).suffix)
            write(path)
            with open(path, "rb") as handle:
                getattr(self.job, field_name).save(f"{self.job.pk}{Path(name).suffix}", File(handle), save=False)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        setattr(self.job, field_name.replace("_file", "_name"), name)
        Job.objects.filter(pk=self.job.pk).update(**{field_name: getattr(self.job, field_name).name,
                                                     field_name.replace("_file", "_name"): name})

    def save_result(self, name: str, write) -> None:
        self._save("result_file", name, write)

    def save_errors(self, name: str, write) -> None:
        self._save("error_file", name, write)

    # ------------------------------------------------------------------ parts

    def split(self, payloads: list) -> object:
        """Hand the work to one part task per payload (run on any worker); returns ``SPLIT``."""
        Job.objects.filter(pk=self.job.pk).update(params={**self.job.params, "parts": len(payloads)},
                                                  total=self.job.total)
        self.job.params = {**self.job.params, "parts": len(payloads)}
        self.flush_log()
        if not payloads:
            _finish_when_parts_done(self.job.pk)
        for number, payload in enumerate(payloads):
            run_job_part.delay(self.job.pk, number, payload)
        return SPLIT


def _failed_on(job: Job, error: JobError) -> None:
    """Mark a job whose input is wrong (``JobInputError``) in its details."""
    if isinstance(error, JobInputError):
        job.details = {**(job.details or {}), Job.BAD_INPUT: True}


def _finish(job: Job, status: str, message: str, run: JobRun | None = None) -> None:
    with transaction.atomic():
        if run is not None:
            run.flush_log()
        Job.objects.filter(pk=job.pk).exclude(status__in=Job.FINISHED).update(
            status=status, message=message, finished_at=timezone.now(), done=job.done, total=job.total,
            counts=job.counts, details=job.details)
    live.set_progress(job, job.done, job.total)


def execute(job_id: int) -> None:
    """The task body of a job: take it, run its kind, record the outcome."""
    with transaction.atomic():
        job = Job.objects.select_for_update(of=("self",)).select_related("created_by").filter(pk=job_id).first()
        if job is None or job.finished:
            return  # cancelled while queued, or delivered again after it ended
        if job.status == Job.Status.RUNNING and "parts" in job.params:
            return  # already handed to its parts: this is the message of a finished run, again
        if job.status == Job.Status.RUNNING:
            JobLog.objects.create(job=job, text="处理进程意外终止")
            _finish(job, Job.Status.FAILED, WORKER_LOST)
            return
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "attempts"])
    run = JobRun(job)
    live.set_progress(job, 0, job.total, "开始")
    try:
        run.check_cancel()
        outcome = run.kind.run(run)
    except JobCancelled:
        run.log("已按申请取消")
        _finish(job, Job.Status.CANCELLED, "已取消，未写入任何数据。", run)
    except JobError as error:
        _failed_on(job, error)
        _finish(job, Job.Status.FAILED, str(error), run)
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, Job.Status.FAILED, internal_error_message(job.pk), run)
    else:
        if outcome is SPLIT:
            return
        _finish(job, Job.Status.SUCCEEDED, str(outcome or "已完成"), run)


def execute_part(job_id: int, number: int, payload) -> None:
    """One part of a split job, done once (see the module's docstring)."""
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.finished:
        return
    if JobPart.objects.filter(job=job, number=number).exists():
        # done already; its worker may have died between the part's commit and the end of
        # the job, which nobody else would then write
        _finish_when_parts_done(job.pk)
        return
    if live.cancel_requested(job):
        _finish(job, Job.Status.CANCELLED, "已取消：已完成的部分保留，其余部分未处理。")
        return
    run = JobRun(job)
    try:
        with transaction.atomic():
            done, counts = run.kind.part(run, payload)
            JobPart.objects.create(job=job, number=number, done=done, counts=counts)
            run.flush_log()
    except IntegrityError:
        if JobPart.objects.filter(job=job, number=number).exists():
            # the same part, delivered twice at once, finished in the other worker — or in
            # a worker that died before it could end the job
            _finish_when_parts_done(job.pk)
            return
        logger.exception("job %s part %s failed", job.pk, number)
        _finish(job, Job.Status.FAILED, internal_error_message(job.pk))
        return
    except JobError as error:
        _failed_on(job, error)
        _finish(job, Job.Status.FAILED, str(error))
        return
    except Exception:
        logger.exception("job %s part %s failed", job.pk, number)
        _finish(job, Job.Status.FAILED, internal_error_message(job.pk))
        return
    _finish_when_parts_done(job.pk)


def _finish_when_parts_done(job_id: int) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job_id)
        if job.finished:
            return
        parts = JobPart.objects.filter(job=job)
        summary = parts.aggregate(n=Count("id"), done=Sum("done"))
        job.done = summary["done"] or 0
        live.set_progress(job, job.done, job.total)
        if summary["n"] < job.params.get("parts", 0):
            Job.objects.filter(pk=job.pk).update(done=job.done)
            return
        counts: dict[str, int] = {}
        for part_counts in parts.values_list("counts", flat=True):
            for key, value in part_counts.items():
                counts[key] = counts.get(key, 0) + value
        job.counts = counts
        run = JobRun(job)
        message = run.kind.finish(run) if run.kind.finish else "已完成"
        _finish(job, Job.Status.SUCCEEDED, str(message or "已完成"), run)


# The Celery tasks (found by the worker through ``jobs.tasks``). ``acks_late`` with
# ``reject_on_worker_lost``: a task whose worker dies is delivered again (config/settings.py).
@shared_task(name="jobs.run", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> None:
    execute(job_id)


@shared_task(name="jobs.part", acks_late=True, reject_on_worker_lost=True)
def run_job_part(job_id: int, number: int, payload) -> None:
    execute_part(job_id, number, payload)
