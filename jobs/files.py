"""Files kept between two requests or handed to a worker live in Django's default storage
(``STORAGES["default"]``: ``MEDIA_ROOT`` on disk, or an S3-compatible bucket), never in one
process's temporary folder, so any app server or worker machine can read them
(docs/jobs.md §文件)."""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.core.files.storage import default_storage


def store_upload(upload, folder: str) -> str:
    """Store an uploaded file under ``folder`` with an unguessable name; returns its name."""
    suffix = Path(upload.name).suffix.lower()
    return default_storage.save(f"{folder}/{secrets.token_hex(16)}{suffix}", upload)


@contextmanager
def local_path(name: str, storage=default_storage):
    """A path on this machine of the stored file ``name``: the storage's own path on disk,
    or a copy (removed afterwards) for a remote storage."""
    try:
        yield storage.path(name)
        return
    except NotImplementedError:
        pass
    handle, path = tempfile.mkstemp(suffix=Path(name).suffix)
    try:
        with os.fdopen(handle, "wb") as out, storage.open(name, "rb") as source:
            shutil.copyfileobj(source, out)
        yield path
    finally:
        os.unlink(path)
