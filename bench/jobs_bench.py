"""Benchmark of the admin import as jobs (issue 14; docs/benchmarks.md §后台任务).

On the database named by ``DATABASE_URL`` (PostgreSQL) with Redis as the broker
(``CELERY_BROKER_URL``, default ``redis://127.0.0.1:6379/7``), for one persons file of N
rows:

1. ``import_sheet persons FILE`` in its own process: the reference;
2. the enrollment tables emptied, a ``celery worker`` started as a separate process, the
   file uploaded through the admin's import page (Django's test client, the whole
   middleware stack, as a clerk): how long the upload request takes to answer; then
   how long the 校验 job takes and, after 确认导入, the 导入 job (each from the
   job's own start and end times);
3. the queue's overhead: N near-empty jobs through the same worker (``jobs.run`` of a
   ``job_files_cleanup`` with nothing to clean: one query), per job.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_bench \\
        .venv/bin/python bench/jobs_bench.py --n 100000

Never point it at a database whose persons you want to keep.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/7")
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", "bench-jobs")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# the bench measures the job path, not the login: its superuser logs in with one factor
os.environ.setdefault("OTP_REQUIRED_FOR_SUPERUSERS", "false")

from import_bench import generate, prepare_db  # noqa: E402


def start_worker(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING",
                             "--concurrency", "1", "-Q", env["CELERY_TASK_DEFAULT_QUEUE"]],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait(job_id: int, timeout: float = 3600):
    from jobs.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.finished:
            return job
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} did not finish")


def seconds(job) -> float:
    return (job.finished_at - job.started_at).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=200, help="empty tasks for the queue overhead")
    args = parser.parse_args()
    env = {**os.environ}
    directory = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
    path = generate(directory, args.n, xlsx=False)["persons.csv"]
    prepare_db()
    from django.db import connection

    print(f"database: {connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}/"
          f"{connection.settings_dict['NAME']}, {args.n} persons (csv), broker {env['CELERY_BROKER_URL']}")

    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "import_sheet", "persons", str(path)], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reference = time.perf_counter() - started
    print(f"import_sheet persons                 {reference:8.2f} s")

    prepare_db()
    worker = start_worker(env)
    try:
        _admin_run(path, reference)
        _queue_overhead(args.tasks)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


def _admin_run(path: Path, reference: float) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    user = get_user_model().objects.filter(username="bench-admin").first() or \
        get_user_model().objects.create_superuser("bench-admin", password=None)
    client = Client()
    client.force_login(user)
    url = reverse("admin:enrollment_person_import_sheet")
    with open(path, "rb") as handle:
        started = time.perf_counter()
        response = client.post(url, {"file": handle})
        answered = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    check = wait(_job_of(response))
    print(f"admin upload answered in             {answered:8.3f} s")
    print(f"校验 job (dry run)                    {seconds(check):8.2f} s  {check.status} {check.counts}")
    started = time.perf_counter()
    response = client.post(url, {"job": check.pk})
    confirmed = time.perf_counter() - started
    job = wait(_job_of(response))
    print(f"确认导入 answered in                  {confirmed:8.3f} s")
    print(f"导入 job                              {seconds(job):8.2f} s  {job.status} {job.counts}")
    print(f"导入 job / import_sheet               {seconds(job) / reference:8.2f}")


def _job_of(response) -> int:
    """The job whose page the admin redirected to (…/jobs/myjob/<id>/change/)."""
    location = response["Location"]
    assert "/jobs/myjob/" in location, f"the admin did not open a job page: {location}"
    return int(location.rstrip("/").split("/")[-2])


def _queue_overhead(tasks: int) -> None:
    from jobs.models import Job
    from jobs.runner import run_job

    # the lightest job the worker knows: one query (no job has files old enough)
    jobs = [Job.objects.create(kind="job_files_cleanup", title="队列开销") for _ in range(tasks)]
    started = time.perf_counter()
    for job in jobs:
        run_job.delay(job.pk)
    last = wait(jobs[-1].pk)
    elapsed = time.perf_counter() - started
    print(f"queue: {tasks} empty jobs              {elapsed:8.2f} s = {elapsed / tasks * 1000:.1f} ms per job "
          f"(last {last.status})")


if __name__ == "__main__":
    main()
