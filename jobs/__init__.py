"""Long work as jobs on Celery workers, with progress in the browser (docs/jobs.md)."""
