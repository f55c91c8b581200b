"""The job ``settle_claims`` on real Celery workers (issue 14 §3–4; docs/claims.md §Batch
settlement): ``celery -A config worker`` processes started here as separate commands, as
on separate machines, sharing the Redis broker at 127.0.0.1:6379 (db 5, a queue of their
own) and the test database (committed rows: transactional tests).

- twins: the claims of one group of persons settled by ``claims_settle_batch`` in this
  process, those of their twins by the job over two worker processes — the stored
  results are the same;
- SIGKILL: the worker process settling a part is killed after it wrote the claims'
  lines, before or while its transaction commits — nothing of it is visible, the part
  is delivered again and the job ends with each claim settled once;
- a part delivered twice settles nothing twice and counts once.

Without a Redis server the worker tests are skipped, except in CI (``CI`` set), where
they fail.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from claims import batch
from claims.batch import claims_settle_batch, claims_settle_start, plan_chunks
from claims.models import Claim, ClaimDocument, ClaimLayer
from jobs import runner
from jobs.models import Job, JobPart
from jobs.runner import execute_part, run_job

from .factories import dianjiang_person, outpatient

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="真实 worker 的测试需要 PostgreSQL"),
]

BROKER = "redis://127.0.0.1:6379/5"
VISIBILITY_TIMEOUT = 10  # seconds: a message taken by a worker that vanished is delivered again
WAIT = 120  # seconds the tests wait for a worker or a job at most (2 shared cores)
AMOUNTS = ("400", "400", "100")  # 垫江 outpatient, annual limit 300: reached by the first claims


# --------------------------------------------------------------------------- helpers


def _broker_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as error:
        reason = f"Redis 不可用（{BROKER}：{error}），无法启动真实的 celery worker"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _reset_producers(app) -> None:
    """Forget the connection pool and the queues of the previous configuration (kombu
    keeps the pools by broker, so the pool of each broker stays usable)."""
    app._pool = None
    app.__dict__.pop("amqp", None)


class Workers:
    """``celery worker`` processes on a queue of their own, and this process's Celery app
    sending to it (``override_settings`` of ``CELERY_*`` does not reconfigure the app)."""

    CONF = {"broker_url": BROKER, "task_always_eager": False,
            "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT}}

    def __init__(self, logs: Path):
        self.app = run_job.app
        self.queue = f"test-settle-{uuid.uuid4().hex[:10]}"
        self.logs = logs
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.saved = {key: self.app.conf[key] for key in (*self.CONF, "task_default_queue")}
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "DATABASE_URL": _database_url(),
                    "CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_URL": BROKER,
                    "CELERY_TASK_DEFAULT_QUEUE": self.queue, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                    # the jobs' files and the progress cache: the folder this process uses
                    "VAR_DIR": str(settings.VAR_DIR)}

    def configure(self) -> None:
        self.app.conf.update(**self.CONF, task_default_queue=self.queue)
        _reset_producers(self.app)

    def start(self, count: int = 1, *, wait: bool = True) -> list[str]:
        """Start ``count`` worker processes; ``wait``: until each answers a ping, else the
        caller builds its data while they load (``ready``)."""
        names = []
        for _ in range(count):
            name = f"w{len(self.processes) + 1}-{self.queue}@localhost"
            log = open(self.logs / f"{name.split('@')[0]}.log", "wb")  # noqa: SIM115 (closed with the process)
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "-c", "1",
                 "-Q", self.queue, "-n", name, "--without-gossip", "--without-mingle", "-l", "warning"],
                cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
            self.processes.append((name, process))
            names.append(name)
        if wait:
            self.ready(names)
        return names

    def ready(self, names: list[str]) -> None:
        """Wait until each of the workers ``names`` answers a ping."""
        deadline = time.monotonic() + WAIT
        waiting = set(names)
        while waiting:
            for name, process in self.processes:
                assert process.poll() is None, f"worker {name} 退出了：\n{self.log_text()}"
            replies = self.app.control.ping(destination=list(waiting), timeout=1.0)
            waiting -= {name for reply in replies for name in reply}
            assert time.monotonic() < deadline, f"worker 未能在 {WAIT} 秒内启动：\n{self.log_text()}"

    def pid(self, name: str) -> int:
        return dict(self.processes)[name].pid

    def children(self, name: str) -> list[int]:
        """The prefork pool's processes of a worker (the ones that run the tasks)."""
        found = subprocess.run(["pgrep", "-P", str(self.pid(name))], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]

    def tasks_done(self) -> dict[str, dict[str, int]]:
        """Worker name → task name → how many it ran."""
        stats = self.app.control.inspect(destination=[n for n, _p in self.processes], timeout=2.0).stats() or {}
        return {name: stat.get("total", {}) for name, stat in stats.items()}

    def log_text(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
                         for path in sorted(self.logs.glob("*.log")))

    def stop(self) -> None:
        for _name, process in self.processes:
            if process.poll() is None:
                process.terminate()  # warm shutdown: the current task ends first
        for _name, process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the pool's processes too, whatever is left
            except ProcessLookupError:
                pass
            process.wait()
        self.app.conf.update(**self.saved)
        _reset_producers(self.app)
        import redis

        broker = redis.Redis.from_url(BROKER)
        broker.delete(self.queue, *broker.keys(f"_kombu.binding*.{self.queue}"))


