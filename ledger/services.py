"""Writes of the fund ledger (docs/money.md). Journals are only ever added: ``journals_write``
books balanced ``postings.JournalSpec``s (one prepared INSERT / COPY for any number, so an
import of 100 000 payments books them in its own transaction), ``source_reverse`` books
the 冲正 of a source document's journals. Callers are the services of the apps above
(enrollment's payments and refunds, claims' approval, payment batches)."""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from celery import shared_task
from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from sheets.bulk_sql import NEXT_KEY_SQL, insert_values

from . import postings
from .models import BalanceWatermark, Entry, FundBalance, Journal, SourceKind
from .postings import JournalSpec

POSTING_LOCK = 7_301_162_001
"""The PostgreSQL advisory lock of the 基金余额表 watermark (docs/money.md §基金余额表): every
posting transaction holds it shared from its first ``journals_write`` to its end; the
watermark is read under it exclusively (``ledger_settled_entry_id()``, migration 0002)."""


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
    """INSERT the journals (dicts of attname → value) and their balanced lines; the one
    place entries are written, so the one place a posting takes the 基金余额表 lock."""
    if not journals:
        return []
    _posting_begin()
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


@transaction.atomic
def contributions_write_select(source: str, params: Sequence, *, acting_user) -> int:
    """PostgreSQL: ``contributions_write`` of payments already stored, booked by the
    database from them — no row goes back and forth. ``source`` is a SELECT (with
    ``params``) of the payments with the columns ``payment_id``, ``scheme_id``,
    ``region_id``, ``year``, ``person_id``, ``self_paid``, ``subsidy``, ``paid_date`` and
    ``receipt_no``, each payment once. The same rows as ``contributions_write``: one
    journal per payment in payment order, none for a payment of nothing; its lines those of
    ``postings.CONTRIBUTION_LINES`` in their order, amounts rounded to the fen half-up
    (``round`` on numeric: half away from zero), zero lines left out. Returns the number of
    entries written.
    The caller's tables are its own (this app imports none of them)."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("contributions_write_select: PostgreSQL only (else contributions_write)")
    _posting_begin()
    journal, entry = Journal._meta.db_table, Entry._meta.db_table
    amounts = ", ".join(f"round({name}, 2) AS {name}" for name in postings.CONTRIBUTION_AMOUNTS)
    total = " + ".join(f"round({name}, 2)" for name in postings.CONTRIBUTION_AMOUNTS)
    lines = ", ".join(f"({n}, %s, {_signed_sum('src', terms)})"
                      for n, (_account, terms) in enumerate(postings.CONTRIBUTION_LINES, 1))
    # the journals' keys taken first, in payment order, so that the entries are built from
    # the same rows without joining them back to the journals
    sql = (
        f"WITH src AS MATERIALIZED (SELECT {NEXT_KEY_SQL} AS journal_id, * FROM (SELECT payment_id, scheme_id, region_id, year, person_id, paid_date, "
        f"receipt_no, {amounts} FROM ({source}) s WHERE {total} <> 0 ORDER BY payment_id) payments), "
        f"j AS (INSERT INTO {journal} (id, kind, scheme_id, region_id, year, person_id, source_kind, "
        f"source_id, reverses_id, booked_on, memo, reference, created_at, created_by_id) "
        f"SELECT journal_id, %s, scheme_id, region_id, year, person_id, %s, payment_id, NULL, paid_date, "
        f"%s, left(receipt_no, 80), %s, %s FROM src ORDER BY journal_id) "
        f"INSERT INTO {entry} (journal_id, account, amount) "
        f"SELECT src.journal_id, line.account, line.amount FROM src "
        f"CROSS JOIN LATERAL (VALUES {lines}) AS line (n, account, amount) "
        f"WHERE line.amount <> 0 ORDER BY src.journal_id, line.n")
    with connection.cursor() as cursor:
        cursor.execute(sql, [journal, Journal._meta.pk.column, *params, Journal.Kind.CONTRIBUTION, SourceKind.PAYMENT,
                             postings.CONTRIBUTION_MEMO, timezone.now(), getattr(acting_user, "pk", None),
                             *(account for account, _terms in postings.CONTRIBUTION_LINES)])
        return cursor.rowcount


def _signed_sum(alias: str, terms) -> str:
    """SQL of a line's amount from ``postings.CONTRIBUTION_LINES``: ``a.x - a.y`` …"""
    sql = ""
    for name, sign in terms:
        sql += ("-" if sign < 0 else "") if not sql else (" - " if sign < 0 else " + ")
        sql += f"{alias}.{name}"
    return sql


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


