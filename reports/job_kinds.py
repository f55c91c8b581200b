"""The nightly list of claims past their review deadline (docs/jobs.md §定时任务,
docs/claims.md 审核时限): every night (celery beat) a job lists the claims needing offline
review whose deadline has passed and which are still undecided, region by region, as an
xlsx the supervisors download from 全部任务 (the same list as the dashboard's 逾期理赔)."""
from __future__ import annotations

from collections import Counter

from django.utils import timezone

from claims.selectors import overdue_claims
from jobs.registry import job_kind
from sheets.excel import export_file_name
from sheets.writers import write_table

HEADERS = ["统筹区", "结算单号", "参保人", "受理日期", "审核期限", "逾期天数", "状态"]


@job_kind("overdue_claims", "逾期未审核理赔清单", count_labels={"overdue": "逾期理赔"})
def overdue_claims_list(job_run) -> str:
    today = timezone.localdate()
    claims = list(overdue_claims(today=today, user=job_run.user).select_related("region", "person"))
    rows = [[c.region.name, c.settlement_no, c.person.name, c.accepted_on, c.review_due_date,
             (today - c.review_due_date).days, c.get_status_display()] for c in claims]
    for region, count in sorted(Counter(c.region.name for c in claims).items()):
        job_run.log(f"{region}：逾期 {count} 件")
    job_run.save_result(export_file_name("逾期未审核理赔"),
                        lambda path: write_table(path, HEADERS, rows, title="逾期未审核理赔"))
    job_run.count(overdue=len(claims))
    job_run.progress(len(claims), len(claims))
    return f"截至 {today:%Y年%m月%d日}，逾期未审核的理赔共 {len(claims)} 件" if claims else "没有逾期未审核的理赔"
