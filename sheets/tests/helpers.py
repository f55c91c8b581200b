"""Builders of test files (csv in a chosen encoding, xlsx) for the sheet tests of every app.

The rows of enrollment's kinds (persons, payments) are built in ``enrollment.tests.sheet_rows``:
``sheets`` is below the apps and its tests import none of them."""
from __future__ import annotations

import csv
import io
from pathlib import Path


def write_csv(path: Path, header, rows, *, encoding="utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header, rows) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def admin_upload(client, url: str, path: Path):
    """Upload ``path`` on an admin import page: the page starts a 校验 job (run at once in
    the tests) and opens the job's page, which is returned (``.context["job"]``)."""
    with open(path, "rb") as handle:
        started = client.post(url, {"file": handle})
    assert started.status_code == 302, started.content.decode()[:500]
    return client.get(started["Location"])


def admin_confirm(client, url: str, check_job):
    """确认导入 on a checked upload: starts the 导入 job; returns its page."""
    started = client.post(url, {"job": check_job.pk})
    assert started.status_code == 302
    return client.get(started["Location"])
