"""Reads of jobs: which a user may see and manage, and a job's live state for the
progress bar (docs/jobs.md)."""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import live
from .models import Job, JobRegion
from .registry import get_kind, kind_label
from .scope import current_scope, reads_in_full


def jobs_visible_to(user, queryset=None):
    """Jobs ``user`` started, and — with the permission to see all jobs — the jobs that
    touch one of the user's regions (every job for a user without a region limit)."""
    queryset = Job.objects.all() if queryset is None else queryset
    if not user.has_perm("jobs.view_job"):
        return queryset.filter(created_by=user)
    scope = current_scope()
    if scope.sees_all(user):
        return queryset
    regions = JobRegion.objects.filter(job=OuterRef("pk"), region_id__in=list(scope.region_ids(user)))
    return queryset.filter(Q(created_by=user) | Exists(regions))


def may_manage(user, job: Job) -> bool:
    """Cancel or run again: the job's author, a superuser, or a user who may change jobs
    and sees the job."""
    if user.is_superuser or job.created_by_id == user.pk:
        return True
    return user.has_perm("jobs.change_job") and jobs_visible_to(user).filter(pk=job.pk).exists()


def reads_personal_data(user, job: Job) -> bool:
    """Whether ``user`` may read ``job``'s files and panel as they are (docs/jobs.md
    §个人信息): its author, a superuser, or a user who reads in full every kind of personal
    data the job's kind says they hold. A kind no longer registered: only the first two."""
    if user.is_superuser or (job.created_by_id is not None and job.created_by_id == user.pk):
        return True
    try:
        kind = get_kind(job.kind)
    except ImproperlyConfigured:
        return False
    return kind.personal_data is None or reads_in_full(user, kind.personal_data(job))


def may_rerun(job: Job) -> bool:
    """Whether 重新运行 makes sense: a failed or cancelled job, unless it failed on its
    input (a sheet that fails its checks fails the same way on the same file)."""
    return job.status in (Job.Status.FAILED, Job.Status.CANCELLED) and not job.failed_on_input


def job_state(job: Job) -> dict:
    """The state the progress bar shows: status, done/total and their text, the rate and
    remaining time while it runs, the counts in the kind's order. A job that succeeded
    without a total is done out of what it did, with a full bar."""
    done, total, stage = job.done, job.total, ""
    if not job.finished:
        current = live.get_progress(job)
        if current:
            done, total, stage = current["done"], current["total"] or total, current.get("stage", "")
    elif total is None and job.status == Job.Status.SUCCEEDED and done:
        total = done
    elapsed = None
    if job.started_at:
        elapsed = max(((job.finished_at or timezone.now()) - job.started_at).total_seconds(), 0.001)
    rate = round(done / elapsed, 1) if elapsed and done and not job.finished else None
    eta = round((total - done) / rate) if rate and total and total > done else None
    percent = 100 if job.status == Job.Status.SUCCEEDED else (
        min(int(done * 100 / total), 100) if total else 0)
    try:
        kind = get_kind(job.kind)
    except ImproperlyConfigured:  # a kind no longer registered still shows its job
        kind, counts = None, []
    else:
        order = list(kind.count_labels)
        keys = sorted(job.counts, key=lambda k: order.index(k) if k in order else len(order))
        counts = [{"label": kind.count_label(k), "value": job.counts[k]} for k in keys]
    unit = kind.unit if kind is not None else ""
    return {
        "id": job.pk, "kind": kind_label(job.kind), "status": job.status, "status_label": job.get_status_display(),
        "finished": job.finished, "done": done, "total": total, "percent": percent, "stage": stage,
        "progress_text": progress_text(done, total, percent), "rate": rate,
        "rate_text": f"每秒 {rate:,} {unit}".rstrip() if rate else "",
        "eta_seconds": eta, "eta": _duration(eta), "elapsed": _duration(elapsed),
        "message": job.message, "counts": counts,
    }


def progress_text(done: int, total: int | None, percent: int) -> str:
    """“1,200 / 3,000（40%）”, or the count done when the total is not known."""
    if total:
        return f"{done:,} / {total:,}（{percent}%）"
    return f"{done:,}" if done else "—"


def _duration(seconds) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{seconds // 60} 分 {seconds % 60} 秒"
    return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分"