@pytest.fixture
def workers(transactional_db, tmp_path):
    _broker_or_skip()
    pool = Workers(tmp_path)
    pool.configure()
    try:
        with override_settings(JOBS_RUN_INLINE=False):  # job_start sends to the broker on commit
            yield pool
    finally:
        pool.stop()


def wait_for(predicate, what: str, workers: Workers | None = None, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"等待超时：{what}" + (f"\n{workers.log_text()}" if workers else ""))
        time.sleep(0.05)


def finished(job: Job, workers: Workers) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).finished, f"任务 {job.pk} 结束", workers)
    return Job.objects.get(pk=job.pk)


def stored(claims) -> list:
    """What settlement stored for each claim (ids, timestamps and the person aside)."""
    out = []
    for claim in claims:
        claim.refresh_from_db()
        layers = list(ClaimLayer.objects.filter(claim=claim).order_by("version", "seq").values(
            "version", "is_current", "seq", "scheme_kind", "scheme_name", "paid", "deductible", "ratio", "capped",
            "basis", "reason", "explanation", "param_refs", "items", "extra", "given", "settled_by"))
        documents = list(ClaimDocument.objects.filter(claim=claim).order_by("seq", "code").values_list(
            "scheme_kind", "code", "name", "copies", "seq"))
        reasons = list(claim.history.order_by("history_id").values_list("history_change_reason", flat=True))
        out.append((claim.status, claim.settlement_version, claim.fund_total, claim.personal, claim.total,
                    layers, documents, reasons))
    return out


def twins(count: int):
    """``count`` pairs of persons, each with the same three outpatient claims."""
    one = [dianjiang_person(tier=1) for _ in range(count)]
    other = [dianjiang_person(tier=1) for _ in range(count)]
    day = [outpatient(p, t, no=f"A-{i}-{k}") for i, p in enumerate(one) for k, t in enumerate(AMOUNTS)]
    job = [outpatient(p, t, no=f"B-{i}-{k}") for i, p in enumerate(other) for k, t in enumerate(AMOUNTS)]
    return one, other, day, job


# --------------------------------------------------------------------------- tests


def test_two_worker_processes_store_what_one_process_stores(workers, loaded_policies):
    """Twins with the same claims: one group settled by ``claims_settle_batch`` in this
    process, the other by the job with one person per part over two separately started
    worker processes (both of which take parts); the stored claims, result lines,
    checklists and history agree, and each person's limit is reached by the earlier
    claims in both."""
    names = workers.start(2, wait=False)  # they load while the claims are written and settled here
    serial, shared, serial_claims, shared_claims = twins(6)
    one = claims_settle_batch(claims=Claim.objects.filter(person__in=serial), acting_user=None, chunk_persons=1)
    assert (one.settled, one.persons, one.failed) == (18, 6, [])
    workers.ready(names)

    job = claims_settle_start(acting_user=None, claim_ids=[c.pk for c in shared_claims], chunk_persons=1)
    job = finished(job, workers)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.counts == {"settled": 18, "failed": 0, "persons": 6} and (job.done, job.total) == (18, 18)
    assert JobPart.objects.filter(job=job).count() == job.params["parts"] == 6
    assert stored(shared_claims) == stored(serial_claims)
    assert {c.status for c in shared_claims} == {Claim.Status.SETTLED}
    limit = [sum(layer["paid"] for layer in s[5] if layer["scheme_kind"] == "resident_basic")
             for s in stored(shared_claims)]
    assert [sum(limit[i:i + 3]) for i in range(0, 18, 3)] == [300] * 6
    done = workers.tasks_done()
    assert all(done.get(name, {}).get("jobs.part", 0) >= 1 for name in names), done


