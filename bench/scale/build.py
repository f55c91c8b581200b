"""``build``: the bureau-scale database (bench/bureau_scale.py)."""
from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from enrollment.models import Person
from policies.models import PlanYear

from . import claims, extras, people

# Management commands run after the COPY when they exist (derived tables: the person →
# region visibility, the dashboard's summary tables); the lead wires the final names.
DERIVE_COMMANDS = ["rebuild_person_regions", "refresh_dashboard", "rebuild_fund_balances"]
DONE_MARK = "bureau-scale complete"  # the last audit entry's object_repr of a finished build


def complete(persons: int) -> bool:
    """An earlier build of this size finished (``--reuse``)."""
    from audit.models import AuditEntry

    return AuditEntry.objects.filter(object_repr=f"{DONE_MARK} {persons}").exists() and \
        Person.objects.count() >= persons


def _say(out, text):
    out(f"{time.strftime('%H:%M:%S')} {text}")


def build(*, persons: int, out=print, vacuum: bool = True) -> dict:
    """Migrate, load the policies, COPY the rows; then the derived tables and VACUUM ANALYZE.
    Returns the row counts and the seconds each step took."""
    if connection.vendor != "postgresql":
        raise SystemExit("the bureau-scale build needs PostgreSQL (COPY)")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not PlanYear.objects.exists():
        call_command("load_policies", verbosity=0)
    if Person.objects.exists():
        raise SystemExit("the database already holds persons: build into an empty database "
                         "(dropdb/createdb), or pass --reuse to keep a complete one")
    year = PlanYear.objects.order_by("-year").values_list("year", flat=True).first()
    counts, steps = {}, {}
    every_claim = 5 if persons >= 5 else 1
    with transaction.atomic():
        raw = connection.cursor().cursor
        plan = people.new_plan(raw, persons, year)
        for name, step in [
            ("persons", lambda: {"persons": people.copy_persons(raw, plan)}),
            ("enrollments", lambda: {"enrollments": people.copy_enrollments(raw, plan)}),
            ("payments", lambda: dict(zip(("payments", "payment journals", "payment entries"),
                                          people.copy_payments(raw, plan), strict=True))),
            ("claims", lambda: claims.copy_claims(raw, plan, every_claim)),
            ("registrations", lambda: {"registrations": extras.copy_registrations(raw, plan, 12)}),
            ("refunds", lambda: {"refunds": extras.copy_refunds(raw, plan, max(1, persons // 200))}),
            ("jobs", lambda: {"jobs": extras.copy_jobs(raw, plan, max(5, persons // 500))}),
            ("audit", lambda: {"audit entries": extras.copy_audit(raw, max(10, persons // 10))}),
        ]:
            t0 = time.perf_counter()
            counts.update(step())
            steps[name] = time.perf_counter() - t0
            _say(out, f"{name}: {steps[name]:.1f} s")
    t0 = time.perf_counter()
    for command in DERIVE_COMMANDS:
        try:
            call_command(command)
            _say(out, f"derived: {command}")
        except CommandError as exc:  # not on this branch (yet)
            _say(out, f"derived: {command} skipped ({exc})")
    steps["derived"] = time.perf_counter() - t0
    from audit.models import Action
    from audit.services import audit_record

    audit_record(action=Action.IMPORT, obj=f"{DONE_MARK} {persons}", details={"counts": counts})
    if vacuum and not connection.in_atomic_block:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        steps["vacuum analyze"] = time.perf_counter() - t0
        _say(out, f"VACUUM ANALYZE: {steps['vacuum analyze']:.1f} s")
    steps["total"] = time.perf_counter() - started
    return {"counts": counts, "steps": steps}


def sizes() -> dict:
    """Rows of the big tables (estimates after ANALYZE) and the database's size on disk."""
    tables = ["enrollment_person", "enrollment_enrollment", "enrollment_payment", "claims_claim",
              "claims_claimlayer", "ledger_journal", "ledger_entry", "enrollment_registration",
              "enrollment_refund", "jobs_job", "audit_auditentry"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples::bigint, pg_total_relation_size(oid) FROM pg_class "
                       "WHERE relname = ANY(%s)", [tables])
        rows = {name: (n, size) for name, n, size in cursor.fetchall()}
        cursor.execute("SELECT pg_database_size(current_database())")
        total = cursor.fetchone()[0]
    return {"tables": {t: rows[t] for t in tables if t in rows}, "database_bytes": total}
