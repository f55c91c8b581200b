"""What changes while a job runs — its progress and a cancel request — kept in the cache
that every web and worker process shares (``CACHES``; docs/jobs.md §进度). The job's row
is written when it starts and ends: a running import holds its work in one database
transaction, which the progress must not wait for."""
from __future__ import annotations

import time

from django.core.cache import cache
from django.db import connection

KEEP = 7 * 24 * 3600  # seconds a key outlives its job's last change


def _key(job_id: int, what: str) -> str:
    # the database's name keeps jobs of two databases sharing one cache apart
    return f"jobs:{connection.settings_dict['NAME']}:{job_id}:{what}"


def set_progress(job_id: int, done: int, total: int | None, stage: str = "") -> None:
    cache.set(_key(job_id, "progress"), {"done": done, "total": total, "stage": stage, "at": time.time()}, KEEP)


def get_progress(job_id: int) -> dict | None:
    return cache.get(_key(job_id, "progress"))


def request_cancel(job_id: int) -> None:
    cache.set(_key(job_id, "cancel"), True, KEEP)


def cancel_requested(job_id: int) -> bool:
    return bool(cache.get(_key(job_id, "cancel")))


def forget(job_id: int) -> None:
    cache.delete_many([_key(job_id, "progress"), _key(job_id, "cancel")])