def _waiting(db: psycopg.Connection, query_like: str) -> int | None:
    """The backend of the test database waiting for a lock in a statement like ``query_like``."""
    row = db.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
                     "pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE %s",
                     [query_like]).fetchone()
    db.commit()
    return row[0] if row else None


@pytest.mark.parametrize("held_at", ["insert", "commit"])
def test_worker_killed_mid_part_leaves_nothing_and_the_job_ends(workers, loaded_policies, held_at):
    """The part (both persons in one) is held from outside on a person's row lock, then —
    once it has written the claims' lines and history — at the end of its transaction:

    - ``insert``: its ``JobPart`` insert waits for the same row inserted (not committed)
      here. The worker's pool process is killed (SIGKILL) before it sent COMMIT: nothing
      of the part is stored; the part is delivered again and settles the claims.
    - ``commit``: its COMMIT (already sent) waits for the job's row (the ``JobPart``'s
      foreign key is checked at commit) and the process is killed there: still nothing
      is visible; once released the commit lands, and the part delivered again finds its
      ``JobPart`` (at once, or when its own insert collides with it) and ends the job,
      which the killed process could not do.

    Either way each claim is settled once and the job succeeds with the stored result of
    one in-process run."""
    (name,) = workers.start(1, wait=False)  # it loads while the claims are written and settled here
    serial, shared, serial_claims, shared_claims = twins(2)
    claims_settle_batch(claims=Claim.objects.filter(person__in=serial), acting_user=None)
    workers.ready([name])
    persons_lock, holder, observer = (psycopg.connect(_database_url()) for _ in range(3))
    try:
        persons_lock.execute("SELECT id FROM enrollment_person WHERE id = %s FOR UPDATE", [min(p.pk for p in shared)])
        job = claims_settle_start(acting_user=None, claim_ids=[c.pk for c in shared_claims])
        wait_for(lambda: _waiting(observer, "%enrollment_person%FOR UPDATE%"), "结算部分等待参保人行锁", workers)
        assert Job.objects.get(pk=job.pk).params["parts"] == 1
        if held_at == "insert":
            holder.execute("INSERT INTO jobs_jobpart (job_id, number, done, counts, finished_at) "
                           "VALUES (%s, 0, 0, '{}', now())", [job.pk])
            statement = 'INSERT INTO "jobs_jobpart"%'
        else:
            holder.execute("SELECT id FROM jobs_job WHERE id = %s FOR UPDATE", [job.pk])
            statement = "COMMIT"
        persons_lock.rollback()
        backend = wait_for(lambda: _waiting(observer, statement), "结算部分写完理赔后等待", workers)
        written = {row[0] for row in observer.execute(
            "SELECT relation::regclass::text FROM pg_locks WHERE pid = %s AND mode = 'RowExclusiveLock'",
            [backend]).fetchall()}
        observer.commit()
        assert {"claims_claimlayer", "claims_claim", "claims_historicalclaim", "jobs_jobpart"} <= written, written

        (child,) = workers.children(name)
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: child not in workers.children(name), "进程被终止", workers)
        assert set(Claim.objects.filter(pk__in=[c.pk for c in shared_claims]).values_list("status", flat=True)) \
            == {Claim.Status.DRAFT}
        assert not ClaimLayer.objects.filter(claim__in=shared_claims).exists()
        assert not JobPart.objects.filter(job=job).exists()
        holder.rollback()
    finally:
        for db in (persons_lock, holder, observer):
            db.close()

    job = finished(job, workers)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert (job.counts, job.attempts) == ({"settled": 6, "failed": 0, "persons": 2}, 1)
    assert JobPart.objects.filter(job=job).count() == 1
    assert stored(shared_claims) == stored(serial_claims)
    for status, version, *_money, reasons in stored(shared_claims):
        assert (status, version, reasons.count("批量结算")) == (Claim.Status.SETTLED, 1, 1)
    assert ClaimLayer.objects.filter(claim__in=shared_claims).count() \
        == ClaimLayer.objects.filter(claim__in=serial_claims).count()


