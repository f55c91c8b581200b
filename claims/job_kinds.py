"""Batch settlement and re-settlement as jobs (docs/claims.md §Batch settlement, docs/jobs.md): the job
``settle_claims`` (started by ``batch.claims_settle_start``: ``settle_claims``, the admin
action 结算所选理赔 on many claims) plans the chunks of persons as the in-process batch
does (``batch.plan_chunks``) and hands each to a part task; any worker process on any
machine takes a part and settles it with ``batch.settle_chunk`` — one transaction, the
persons' rows locked, together with the part's ``JobPart`` row, so a part delivered
twice (or again after its worker was killed) settles its claims once. A claim the
engine refuses stays as it was and is a line of the job's log.

``resettle_claims`` (after a parameter change; ``batch.claims_resettle_start``: the
admin action 后台重新结算 and ``resettle_claims``): the 已结算 (not yet approved) claims,
split by persons the same way; each part re-settles its persons' claims one by one in
history order with ``services.claim_resettle`` (the earlier version kept, the reason
recorded). Approved and paid claims are never touched: reversing them is another act.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import Action
from audit.services import audit_record
from jobs.registry import job_kind
from jobs.runner import JobError, JobRun

from . import batch, services
from .models import Claim

COUNTS = {"settled": "已结算", "failed": "未能结算", "persons": "参保人"}


def _pending(job_run: JobRun):
    try:
        return batch.pending_claims(batch.claims_of_params(job_run.params), job_run.user)
    except PermissionDenied as error:
        raise JobError(f"不能结算：{error}") from None


@job_kind(batch.JOB_KIND, "批量结算理赔", count_labels=COUNTS, unit="件")
def settle_claims(job_run: JobRun):
    pending = _pending(job_run)
    chunks = batch.plan_chunks(pending, job_run.params.get("chunk_persons", batch.CHUNK_PERSONS))
    job_run.progress(0, pending.count(), "分组", force=True)
    job_run.log(f"待结算理赔 {job_run.job.total} 件，分为 {len(chunks)} 组参保人")
    return job_run.split([{"region_id": region_id, "year": year, "person_ids": person_ids}
                          for region_id, year, person_ids in chunks])


# What the chunks of one (region, year) share, resolved by the first part of a job that a
# worker process runs and kept for that job's next parts in the same process.
_groups: dict = {"job": None, "groups": {}}


@settle_claims.part
def settle_claims_part(job_run: JobRun, payload: dict):
    if _groups["job"] != job_run.job.pk:
        _groups.update(job=job_run.job.pk, groups={})
    report = batch.settle_chunk(_pending(job_run), payload["region_id"], payload["year"], payload["person_ids"],
                                job_run.user, groups=_groups["groups"])
    for _pk, number, message in report.failed:
        job_run.log(f"结算单号 {number}：{message}")
    return report.handled, {"settled": report.settled, "failed": len(report.failed), "persons": report.persons}


@settle_claims.finish
def settle_claims_finish(job_run: JobRun) -> str:
    counts = job_run.job.counts
    failed = counts.get("failed", 0)
    audit_record(action=Action.SETTLE, user=job_run.user, obj=job_run.job,
                 details={"operation": "批量结算", **counts})
    return (f"已结算 {counts.get('settled', 0)} 件（参保人 {counts.get('persons', 0)} 人），"
            f"未能结算 {failed} 件" + ("，原因见任务日志" if failed else ""))


def _resettle_candidates(job_run: JobRun):
    try:
        return batch.resettle_candidates(batch.claims_of_params(job_run.params), job_run.user)
    except PermissionDenied as error:
        raise JobError(f"不能重新结算：{error}") from None


@job_kind(batch.RESETTLE_KIND, "批量重新结算理赔", count_labels={"resettled": "已重新结算", "failed": "未能重新结算",
                                                          "persons": "参保人"}, unit="件")
def resettle_claims(job_run: JobRun):
    todo = _resettle_candidates(job_run)
    chunks = batch.plan_chunks(todo, job_run.params.get("chunk_persons", batch.CHUNK_PERSONS))
    job_run.progress(0, todo.count(), "分组", force=True)
    job_run.log(f"待重新结算理赔 {job_run.job.total} 件（原因：{job_run.params['reason']}）")
    return job_run.split([{"person_ids": person_ids} for _region, _year, person_ids in chunks])


@resettle_claims.part
def resettle_claims_part(job_run: JobRun, payload: dict):
    todo = _resettle_candidates(job_run).filter(person_id__in=payload["person_ids"])
    resettled = failed = 0
    for claim in todo.order_by("person_id", "service_date", "id"):
        try:
            services.claim_resettle(claim=Claim.objects.get(pk=claim.pk), acting_user=job_run.user,
                                    reason=job_run.params["reason"])
            resettled += 1
        except (ValidationError, PermissionDenied) as error:
            failed += 1
            job_run.log(f"结算单号 {claim.settlement_no}：{'；'.join(getattr(error, 'messages', [str(error)]))}")
    return resettled + failed, {"resettled": resettled, "failed": failed, "persons": len(payload["person_ids"])}


@resettle_claims.finish
def resettle_claims_finish(job_run: JobRun) -> str:
    counts = job_run.job.counts
    failed = counts.get("failed", 0)
    return (f"已重新结算 {counts.get('resettled', 0)} 件（参保人 {counts.get('persons', 0)} 人），"
            f"未能重新结算 {failed} 件" + ("，原因见任务日志" if failed else ""))
