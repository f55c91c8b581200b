"""What changes while a job runs — its progress and a cancel request — kept in the cache
that every web and worker process shares (``CACHES``; docs/jobs.md §进度). The job's row
is written when it starts and ends: a running import holds its work in one database
transaction, which the progress must not wait for."""
from __future__ import annotations

import time

from django.core.cache import cache
from django.db import connection

KEEP = 7 * 24 * 3600  # seconds a key outlives its job's last change


def _key(job, what: str) -> str:
    # the database's name keeps jobs of two databases sharing one cache apart, the time
    # the job was submitted a reused id (a test database rolled back) from an older job
    return f"jobs:{connection.settings_dict['NAME']}:{job.pk}:{job.created_at.timestamp()}:{what}"


def set_progress(job, done: int, total: int | None, stage: str = "") -> None:
    cache.set(_key(job, "progress"), {"done": done, "total": total, "stage": stage, "at": time.time()}, KEEP)


def get_progress(job) -> dict | None:
    return cache.get(_key(job, "progress"))


def request_cancel(job) -> None:
    cache.set(_key(job, "cancel"), True, KEEP)


def cancel_requested(job) -> bool:
    return bool(cache.get(_key(job, "cancel")))