def test_a_part_delivered_twice_settles_and_counts_once(loaded_policies, monkeypatch):
    """The second delivery of a part (a redelivered message, or two workers given the
    same one) finds the part's row and does nothing but end the job when its parts are
    all done: the claims are settled once, with one history row each, and the job's
    counts are not doubled. The last part's first delivery here stands for a worker
    killed between the part's commit and the end of the job."""
    first, second = dianjiang_person(tier=1), dianjiang_person(tier=1)
    claims = [outpatient(p, t) for p in (first, second) for t in AMOUNTS]
    job = Job.objects.create(kind="settle_claims", title="批量结算", status=Job.Status.RUNNING, total=6,
                             params={"claim_ids": [c.pk for c in claims], "chunk_persons": 1, "parts": 2})
    chunks = plan_chunks(Claim.objects.filter(pk__in=[c.pk for c in claims]), 1)
    payloads = [{"region_id": r, "year": y, "person_ids": p} for r, y, p in chunks]
    execute_part(job.pk, 0, payloads[0])
    before = stored(claims)
    execute_part(job.pk, 0, payloads[0])
    assert stored(claims) == before
    assert JobPart.objects.filter(job=job).count() == 1
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING

    finish = runner._finish_when_parts_done
    monkeypatch.setattr(runner, "_finish_when_parts_done", lambda job_id: None)  # the worker dies here
    execute_part(job.pk, 1, payloads[1])
    monkeypatch.setattr(runner, "_finish_when_parts_done", finish)
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING
    execute_part(job.pk, 1, payloads[1])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.done, job.counts) == (6, {"settled": 6, "failed": 0, "persons": 2})
    assert JobPart.objects.filter(job=job).count() == 2
    for claim in claims:
        claim.refresh_from_db()
        assert claim.settlement_version == 1
        assert list(claim.history.values_list("history_change_reason", flat=True)).count("批量结算") == 1


def test_two_threads_store_what_one_thread_stores(loaded_policies, monkeypatch):
    """Twins settled by ``claims_settle_batch`` one chunk after the other and by two
    threads each on its own connection (``batch.THREADS``, PostgreSQL outside a
    transaction), one person per chunk: the same stored claims, lines, checklists and
    history; the progress callback sees every claim."""
    serial, shared, serial_claims, shared_claims = twins(4)
    monkeypatch.setattr(batch, "THREADS", 1)
    one = claims_settle_batch(claims=Claim.objects.filter(person__in=serial), acting_user=None, chunk_persons=1)
    monkeypatch.setattr(batch, "THREADS", 2)
    threads, seen = set(), []
    real = batch.settle_chunk

    def settle_chunk(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "settle_chunk", settle_chunk)
    two = claims_settle_batch(claims=Claim.objects.filter(person__in=shared), acting_user=None, chunk_persons=1,
                              progress=seen.append)
    assert (one.settled, one.persons, one.failed) == (two.settled, two.persons, two.failed) == (12, 4, [])
    assert sum(seen) == 12 and threading.current_thread().name not in threads and len(threads) >= 1
    assert stored(shared_claims) == stored(serial_claims)


def test_a_thread_error_is_raised_after_the_threads_end(loaded_policies, monkeypatch):
    """A chunk failing in a thread stops the threads and is raised in the caller."""
    persons = [dianjiang_person(tier=1) for _ in range(3)]
    for i, p in enumerate(persons):
        outpatient(p, "100", no=f"E-{i}")
    monkeypatch.setattr(batch, "THREADS", 2)

    def settle_chunk(*args, **kwargs):
        raise RuntimeError("chunk failed")

    monkeypatch.setattr(batch, "settle_chunk", settle_chunk)
    with pytest.raises(RuntimeError, match="chunk failed"):
        claims_settle_batch(claims=Claim.objects.filter(person__in=persons), acting_user=None, chunk_persons=1)
    assert not [t for t in threading.enumerate() if t.name.startswith("settle-")]
