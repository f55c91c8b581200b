"""Project configuration; the Celery application is loaded with Django (docs/jobs.md)."""
from .celery import app as celery_app

__all__ = ["celery_app"]
