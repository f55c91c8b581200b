"""The reports' long work as jobs (docs/jobs.md):

- ``policy_simulation`` (政策模拟, docs/simulation.md): a base year's settled claims
  re-settled under a plan year's parameters on a worker; the job's page shows the tables
  (``reports/simulation_panel.html``) and its result file is the workbook.
- ``overdue_claims``: every night (celery beat, §定时任务; docs/claims.md 审核时限) the
  claims needing offline review whose deadline has passed and which are still undecided,
  region by region, as an xlsx the supervisors download from 全部任务 (the same list as
  the dashboard's 逾期理赔). Its list is a report read (``jobs.replica``): from the replica
  when there is one. The simulation is not: it re-settles under a draft plan year that its
  author may have changed a moment before, so it reads the primary.
- ``dashboard_refresh``: every night, the dashboard's summary tables recomputed
  (docs/reports.md §汇总表; also ``manage.py refresh_dashboard``)."""
from __future__ import annotations

from collections import Counter

from django.utils import timezone

from claims.selectors import overdue_claims
from claims.simulation import simulate_plan_year
from claims.simulation_export import simulation_workbook
from jobs.registry import job_kind
from jobs.replica import reports_read
from policies.display import money_text
from policies.masking import mask_for_user_or_system, masked_name
from policies.models import PlanYear
from sheets.excel import export_file_name
from sheets.writers import write_table

from .services import dashboard_refresh

HEADERS = ["统筹区", "结算单号", "参保人", "受理日期", "审核期限", "逾期天数", "状态"]


NAMES = frozenset({"name"})  # the persons' names, as the author reads them (docs/jobs.md §个人信息)


def _names(job) -> frozenset[str]:
    return NAMES


def _simulation_masked(job, request) -> dict:
    """The simulation's tables with the persons' names as ``request.user`` reads them."""
    details = dict(job.details or {})
    details["top"] = [{**c, "person": masked_name(request, c.get("person"))} for c in details.get("top", [])]
    return details


@job_kind("overdue_claims", "逾期未审核理赔清单", count_labels={"overdue": "逾期理赔"}, personal_data=_names,
          unit="件")
def overdue_claims_list(job_run) -> str:
    today = timezone.localdate()
    with reports_read():  # the replica, when there is one (config/db_routers.py)
        claims = list(overdue_claims(today=today, user=job_run.user).select_related("region", "person"))
    rows = [[c.region.name, c.settlement_no, mask_for_user_or_system(job_run.user, "name", c.person.name),
             c.accepted_on, c.review_due_date,
             (today - c.review_due_date).days, c.get_status_display()] for c in claims]
    for region, count in sorted(Counter(c.region.name for c in claims).items()):
        job_run.log(f"{region}：逾期 {count} 件")
    job_run.save_result(export_file_name("逾期未审核理赔"),
                        lambda path: write_table(path, HEADERS, rows, title="逾期未审核理赔"))
    job_run.count(overdue=len(claims))
    job_run.progress(len(claims), len(claims))
    return f"截至 {today:%Y年%m月%d日}，逾期未审核的理赔共 {len(claims)} 件" if claims else "没有逾期未审核的理赔"


def _diff(d) -> dict:
    return {"label": d.label, "claims": d.claims, "base": str(d.base), "simulated": str(d.simulated),
            "change": str(d.change), "change_pct": None if d.change_pct is None else str(d.change_pct)}


@job_kind("policy_simulation", "政策模拟", count_labels={"claims": "重算理赔", "errors": "无法结算"},
          panel="reports/simulation_panel.html", personal_data=_names, mask_details=_simulation_masked, unit="件")
def policy_simulation(job_run) -> str:
    plan_year = PlanYear.objects.select_related("scheme__region").get(pk=job_run.params["plan_year"])
    base_year = job_run.params["base_year"]
    result = simulate_plan_year(plan_year=plan_year, base_year=base_year, user=job_run.user,
                                progress=lambda done, total: job_run.progress(done, total, "重算"))
    job_run.job.details = {
        "groups": [["按险种层", [_diff(d) for d in [*result.by_layer.values(), result.total]]],
                   ["按就医类型", [_diff(d) for d in result.by_claim_type.values()]],
                   ["按身份", [_diff(d) for d in result.by_identity.values()]]],
        "top": [{"settlement_no": c.settlement_no, "person": c.person, "claim_type": c.claim_type,
                 "base": str(c.base), "simulated": str(c.simulated), "change": str(c.change)}
                for c in result.top()],
        "errors": [[no, message] for no, message in result.errors],
    }
    job_run.save_result(export_file_name("政策模拟", plan_year.scheme.region.name, plan_year.scheme.name,
                                         f"{plan_year.year}年度方案", f"基准{base_year}年"),
                        lambda path: simulation_workbook(result).save(path))
    job_run.count(claims=result.claims, errors=len(result.errors))
    total = result.total
    return (f"{plan_year}重算 {base_year} 年度已结算理赔 {result.claims} 件：现行支付 {money_text(total.base)} 元，"
            f"模拟支付 {money_text(total.simulated)} 元，变化 {money_text(total.change)} 元")


@job_kind("dashboard_refresh", "刷新统计报表汇总", count_labels={"plan_years": "年度方案"})
def dashboard_refresh_job(job_run) -> str:
    """Every night (celery beat, docs/jobs.md §定时任务): the dashboard's summary tables
    recomputed from the payments, enrollments and claims (docs/reports.md §汇总表)."""
    count = dashboard_refresh()
    job_run.count(plan_years=count)
    job_run.progress(count, count)
    return f"已刷新 {count} 个年度方案的统计报表汇总"
