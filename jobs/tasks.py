"""The Celery tasks of the jobs (defined in ``runner``; this module is what
``celery -A config worker`` looks for in each app)."""
from .runner import run_job, run_job_part

__all__ = ["run_job", "run_job_part"]
