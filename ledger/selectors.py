"""Reads of the fund ledger: balances are sums of entries (docs/money.md)."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, IntegerField, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import BalanceWatermark, Entry, FundBalance, Journal

ZERO = Decimal("0.00")


def entries(*, account=None, scheme=None, region_ids=None, year=None, person=None,
            source=None, kinds=None):
    """The entries matching every filter given (``source`` = ``(kind, id)``)."""
    q = Q()
    if account is not None:
        q &= Q(account__in=account) if isinstance(account, (list, tuple, set)) else Q(account=account)
    if scheme is not None:
        q &= Q(journal__scheme=scheme)
    if region_ids is not None:
        q &= Q(journal__region_id__in=region_ids)
    if year is not None:
        q &= Q(journal__year=year)
    if person is not None:
        q &= Q(journal__person=person)
    if source is not None:
        q &= Q(journal__source_kind=source[0], journal__source_id=source[1])
    if kinds is not None:
        q &= Q(journal__kind__in=kinds)
    return Entry.objects.filter(q)


def balance(**filters) -> Decimal:
    """The sum (debit positive) of the entries matching ``filters`` (see ``entries``)."""
    return entries(**filters).aggregate(s=Sum("amount"))["s"] or ZERO


def fund_balances_direct(*, region_ids=None, year=None) -> list[dict]:
    """Per fund, year and account: the sum of every entry (rows of ``scheme``, ``region``,
    ``year``, ``account``, ``total``) — what ``fund_balances`` must equal; ``manage.py
    rebuild_fund_balances --check`` and the tests compare them."""
    return sorted(({"scheme": r["journal__scheme"], "region": r["journal__region"],
                    "year": r["journal__year"], "account": r["account"], "total": r["total"]}
                   for r in entries(region_ids=region_ids, year=year).order_by()
                   .values("journal__scheme", "journal__region", "journal__year", "account")
                   .annotate(total=Sum("amount"))), key=_key)


def _key(row):
    return row["scheme"], row["region"], row["year"], row["account"]


def fund_balances(*, region_ids=None, year=None) -> list[dict]:
    """The same rows as ``fund_balances_direct``, read from the summary (docs/money.md
    §基金余额表): ``FundBalance`` (the entries up to the watermark) plus the entries after
    the watermark, in ONE statement — one snapshot, so a watermark moved by
    ``services.fund_balances_advance`` meanwhile is never counted half. ``live`` in each
    row: how many entries after the watermark it holds."""
    watermark = BalanceWatermark.objects.filter(pk=1).values("entry_id")
    # the value read now lets the planner see a short range of the entries' primary key;
    # the subquery (>= it: the watermark only moves up) is what the statement's snapshot says
    seen = watermark.first()
    seen = seen["entry_id"] if seen else 0
    summary = FundBalance.objects.all()
    live = Entry.objects.filter(id__gt=seen).filter(id__gt=Coalesce(Subquery(watermark), 0))
    if region_ids is not None:
        summary = summary.filter(region_id__in=region_ids)
        live = live.filter(journal__region_id__in=region_ids)
    if year is not None:
        summary = summary.filter(year=year)
        live = live.filter(journal__year=year)
    summary = summary.order_by().values(k_scheme=F("scheme_id"), k_region=F("region_id"),
                                        k_year=F("year"), k_account=F("account")).annotate(
        total=F("amount"), live=Value(0, output_field=IntegerField()))
    live = live.order_by().values(k_scheme=F("journal__scheme_id"), k_region=F("journal__region_id"),
                                  k_year=F("journal__year"), k_account=F("account")).annotate(
        total=Sum("amount"), live=Count("id"))
    rows: dict[tuple, dict] = {}
    for r in summary.union(live, all=True):
        key = (r["k_scheme"], r["k_region"], r["k_year"], r["k_account"])
        row = rows.setdefault(key, {"scheme": key[0], "region": key[1], "year": key[2],
                                    "account": key[3], "total": ZERO, "live": 0})
        row["total"] += r["total"]
        row["live"] += r["live"]
    return sorted(rows.values(), key=_key)


def source_journals(source_kind: str, source_id: int):
    """A source document's journals, oldest first, with their entries."""
    return (Journal.objects.filter(source_kind=source_kind, source_id=source_id)
            .prefetch_related("entries").order_by("id"))


def unbalanced_journals():
    """Journals whose entries do not sum to zero or that have fewer than two (empty when
    the ledger is sound; the database refuses them on PostgreSQL)."""
    return (Journal.objects.annotate(total=Sum("entries__amount"), lines=Count("entries"))
            .filter(Q(lines__lt=2) | ~Q(total=0)))


def fund_balances_differences() -> tuple[list, list]:
    """The rows of ``fund_balances`` and of ``fund_balances_direct`` that differ (both
    empty when the summary is exact), read in one REPEATABLE READ snapshot on PostgreSQL."""
    from django.db import connection, transaction

    fresh = not connection.in_atomic_block  # else: the caller's transaction's snapshot
    with transaction.atomic():
        if fresh and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        summary = [{k: v for k, v in r.items() if k != "live"} for r in fund_balances()]
        direct = fund_balances_direct()
    return ([r for r in summary if r not in direct], [r for r in direct if r not in summary])
