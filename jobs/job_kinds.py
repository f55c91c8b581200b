"""The jobs app's own calendar duty (docs/jobs.md §定时任务): ``job_files_cleanup`` deletes
the uploaded files, results and error reports of jobs that ended more than
``JOBS_FILE_RETENTION_DAYS`` days ago (the rows and logs stay)."""
from django.conf import settings

from .registry import job_kind
from .services import job_files_remove_old


@job_kind("job_files_cleanup", "清理过期任务文件", count_labels={"jobs": "清理的任务"})
def job_files_cleanup(job_run) -> str:
    days = settings.JOBS_FILE_RETENTION_DAYS
    removed = job_files_remove_old(days=days)
    job_run.count(jobs=removed)
    return f"已删除 {removed} 个任务中超过 {days} 天的文件" if removed else f"没有超过 {days} 天的任务文件"
