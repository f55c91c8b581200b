"""The Celery tasks of the jobs (defined in ``runner`` and ``services``; this module is what
``celery -A config worker`` looks for in each app)."""
from .runner import run_job, run_job_part
from .services import start_periodic

__all__ = ["run_job", "run_job_part", "start_periodic"]
