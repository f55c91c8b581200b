"""Reads of the fund ledger: balances are sums of entries (docs/money.md)."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum

from .models import Entry, Journal

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


def fund_balances(*, region_ids=None, year=None) -> list[dict]:
    """Per fund, year and account: the balance (rows of scheme id, names, account, sum)."""
    return list(entries(region_ids=region_ids, year=year)
                .values("journal__scheme", "journal__scheme__name", "journal__region__name",
                        "journal__year", "account")
                .annotate(total=Sum("amount"))
                .order_by("journal__region__name", "journal__scheme", "journal__year", "account"))


def source_journals(source_kind: str, source_id: int):
    """A source document's journals, oldest first, with their entries."""
    return (Journal.objects.filter(source_kind=source_kind, source_id=source_id)
            .prefetch_related("entries").order_by("id"))


def unbalanced_journals():
    """Journals whose entries do not sum to zero or that have fewer than two (empty when
    the ledger is sound; the database refuses them on PostgreSQL)."""
    return (Journal.objects.annotate(total=Sum("entries__amount"), lines=Count("entries"))
            .filter(Q(lines__lt=2) | ~Q(total=0)))
