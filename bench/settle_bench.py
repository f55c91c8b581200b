"""Benchmark: batch settlement of N entered claims (``claims.batch``, command
``settle_claims``), against the database named by DATABASE_URL (SQLite file by default).

Setup (not measured): migrate, load_policies, then N/2 垫江 residents with resident_basic
(tier 1) + critical_illness enrollments covering 2024, five hospitals, and N claims (two
per person: inpatient and outpatient, amounts varying), all written with bulk_create.
Measured: ``claims_settle_batch`` over all of them — wall time, claims/s, peak RSS — and,
for the peer, ``services.claim_settle`` claim by claim on the first ``--peer`` claims.
The same run spread over Celery worker processes: bench/settle_jobs_bench.py.

    createdb -h 127.0.0.1 -U postgres medins_bench   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medins_bench \\
        .venv/bin/python bench/settle_bench.py --claims 100000
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
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
            enrollments.append(Enrollment(person=p, plan_year=py, tier=1 if py == basic else 0,
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


def main() -> None:
    import django

    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=10000)
    parser.add_argument("--peer", type=int, default=500, help="claims settled one by one (the peer)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="skip the ANALYZE after the setup (statistics as bulk_create left them)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the batch run to FILE")
    args = parser.parse_args()
    from django.db import connection

    from claims import services
    from claims.batch import claims_settle_batch
    from claims.models import Claim

    t0 = time.perf_counter()
    setup(args.claims)
    print(f"setup: {args.claims} claims in {time.perf_counter() - t0:.1f} s "
          f"({connection.vendor})")
    if not args.no_analyze:  # as autovacuum does after a bulk load
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    peer_ids = list(Claim.objects.order_by("person_id", "service_date", "id")
                    .values_list("pk", flat=True)[:args.peer])
    t0 = time.perf_counter()
    for claim in Claim.objects.filter(pk__in=peer_ids).order_by("person_id", "service_date", "id"):
        services.claim_settle(claim=claim, acting_user=None)
    peer = time.perf_counter() - t0
    print(f"peer (services.claim_settle one by one): {len(peer_ids)} claims in {peer:.2f} s "
          f"= {len(peer_ids) / peer:,.0f} claims/s")
    profiler = None
    if args.profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    report = claims_settle_batch(claims=Claim.objects.all(), acting_user=None)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    elapsed = time.perf_counter() - t0
    print(f"batch (claims_settle_batch): {report.settled} claims, {report.persons} persons, "
          f"{len(report.failed)} failed in {elapsed:.2f} s = {report.settled / elapsed:,.0f} claims/s; "
          f"peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
