"""The Celery application of the project (docs/jobs.md): the long work — imports,
settlement runs, simulations, large exports — runs as tasks on ``celery worker``
processes, any number of them on any number of machines sharing one broker.

Configuration comes from the Django settings named ``CELERY_*`` (config/settings.py);
the apps' ``tasks`` modules are found at start-up. Start a worker with
``celery -A config worker`` and the calendar duties with ``celery -A config beat``.
"""
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

from config import worker_gc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("medins")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def _garbage_collector(**_kwargs):
    """A worker's garbage collector as a web process's (config/worker_gc.py): the start-up
    objects frozen, young collections every 10 000 new objects. ``worker_init`` in the main
    process (any pool), ``worker_process_init`` again in each prefork child after the fork,
    for what the parent loaded in between."""
    worker_gc.tune()
