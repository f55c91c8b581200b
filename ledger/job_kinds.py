"""The ledger's duty as a job (docs/jobs.md): ``fund_balances_advance`` every night — the
基金余额表's summary brought up to the committed entries (docs/money.md §基金余额表), in
case the beat's five-minute advances were missed (a broker down, postings open at every try).
Importing this module also registers the task ``ledger.fund_balances_advance`` on the
workers."""
from __future__ import annotations

from jobs.registry import job_kind

from .services import fund_balances_advance


@job_kind("fund_balances_advance", "基金余额表汇总", count_labels={})
def fund_balances_advance_job(job_run) -> str:
    upto = fund_balances_advance()
    job_run.progress(1, 1)
    if upto is None:
        return "有记账事务未结束，本次未推进基金余额表汇总（下次记账后或明晚再推进）"
    return f"基金余额表汇总至分录 {upto}"
