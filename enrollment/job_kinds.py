"""Calendar duties of enrollment run as jobs (docs/jobs.md §定时任务).

``renew_enrollments``: when a plan year is open (生效), the consenting enrollments of the
year before (同意自动续保 or 代扣, not terminated) that have no enrollment in it yet get one
(``services.enrollment_rollover``, sanming.md 自动续保, leshan.md 个人账户代扣). It runs
every night (celery beat) and is idempotent: a person renewed once is skipped.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q

from jobs.registry import job_kind
from policies import models as pm
from policies.masking import mask_for_user_or_system

from .models import Enrollment
from .services import enrollment_rollover


def _waiting(previous: pm.PlanYear, target: pm.PlanYear):
    """The consenting enrollments of ``previous`` without one in ``target``."""
    renewed = Enrollment.objects.filter(person=OuterRef("person"), plan_year=target)
    return (Enrollment.objects.filter(plan_year=previous).filter(Q(auto_renew=True) | Q(auto_deduct=True))
            .exclude(status=Enrollment.Status.TERMINATED).exclude(Exists(renewed)))


@job_kind("renew_enrollments", "自动续保", count_labels={"created": "续保登记", "skipped": "未续保"},
          unit="人")
def renew_enrollments(job_run) -> str:
    created = skipped = 0
    opened = pm.PlanYear.objects.filter(status=pm.PlanYear.Status.ACTIVE).select_related("scheme__region")
    for target in opened.order_by("scheme__region__code", "scheme__settlement_order", "year"):
        previous = pm.PlanYear.objects.filter(scheme=target.scheme, year=target.year - 1).first()
        if previous is None or not _waiting(previous, target).exists():
            continue
        try:
            outcome = enrollment_rollover(plan_year=previous, acting_user=job_run.user)
        except ValidationError as error:
            job_run.log(f"{previous}：{'；'.join(error.messages)}")
            continue
        created += len(outcome["created"])
        skipped += len(outcome["skipped"])
        job_run.log(f"{target}：续保 {len(outcome['created'])} 人，未续保 {len(outcome['skipped'])} 人")
        for enrollment, reason in outcome["skipped"][:20]:
            job_run.log(f"未续保 {mask_for_user_or_system(job_run.user, 'name', enrollment.person.name)}：{reason}")
        job_run.progress(created + skipped)
    job_run.count(created=created, skipped=skipped)
    return f"自动续保：新登记 {created} 人，未续保 {skipped} 人" if created or skipped else "没有需要自动续保的参保登记"
