"""Writes of the fund ledger (docs/money.md). Journals are only ever added: ``journals_write``
books balanced ``postings.JournalSpec``s (one prepared INSERT / COPY for any number, so an
import of 100 000 payments books them in its own transaction), ``source_reverse`` books
the 冲正 of a source document's journals. Callers are the services of the apps above
(enrollment's payments and refunds, claims' approval, payment batches)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from sheets.bulk_sql import insert_values

from . import postings
from .models import Entry, Journal, SourceKind
from .postings import JournalSpec


@transaction.atomic
def journals_write(specs: Iterable[JournalSpec | None], *, acting_user) -> list[int]:
    """Book ``specs`` (``None`` entries skipped); returns the new journals' ids in order.
    Raises ``ValueError`` for a journal whose lines do not balance (a programming error:
    the postings build balanced lines)."""
    specs = [s for s in specs if s is not None]
    if not specs:
        return []
    user_id = getattr(acting_user, "pk", None)
    lines = [spec.balanced_lines() for spec in specs]
    journals = [{
        "kind": s.kind, "scheme_id": s.scheme_id, "region_id": s.region_id, "year": s.year,
        "person_id": s.person_id, "source_kind": s.source_kind, "source_id": s.source_id,
        "reverses_id": s.reverses_id, "booked_on": s.booked_on, "memo": s.memo[:200],
        "reference": s.reference[:80], "created_by_id": user_id} for s in specs]
    return _book(journals, lines)


def _book(journals: list[dict], lines: list[tuple[tuple[str, object], ...]]) -> list[int]:
    """INSERT the journals (dicts of attname → value) and their balanced lines."""
    if not journals:
        return []
    now = timezone.now()
    ids = insert_values(Journal, journals, now=now)
    entries = [{"journal_id": journal_id, "account": account, "amount": amount}
               for journal_id, journal_lines in zip(ids, lines, strict=True)
               for account, amount in journal_lines]
    insert_values(Entry, entries, now=now, return_ids=False)
    return ids


@transaction.atomic
def contributions_write(payments: Iterable[dict], *, acting_user) -> list[int]:
    """The 缴费到账 journals of many recorded payments at once (the payments sheet import:
    100 000 in one call) — the rows ``journals_write`` books for ``postings.contribution``
    of each, built from the lines (``postings.contribution_lines``) without a
    ``JournalSpec`` per payment. ``payments``: dicts with ``payment_id``, ``scheme_id``,
    ``region_id``, ``year``, ``person_id``, ``self_paid``, ``subsidy``, ``paid_date``,
    ``receipt_no``; a payment of nothing books nothing. Returns the journals' ids."""
    user_id = getattr(acting_user, "pk", None)
    kind, source_kind, memo = Journal.Kind.CONTRIBUTION, SourceKind.PAYMENT, postings.CONTRIBUTION_MEMO
    journals, lines = [], []
    for p in payments:
        found = postings.contribution_lines(p["self_paid"], p["subsidy"])
        if found is None:
            continue
        # without the zero lines: the bank line and at least one other, balanced by construction
        lines.append(tuple(line for line in found if line[1]))
        journals.append({
            "kind": kind, "scheme_id": p["scheme_id"], "region_id": p["region_id"], "year": p["year"],
            "person_id": p["person_id"], "source_kind": source_kind, "source_id": p["payment_id"],
            "reverses_id": None, "booked_on": p["paid_date"], "memo": memo,
            "reference": p["receipt_no"][:80], "created_by_id": user_id})
    return _book(journals, lines)


def journal_reversal(journal: Journal, *, booked_on, memo: str = "") -> JournalSpec:
    """The 冲正 of ``journal``: the same lines with the opposite sign."""
    return JournalSpec(
        kind=Journal.Kind.REVERSAL, scheme_id=journal.scheme_id, region_id=journal.region_id,
        year=journal.year, source_kind=journal.source_kind, source_id=journal.source_id,
        booked_on=booked_on, person_id=journal.person_id, reverses_id=journal.pk,
        memo=(memo or f"冲正{journal}")[:200], reference=journal.reference,
        lines=tuple((e.account, -e.amount) for e in journal.entries.all()))


@transaction.atomic
def source_reverse(*, source_kind: str, source_id: int, acting_user, booked_on=None,
                   kinds: Sequence[str] | None = None, memo: str = "") -> list[int]:
    """冲正 every journal of one source document (of ``kinds``, when given) not yet
    reversed and not itself a reversal; returns the reversal journals' ids."""
    qs = (Journal.objects.select_for_update(of=("self",))
          .filter(source_kind=source_kind, source_id=source_id, reversed_by__isnull=True)
          .exclude(kind=Journal.Kind.REVERSAL).order_by("id"))
    if kinds is not None:
        qs = qs.filter(kind__in=kinds)
    journals = list(qs)
    if not journals:
        return []
    booked_on = booked_on or timezone.localdate()
    return journals_write([journal_reversal(j, booked_on=booked_on, memo=memo)
                           for j in Journal.objects.filter(pk__in=[j.pk for j in journals])
                           .prefetch_related("entries").order_by("id")],
                          acting_user=acting_user)


def contribution_spec(payment) -> JournalSpec | None:
    """The 缴费到账 journal of a saved ``enrollment.Payment``."""
    enrollment = payment.enrollment
    return postings.contribution(
        payment_id=payment.pk, scheme_id=payment.scheme_id, region_id=payment.scheme.region_id,
        year=enrollment.plan_year.year, person_id=enrollment.person_id,
        self_paid=payment.self_paid, subsidy=payment.subsidy, paid_date=payment.paid_date,
        receipt_no=payment.receipt_no)


def contribution_post(*, payment, acting_user) -> list[int]:
    """Book one recorded payment (``enrollment.services.payment_record``)."""
    return journals_write([contribution_spec(payment)], acting_user=acting_user)
