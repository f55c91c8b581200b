"""Benchmark: batch settlement through the job ``settle_claims`` on 1, 2, … Celery worker
processes, each started as a separate ``celery -A config worker --pool prefork -c 1``
command (as separate machines would be), against the PostgreSQL database named by
DATABASE_URL and the Redis broker named by CELERY_BROKER_URL (docs/benchmarks.md).

Each round re-creates the data of bench/settle_bench.py (N entered 垫江 claims, two per
person; untimed, after a TRUNCATE of the previous round's claims and persons — a bench
database only — then ANALYZE), starts the workers and waits until they answer, then
times the job from ``claims_settle_start`` until it has ended (claims/s = settled / that
time). The round ``inline`` is ``claims_settle_batch`` in this process on the same data,
the single-process reference. The stored results of the rounds are compared (sums of
fund_total and personal, number of result lines).

    createdb -h 127.0.0.1 -U postgres medins_bench   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/settle_jobs_bench.py --claims 100000 --rounds inline,1,2
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
QUEUE = f"bench-settle-{uuid.uuid4().hex[:8]}"
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = QUEUE  # this process sends there, the workers read it


def start_workers(count: int) -> list[subprocess.Popen]:
    from celery import current_app

    processes, names = [], []
    for i in range(count):
        name = f"bench{i + 1}-{QUEUE}@localhost"
        names.append(name)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "-c", "1", "-Q", QUEUE,
             "-n", name, "--without-gossip", "--without-mingle", "-l", "warning"],
            cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))
    waiting, deadline = set(names), time.monotonic() + 120
    while waiting:
        waiting -= {n for reply in current_app.control.ping(destination=list(waiting), timeout=1.0) for n in reply}
        if time.monotonic() > deadline:
            raise SystemExit(f"workers did not answer: {sorted(waiting)}")
    return processes


def stop_workers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=60)


def outcome() -> tuple:
    from django.db.models import Count, Q, Sum

    from claims.models import Claim, ClaimLayer

    sums = Claim.objects.aggregate(fund=Sum("fund_total"), personal=Sum("personal"),
                                   settled=Count("id", filter=~Q(status="draft")))
    return sums["fund"], sums["personal"], sums["settled"], ClaimLayer.objects.count()


def main() -> None:
    import django

    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=100000)
    parser.add_argument("--rounds", default="inline,1,2", help="inline and/or numbers of worker processes")
    parser.add_argument("--chunk", type=int, default=500, help="persons per part (chunk_persons)")
    args = parser.parse_args()
    from django.conf import settings
    from django.db import connection
    from settle_bench import setup

    from claims.batch import claims_settle_batch, claims_settle_start
    from claims.models import Claim
    from jobs.models import Job

    assert connection.vendor == "postgresql", "DATABASE_URL must name a PostgreSQL database"
    assert settings.CELERY_BROKER_URL.startswith("redis"), "CELERY_BROKER_URL must name a Redis broker"
    results = {}
    for round_name in args.rounds.split(","):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:  # the previous round's rows (deleting them one by one is slow)
            cursor.execute("SELECT to_regclass('claims_claim') IS NOT NULL")
            if cursor.fetchone()[0]:
                cursor.execute("TRUNCATE claims_claim, enrollment_person CASCADE")
        setup(args.claims)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"[{round_name}] setup: {args.claims} claims in {time.perf_counter() - t0:.0f} s", flush=True)
        if round_name == "inline":
            t0 = time.perf_counter()
            report = claims_settle_batch(claims=Claim.objects.all(), acting_user=None, chunk_persons=args.chunk)
            elapsed, settled, parts = time.perf_counter() - t0, report.settled, "-"
        else:
            workers = start_workers(int(round_name))
            try:
                t0 = time.perf_counter()
                job = claims_settle_start(acting_user=None, chunk_persons=args.chunk)
                while not Job.objects.get(pk=job.pk).finished:
                    time.sleep(0.2)
                elapsed = time.perf_counter() - t0
            finally:
                stop_workers(workers)
            job = Job.objects.get(pk=job.pk)
            assert job.status == Job.Status.SUCCEEDED, job.message
            settled, parts = job.counts.get("settled", 0), job.params["parts"]
        results[round_name] = outcome()
        print(f"[{round_name}] {settled} claims in {elapsed:.1f} s = {settled / elapsed:,.0f} claims/s "
              f"({parts} parts); fund {results[round_name][0]}, personal {results[round_name][1]}, "
              f"{results[round_name][3]} result lines", flush=True)
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(QUEUE, *broker.keys(f"_kombu.binding*.{QUEUE}"))
    same = len(set(results.values())) == 1
    print("stored results identical across rounds:" if same else "STORED RESULTS DIFFER:", same)


if __name__ == "__main__":
    main()