# --------------------------------------------------------------------------- 基金余额表


def _posting_begin() -> None:
    """Hold the posting lock shared until the transaction ends (PostgreSQL; shared holders
    never wait for one another). Nothing is queued per posting: the summary is advanced
    every few minutes by beat (``fund-balances-advance``), nightly, and by the page when
    the entries after the watermark grow past ``ledger.admin.LIVE_ADVANCE_AT`` — a posting
    costs one statement, not a task on the queue for each of a million payments."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [POSTING_LOCK])


def settled_entry_id() -> int | None:
    """The highest entry id below which every entry has committed (or never will): the
    largest id read while no posting transaction is open — ``None`` when one is open
    (PostgreSQL: ids are taken from a sequence, so entry 11 may commit before entry 10;
    SQLite has one writer at a time and hands out ids above every committed one)."""
    if connection.vendor != "postgresql":
        return Entry.objects.aggregate(m=Max("id"))["m"] or 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT ledger_settled_entry_id()")
        return cursor.fetchone()[0]


def _watermark_locked() -> BalanceWatermark:
    """The watermark row, locked until the transaction ends (created at its first use):
    two advances take turns."""
    BalanceWatermark.objects.bulk_create([BalanceWatermark(pk=1)], ignore_conflicts=True)
    return BalanceWatermark.objects.select_for_update().get(pk=1)


def _watermark_move(watermark: BalanceWatermark, upto: int) -> None:
    """The summary now holds every entry up to ``upto`` (under the watermark's lock)."""
    watermark.entry_id = upto
    watermark.advanced_at = timezone.now()
    watermark.save(update_fields=["entry_id", "advanced_at"])


def _fold(after: int, upto: int) -> int:
    """Add the entries ``after`` < id <= ``upto`` to ``FundBalance``; returns how many
    (fund, region, year, account) rows changed. In the caller's transaction, under the
    watermark's lock."""
    key = ("journal__scheme_id", "journal__region_id", "journal__year", "account")
    deltas = {tuple(row[k] for k in key): row["total"]
              for row in Entry.objects.filter(id__gt=after, id__lte=upto).order_by()
              .values(*key).annotate(total=Sum("amount"))}
    if not deltas:
        return 0
    current = {(b.scheme_id, b.region_id, b.year, b.account): b.amount
               for b in FundBalance.objects.filter(
                   scheme_id__in={k[0] for k in deltas}, year__in={k[2] for k in deltas})}
    FundBalance.objects.bulk_create(
        [FundBalance(scheme_id=s, region_id=r, year=y, account=a,
                     amount=current.get((s, r, y, a), 0) + total)
         for (s, r, y, a), total in sorted(deltas.items())],
        update_conflicts=True, unique_fields=["scheme", "region", "year", "account"],
        update_fields=["amount"])
    return len(deltas)


def fund_balances_advance() -> int | None:
    """Fold the committed entries after the watermark into ``FundBalance`` and move the
    watermark; returns the new watermark, ``None`` when a posting transaction was open
    (nothing changed: the next beat advance tries again). Never waits for a
    posting, and no posting waits for it but during one ``max(id)``."""
    with transaction.atomic():
        watermark = _watermark_locked()
        upto = settled_entry_id()
        if upto is None:
            return None
        if upto > watermark.entry_id:
            _fold(watermark.entry_id, upto)
            _watermark_move(watermark, upto)
        return watermark.entry_id


def fund_balances_rebuild(*, wait_seconds: float = 60.0) -> int:
    """Recompute ``FundBalance`` from every entry (``manage.py rebuild_fund_balances``,
    after entries were loaded outside ``journals_write``: COPY, a restore). One
    transaction: the page reads the old summary until it commits. Tries for
    ``wait_seconds`` while postings are open; raises ``RuntimeError`` after that."""
    deadline = time.monotonic() + wait_seconds
    while True:
        with transaction.atomic():
            watermark = _watermark_locked()
            upto = settled_entry_id()
            if upto is not None:
                FundBalance.objects.all().delete()
                _fold(0, upto)
                _watermark_move(watermark, upto)
                return upto
        if time.monotonic() > deadline:
            raise RuntimeError("一直有记账事务未结束，基金余额汇总未能重建，请稍后重试")
        time.sleep(0.2)


@shared_task(name="ledger.fund_balances_advance")
def fund_balances_advance_task() -> int | None:
    """Every few minutes (beat: ``fund-balances-advance``) and from the page
    (``ledger.admin``) when many entries lie after the watermark."""
    return fund_balances_advance()
