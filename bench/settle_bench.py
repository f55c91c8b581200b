"""Benchmark of settlement speed, every figure in one run so that the ratios are measured
under the same load (issue 17): single claim (``services.claim_settle``: ms and SQL
queries per claim), batch settlement (``claims.batch.claims_settle_batch``: claims/s), the
policy simulation (``claims.simulation.simulate_plan_year``: claims/s) and the pure
engine (``insurance_rules.settle.settle_claim``, no database: claims/s — on this run's
own claims, inputs read once, and on the public worked examples of bench/engine_bench.py),
against the database named by DATABASE_URL (SQLite file by default).

Setup (not measured): migrate, load_policies, then N/2 垫江 residents with resident_basic
(tier 1) + critical_illness enrollments covering 2024, three hospitals, and N claims (two
per person: inpatient and outpatient, amounts varying), all written with bulk_create.
``--reuse``: keep the persons and claims of an earlier run with the same N and only put
the claims back to 录入 (their result lines and checklists deleted).
Measured, in this order: ``claim_settle`` claim by claim on the first ``--peer`` claims
(median ms; SQL queries counted on each); ``claims_settle_batch`` over all the others;
``simulate_plan_year`` of the 2024 resident_basic plan year over all the settled claims;
the engine. Wall time and the process's CPU time are both given (the machine is shared:
the CPU figure is the steadier one; the database server's CPU is not in it).
The same batch spread over Celery worker processes: bench/settle_jobs_bench.py.

    createdb -h 127.0.0.1 -U postgres medins_bench   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_bench \\
        .venv/bin/python bench/settle_bench.py --claims 100000 --peer 500
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(n_claims: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from claims.models import Claim, ClaimDocument, ClaimLayer, Hospital
    from enrollment.documents import make_id_number
    from enrollment.models import Enrollment, Person
    from policies.models import PlanYear, Region

    call_command("migrate", verbosity=0)
    call_command("load_policies", verbosity=0)
    for model in (ClaimDocument, ClaimLayer, Claim.given_layers.rel.related_model, Claim):
        model.objects.all().delete()
    Enrollment.objects.all().delete()
    Person.objects.all().delete()
    region = Region.objects.get(code="500231")
    basic = PlanYear.objects.get(scheme__region=region, scheme__kind="resident_basic", year=2024)
    critical = PlanYear.objects.get(scheme__region=region, scheme__kind="critical_illness", year=2024)
    hospitals = [Hospital.objects.update_or_create(code=f"BENCH-H{level}", defaults=dict(
        name=f"基准测试医院{level}", region=region, level=level, grade="A", admin_level="county"))[0]
        for level in (1, 2, 3)]
    n_persons = max(1, n_claims // 2)
    persons = []
    for i in range(n_persons):
        birth = date(1950, 1, 1) + timedelta(days=i % 20000)
        seq = i // 20000  # unique (birth date, sequence); odd sequence = male (GB 11643)
        persons.append(Person(document_type=Person.DocumentType.ID_CARD, document_number=make_id_number("500231", birth, seq),
                              name=f"测试{i}", birth_date=birth, sex=Person.Sex.MALE if seq % 2 else Person.Sex.FEMALE,
                              category="resident", hukou_region=region, residence_region=region))
    Person.objects.bulk_create(persons, batch_size=5000)
    persons = list(Person.objects.filter(name__startswith="测试").order_by("pk"))
    enrollments = []
    for p in persons:
        for py in (basic, critical):
            enrollments.append(Enrollment(person=p, plan_year=py, category=p.category, tier=1 if py == basic else 0,
                                          status="active", coverage_start=date(2024, 1, 1),
                                          coverage_end=date(2024, 12, 31), paid_off_date=date(2023, 11, 1)))
    Enrollment.objects.bulk_create(enrollments, batch_size=5000)
    claims = []
    for i in range(n_claims):
        p = persons[i // 2]
        kind = "inpatient" if i % 2 == 0 else "outpatient"
        total = Decimal(3000 + (i * 7919) % 60000) if kind == "inpatient" else Decimal(50 + i % 500)
        day = date(2024, 1, 1) + timedelta(days=(i * 13) % 360)
        claims.append(Claim(person=p, region=region, year=2024, claim_type=kind, service_date=day,
                            hospital=hospitals[i % 3] if kind == "inpatient" else hospitals[0],
                            settlement_no=f"BENCH-{i}", location="in_region", total=total,
                            compliant=total, accepted_on=day, status="draft"))
    Claim.objects.bulk_create(claims, batch_size=5000)
    connection.close()


def reset(n_claims: int) -> bool:
    """Put the claims of an earlier run with ``n_claims`` claims back to 录入 (result lines,
    checklists and their history deleted); False when there is no such run."""
    from django.db import connection

    from claims.models import Claim, ClaimDocument, ClaimLayer

    if Claim.objects.filter(settlement_no__startswith="BENCH-").count() != n_claims \
            or Claim.objects.exclude(settlement_no__startswith="BENCH-").exists():
        return False
    with connection.cursor() as cursor:
        for model in (ClaimDocument, ClaimDocument.history.model, ClaimLayer):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    Claim.objects.update(status="draft", settlement_version=0, fund_total=None, personal=None,
                         settled_at=None, settled_by=None)
    if connection.vendor == "postgresql":  # the dead rows left by the last run and this reset
        # (autovacuum may be off) would slow this run's reads and updates: rewritten compact
        with connection.cursor() as cursor:
            for model in (Claim, ClaimLayer, ClaimDocument, Claim.history.model, ClaimDocument.history.model):
                cursor.execute(f"VACUUM FULL {connection.ops.quote_name(model._meta.db_table)}")
    return True


def server_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend process (from
    /proc: the server runs on this machine in the benchmark setup), None elsewhere — the
    database's share of a settlement, which the process CPU leaves out."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_part(before: float | None, claims: int, more: float = 0.0) -> str:
    after = server_cpu()
    if before is None or after is None or not claims:
        return ""
    spent = after - before + more
    return f"; database server CPU {spent:.2f} s = {spent / claims * 1000:.3f} ms/claim"


def counting_threads(batch_module, log) -> list[float]:
    """Have the chunks that ``claims.batch`` settles in its own threads (``THREADS``:
    each on its connection) count their statements in ``log`` and their connection's
    server CPU in the returned list (the calling thread's connection measures its own)."""
    import threading

    from django.db import connection

    spent, lock, real = [], threading.Lock(), batch_module.settle_chunk

    def settle_chunk(*args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            return real(*args, **kwargs)
        mine = QueryLog()
        before = server_cpu()
        with connection.execute_wrapper(mine):
            part = real(*args, **kwargs)
        after = server_cpu()
        with lock:
            log.merge(mine)
            if before is not None and after is not None:
                spent.append(after - before)
        return part

    batch_module.settle_chunk = settle_chunk
    return spent


class QueryLog:
    """Counts the SQL statements run inside the block (``connection.execute_wrapper``:
    cheap, unlike ``CaptureQueriesContext``'s debug cursor) and their wall time, by
    statement shape (its first 70 characters) for ``--queries``."""

    def __init__(self):
        self.count, self.seconds, self.shapes = 0, 0.0, {}

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - t0
            self.count += 1
            self.seconds += spent
            shape = " ".join(sql.split())[:70]
            n, s = self.shapes.get(shape, (0, 0.0))
            self.shapes[shape] = (n + 1, s + spent)

    def merge(self, other: QueryLog) -> None:
        self.count += other.count
        self.seconds += other.seconds
        for shape, (n, s) in other.shapes.items():
            mine = self.shapes.get(shape, (0, 0.0))
            self.shapes[shape] = (mine[0] + n, mine[1] + s)

    def top(self, n: int = 12) -> str:
        rows = sorted(self.shapes.items(), key=lambda kv: -kv[1][1])[:n]
        return "\n".join(f"    {s * 1000:9.1f} ms {c:6d}x  {shape}" for shape, (c, s) in rows)


def measure_single(claims, acting_user=None) -> tuple[list[float], list[int]]:
    """``claim_settle`` on each claim: (ms per claim, queries per claim)."""
    from django.db import connection

    from claims import services

    times, queries = [], []
    for claim in claims:
        log = QueryLog()
        with connection.execute_wrapper(log):
            t0 = time.perf_counter()
            services.claim_settle(claim=claim, acting_user=acting_user)
            times.append((time.perf_counter() - t0) * 1000)
        queries.append(log.count)
    return times, queries


def engine_rate(claims, min_seconds: float = 3.0) -> float:
    """Claims/s of the pure engine over ``claims`` (stored, counted or not), their inputs
    read once (``fetch.fetch_settlement_inputs``, no history), settled in history order
    again and again for at least ``min_seconds`` of CPU."""
    from claims import fetch
    from claims.models import Claim
    from policies.models import Region

    region = Region.objects.get(code="500231")
    context = fetch.RegionYear.of(region, 2024)
    inputs = fetch.fetch_settlement_inputs(context, Claim.objects.filter(pk__in=claims), history=False)
    done, t0 = 0, time.process_time()
    while time.process_time() - t0 < min_seconds:
        for _ in fetch.settle_in_order(inputs):
            done += 1
    return done / (time.process_time() - t0)


def median(values):
    return statistics.median(values) if values else float("nan")


def main() -> None:
    import django

    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=10000)
    parser.add_argument("--peer", type=int, default=300, help="claims settled one by one")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the persons and claims of an earlier run with the same --claims")
    parser.add_argument("--no-analyze", action="store_true",
                        help="skip the ANALYZE after the setup (statistics as bulk_create left them)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the batch run to FILE")
    parser.add_argument("--queries", action="store_true",
                        help="print the batch's and the simulation's statements by time")
    parser.add_argument("--engine-rounds", type=int, default=20000,
                        help="claims of bench/engine_bench.py's worked examples")
    parser.add_argument("--batch-threads", type=int, default=None, metavar="N",
                        help="threads of the batch settlement (claims.batch.THREADS, PostgreSQL only; "
                             "default: the module's own)")
    args = parser.parse_args()
    import engine_bench
    from django.db import connection

    from claims import batch as batch_module
    from claims.batch import claims_settle_batch
    from claims.models import Claim
    from claims.simulation import simulate_plan_year
    from policies.models import PlanYear

    t0 = time.perf_counter()
    reused = args.reuse and reset(args.claims)
    if not reused:
        setup(args.claims)
    print(f"setup: {args.claims} claims in {time.perf_counter() - t0:.1f} s "
          f"({connection.vendor}{', reused' if reused else ''}); load {os.getloadavg()[0]:.2f}")
    if not args.no_analyze:  # as autovacuum does after a bulk load
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # single claim: the first claims of the first persons, in history order
    peer_ids = list(Claim.objects.order_by("person_id", "service_date", "id")
                    .values_list("pk", flat=True)[:args.peer])
    peer = list(Claim.objects.filter(pk__in=peer_ids).order_by("person_id", "service_date", "id"))
    s0 = server_cpu()
    c0, w0 = time.process_time(), time.perf_counter()
    times, queries = measure_single(peer)
    single_cpu, single_wall = time.process_time() - c0, time.perf_counter() - w0
    print(f"single (services.claim_settle): {len(peer)} claims, median {median(times):.1f} ms "
          f"(CPU {single_cpu / max(len(peer), 1) * 1000:.1f} ms/claim, wall {single_wall:.2f} s), "
          f"queries per claim median {median(queries):.0f} / max {max(queries, default=0)}"
          f"{_server_part(s0, len(peer))}; load {os.getloadavg()[0]:.2f}")

    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    if args.batch_threads is not None:
        batch_module.THREADS = args.batch_threads
    log = QueryLog()
    threads_cpu = counting_threads(batch_module, log)
    s0 = server_cpu()
    c0, w0 = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(log):
        report = claims_settle_batch(claims=Claim.objects.all(), acting_user=None)
    batch_cpu, batch_wall = time.process_time() - c0, time.perf_counter() - w0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    batch = report.settled / batch_wall
    threads = batch_module.THREADS if connection.vendor == "postgresql" else 1
    print(f"batch (claims_settle_batch, {threads} thread{'s' if threads > 1 else ''}): "
          f"{report.settled} claims, {report.persons} persons, "
          f"{len(report.failed)} failed in {batch_wall:.2f} s = {batch:,.0f} claims/s "
          f"(CPU {batch_cpu:.2f} s = {report.settled / batch_cpu:,.0f} claims/s of CPU); "
          f"{log.count} queries ({log.count / max(report.settled, 1):.3f} per claim, "
          f"{log.seconds:.2f} s waiting for them, COPY not counted)"
          f"{_server_part(s0, report.settled, sum(threads_cpu))}; "
          f"peak RSS {peak_mb():.0f} MB; load {os.getloadavg()[0]:.2f}")

    plan_year = PlanYear.objects.select_related("scheme__region").get(
        scheme__region__code="500231", scheme__kind="resident_basic", year=2024)
    sim_log = QueryLog()
    s0 = server_cpu()
    c0, w0 = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(sim_log):
        result = simulate_plan_year(plan_year=plan_year, base_year=2024)
    sim_cpu, sim_wall = time.process_time() - c0, time.perf_counter() - w0
    simulation = result.claims / sim_wall
    print(f"simulation (simulate_plan_year): {result.claims} claims, {len(result.errors)} errors in "
          f"{sim_wall:.2f} s = {simulation:,.0f} claims/s (CPU {sim_cpu:.2f} s = "
          f"{result.claims / sim_cpu:,.0f} claims/s of CPU); {sim_log.count} queries"
          f"{_server_part(s0, result.claims)}; "
          f"load {os.getloadavg()[0]:.2f}")
    if args.queries:
        print("  batch statements by time:\n" + log.top())
        print("  simulation statements by time:\n" + sim_log.top())

    engine = engine_rate(list(Claim.objects.values_list("pk", flat=True)))
    examples = engine_bench.engine_rate(args.engine_rounds)
    print(f"engine (settle_claim, no database, CPU): {engine:,.0f} claims/s on these claims; "
          f"{examples:,.0f} claims/s on the worked examples (bench/engine_bench.py)")
    print(f"ratios: batch/engine {batch / engine:.2f} (CPU {report.settled / batch_cpu / engine:.2f}); "
          f"simulation/batch {simulation / batch:.2f}; single claim {median(times):.1f} ms, "
          f"{median(queries):.0f} queries")


if __name__ == "__main__":
    main()
