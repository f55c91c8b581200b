"""The smaller lists of the bureau-scale database: 长治 门诊慢特病 registrations, refunds,
jobs (with their regions) and 审计日志 entries (chained by their hashes, as
``audit.services.audit_record`` chains them, so ``audit_verify`` still holds)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.utils import timezone
from psycopg.types.json import Jsonb

from audit.models import Action, AuditChainHead, AuditEntry
from enrollment.models import Refund, Registration
from jobs.models import Job, JobRegion
from policies.models import ChronicDisease

from .copying import copy_rows, reserve_ids

REGISTRATION_STATES = ["submitted"] * 20 + ["in_review"] * 15 + ["approved"] * 45 + ["rejected"] * 12 + \
    ["terminated"] * 8
REFUND_STATES = ["pending", "payable", "rejected", "pending"]  # no 已支付: it would need its journals
JOB_KINDS = ["sheet_import", "sheet_check", "sheet_export", "renew_enrollments", "overdue_claims"]
AUDIT_ACTIONS = [Action.LOGIN, Action.EXPORT, Action.VIEW_FULL_ID, Action.IMPORT, Action.SETTLE, Action.REVIEW,
                 Action.LOGOUT, Action.DOWNLOAD]


def copy_registrations(cursor, plan, every: int) -> int:
    """长治 residents, one registration per ``every`` of them."""
    py = plan.plan_years[("140400", "resident_basic")]
    diseases = list(ChronicDisease.objects.filter(region_id=py.scheme.region_id).values_list("pk", flat=True)) or \
        list(ChronicDisease.objects.values_list("pk", flat=True)[:50])
    with copy_rows(cursor, Registration, ids=False) as table:
        for p in plan.walk(count_only=True):
            if p.region != "140400" or p.category != "resident" or p.index % every:
                continue
            n = table.rows
            status = REGISTRATION_STATES[n % len(REGISTRATION_STATES)]
            applied = date(plan.year, 1, 1) + timedelta(days=n % 330)
            held = status in ("approved", "terminated")
            table.write(person_id=p.pk, disease_id=diseases[n % len(diseases)], scheme_id=py.scheme_id,
                        application_date=applied, institution="长治市人民医院", status=status,
                        decision_date=applied + timedelta(days=15) if status not in ("submitted", "in_review") else None,
                        reason="诊断依据不足" if status == "rejected" else "",
                        valid_from=applied + timedelta(days=15) if held else None,
                        valid_to=date(plan.year, 12, 31) if held else None)
    return table.rows


def copy_refunds(cursor, plan, count: int) -> int:
    """``count`` refunds of the first payments (pending, approved or rejected)."""
    cursor.execute("SELECT id FROM enrollment_payment ORDER BY id LIMIT %s", [count])
    payment_ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()
    with copy_rows(cursor, Refund, ids=False) as table:
        for n, payment_id in enumerate(payment_ids):
            status = REFUND_STATES[n % len(REFUND_STATES)]
            table.write(payment_id=payment_id, amount="380.00", reason="duplicate", payee_name="参保人本人",
                        payee_account=f"6222{payment_id:015d}", payee_bank="中国农业银行", status=status,
                        approved_at=now if status == "payable" else None,
                        rejected_at=now if status == "rejected" else None,
                        reject_reason="非重复缴费" if status == "rejected" else "")
    return table.rows


def copy_jobs(cursor, plan, count: int) -> int:
    first = reserve_ids(cursor, Job, count)
    regions = [r.pk for r in plan.regions.values() if r.parent_id is None]
    start = datetime(plan.year, 1, 1, 9, tzinfo=UTC)
    with copy_rows(cursor, Job) as table:
        for n in range(count):
            began = start + timedelta(minutes=97 * n)
            table.write(id=first + n, kind=JOB_KINDS[n % len(JOB_KINDS)], title=f"基准任务 {n + 1}",
                        status="succeeded" if n % 20 else "failed", created_at=began, started_at=began,
                        finished_at=began + timedelta(seconds=30 + n % 600), total=1000, done=1000,
                        counts=Jsonb({"rows": 1000}), message="完成")
    with copy_rows(cursor, JobRegion, ids=False) as table:
        for n in range(count):
            table.write(job_id=first + n, region_id=regions[n % len(regions)])
    return count


def copy_audit(cursor, count: int) -> int:
    """``count`` entries appended to the chain (hashes computed as ``audit_record`` does)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first() or AuditChainHead.objects.create(pk=1)
    seq, previous = head.last_seq, head.last_hash
    at = timezone.now() - timedelta(days=count // 500 + 1)
    with copy_rows(cursor, AuditEntry, ids=False) as table:
        for n in range(count):
            seq += 1
            at += timedelta(seconds=172)
            entry = AuditEntry(seq=seq, at=at, user_id=None, username=f"jingban{n % 40:02d}",
                               ip_address=f"10.0.{n % 250}.{n % 200 + 1}", action=AUDIT_ACTIONS[n % len(AUDIT_ACTIONS)],
                               object_type="enrollment.person", object_id=str(n + 1), object_repr=f"参保人 {n + 1}",
                               details={"rows": n % 300}, previous_hash=previous)
            entry.hash = previous = entry.compute_hash()
            table.write(seq=seq, at=at, username=entry.username, ip_address=entry.ip_address, action=entry.action,
                        object_type=entry.object_type, object_id=entry.object_id, object_repr=entry.object_repr,
                        details=Jsonb(entry.details), previous_hash=entry.previous_hash, hash=entry.hash)
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=previous)
    return table.rows

