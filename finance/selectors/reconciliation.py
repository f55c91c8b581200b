"""对账 reads (docs/money.md §对账): the runs and differences a user may see, a run's
counts, and the monthly status per region and fund (未对账 / 有差异 / 已平) derived from
the current runs and the months that hold payments or claims."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import Coalesce, TruncMonth

from claims.models import Claim
from enrollment.models import Payment
from finance.models import ReconciliationLine, ReconciliationRun
from policies.access import scope_queryset

Category = ReconciliationLine.Category
State = ReconciliationLine.State
Source = ReconciliationRun.Source


def runs_visible_to(user, qs=None):
    qs = ReconciliationRun.objects.all() if qs is None else qs
    return scope_queryset(qs, user, "region") if user is not None else qs


def differences_visible_to(user, qs=None):
    qs = ReconciliationLine.objects.all() if qs is None else qs
    qs = qs.exclude(category=Category.MATCHED)
    return scope_queryset(qs, user, "run__region") if user is not None else qs


def run_counts(run: ReconciliationRun) -> dict[str, int]:
    """Lines per category and the open differences of a run."""
    rows = dict(run.lines.values_list("category").annotate(n=Count("pk")))
    counts = {c: rows.get(c, 0) for c in Category.values}
    counts["open"] = run.lines.filter(state=State.OPEN).count()
    counts["rows"] = run.lines.exclude(row=None).count()
    return counts


def category_label(category: str, source: str) -> str:
    """对方缺失 as the clerk says it: 税务缺失 / 医院缺失."""
    if category == Category.MISSING_THERE:
        return "税务缺失" if source == Source.TAX else "医院缺失"
    return Category(category).label


class Status:
    NOT_DONE, DIFFERENT, BALANCED = "未对账", "有差异", "已平"


@dataclass
class MonthStatus:
    month: date
    source: str
    region_name: str
    fund_name: str
    status: str
    run: ReconciliationRun | None
    open_differences: int
    records: int  # payments / claims recorded here in the month
    month_text: str = ""
    run_url: str = ""

    @property
    def source_label(self) -> str:
        return Source(self.source).label


def monthly_status(user, *, year: int) -> list[MonthStatus]:
    """Per source, region, fund (tax: the scheme; hospital: the hospital) and month of
    ``year``: 未对账 when payments (个人缴费 > 0) or claims (not void) are recorded in the
    month but no current run exists, 有差异 when the current run has open differences,
    else 已平. Newest month first."""
    runs = (runs_visible_to(user, ReconciliationRun.objects.filter(is_current=True, month__year=year))
            .select_related("region", "scheme", "hospital")
            .annotate(open=Count("lines", filter=Q(lines__state=State.OPEN))))
    by_key = {}
    for run in runs:
        fund = run.scheme_id if run.source == Source.TAX else run.hospital_id
        by_key[(run.source, fund, run.month)] = run
    payments = scope_queryset(Payment.objects.filter(paid_date__year=year, self_paid__gt=0), user,
                              "scheme__region") if user is not None else Payment.objects.filter(
        paid_date__year=year, self_paid__gt=0)
    expected = {}
    for scheme_id, region, scheme, month, n in (
            payments.annotate(month=TruncMonth("paid_date")).order_by()
            .values_list("scheme_id", "scheme__region__name", "scheme__name", "month").annotate(n=Count("pk"))):
        expected[(Source.TAX, scheme_id, _date(month))] = (region, scheme, n)
    claims = Claim.objects.exclude(status=Claim.Status.VOID).filter(hospital__region__isnull=False).annotate(
        settled_on=Coalesce("discharge_date", "service_date")).filter(settled_on__year=year)
    if user is not None:
        claims = scope_queryset(claims, user, "hospital__region")
    for hospital_id, region, name, month, n in (
            claims.annotate(month=TruncMonth("settled_on")).order_by()
            .values_list("hospital_id", "hospital__region__name", "hospital__name", "month").annotate(n=Count("pk"))):
        expected[(Source.HOSPITAL, hospital_id, _date(month))] = (region, name, n)
    out = []
    for key in set(expected) | set(by_key):
        source, _fund, month = key
        run = by_key.get(key)
        region, fund_name, n = expected.get(key, (None, None, 0))
        if run is not None:
            region = run.region.name
            fund_name = run.scheme.name if run.scheme_id else run.hospital.name
            status = Status.DIFFERENT if run.open else Status.BALANCED
        else:
            status = Status.NOT_DONE
        out.append(MonthStatus(month, source, region, fund_name, status, run, run.open if run else 0, n))
    out.sort(key=lambda s: (-s.month.toordinal(), s.region_name, s.source, s.fund_name))
    return out


def _date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value
