"""The Celery application of the project (docs/jobs.md): the long work — imports,
settlement runs, simulations, large exports — runs as tasks on ``celery worker``
processes, any number of them on any number of machines sharing one broker.

Configuration comes from the Django settings named ``CELERY_*`` (config/settings.py);
the apps' ``tasks`` modules are found at start-up. Start a worker with
``celery -A config worker`` and the calendar duties with ``celery -A config beat``.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("medins")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
