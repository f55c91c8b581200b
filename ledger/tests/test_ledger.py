"""The fund ledger's own rules (docs/money.md): balanced journals only, append-only, a
reversal mirrors its journal once."""
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from ledger import postings, selectors, services
from ledger.models import Account, Entry, Journal, SourceKind
from policies.models import Scheme

pytestmark = pytest.mark.django_db


def _scheme():
    return Scheme.objects.get(region__code="500231", kind="resident_basic")


def _contribution(scheme, *, payment_id=1, self_paid="380.00", subsidy="0"):
    return postings.contribution(payment_id=payment_id, scheme_id=scheme.pk,
                                 region_id=scheme.region_id, year=2024, person_id=None,
                                 self_paid=Decimal(self_paid), subsidy=Decimal(subsidy),
                                 paid_date=date(2023, 11, 20), receipt_no="R1")


def test_a_contribution_books_bank_against_income_and_subsidy(loaded_policies):
    scheme = _scheme()
    [journal_id] = services.journals_write([_contribution(scheme, subsidy="200.00")], acting_user=None)
    lines = dict(Entry.objects.filter(journal_id=journal_id).values_list("account", "amount"))
    assert lines == {Account.BANK: Decimal("580.00"), Account.CONTRIBUTION: Decimal("-380.00"),
                     Account.SUBSIDY: Decimal("-200.00")}
    assert selectors.balance(scheme=scheme, account=Account.BANK) == Decimal("580.00")
    assert selectors.balance(scheme=scheme) == 0
    assert not selectors.unbalanced_journals().exists()


def test_zero_lines_are_left_out_and_nothing_is_booked_for_nothing(loaded_policies):
    scheme = _scheme()
    assert _contribution(scheme, self_paid="0", subsidy="0") is None
    [journal_id] = services.journals_write([_contribution(scheme)], acting_user=None)
    assert Entry.objects.filter(journal_id=journal_id).count() == 2


def test_an_unbalanced_journal_is_refused_and_nothing_is_written(loaded_policies):
    scheme = _scheme()
    bad = postings.JournalSpec(
        kind=Journal.Kind.CONTRIBUTION, scheme_id=scheme.pk, region_id=scheme.region_id, year=2024,
        source_kind=SourceKind.PAYMENT, source_id=9, booked_on=date(2024, 1, 1),
        lines=((Account.BANK, Decimal("1.00")), (Account.CONTRIBUTION, Decimal("-0.99"))))
    with pytest.raises(ValueError, match="借贷不平衡"):
        services.journals_write([_contribution(scheme), bad], acting_user=None)
    assert not Journal.objects.exists()


def test_a_float_amount_is_refused():
    with pytest.raises(TypeError):
        postings.money(0.1)


def test_reversal_mirrors_each_journal_of_the_source_once(loaded_policies):
    scheme = _scheme()
    services.journals_write([_contribution(scheme, payment_id=7)], acting_user=None)
    [reversal_id] = services.source_reverse(source_kind=SourceKind.PAYMENT, source_id=7,
                                            acting_user=None, memo="重复缴费")
    reversal = Journal.objects.get(pk=reversal_id)
    assert reversal.kind == Journal.Kind.REVERSAL and reversal.memo == "重复缴费"
    assert selectors.balance(source=(SourceKind.PAYMENT, 7)) == 0
    assert selectors.balance(source=(SourceKind.PAYMENT, 7), account=Account.BANK) == 0
    assert services.source_reverse(source_kind=SourceKind.PAYMENT, source_id=7, acting_user=None) == []
    with pytest.raises(IntegrityError), transaction.atomic():  # the database: once only
        services.journals_write([services.journal_reversal(reversal.reverses, booked_on=date.today())],
                                acting_user=None)


@pytest.mark.postgres
def test_the_database_refuses_changes_deletes_and_unbalanced_entries(loaded_policies):
    if connection.vendor != "postgresql":
        pytest.skip("the triggers are PostgreSQL's")
    scheme = _scheme()
    [journal_id] = services.journals_write([_contribution(scheme)], acting_user=None)
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic():
        Entry.objects.filter(journal_id=journal_id).update(amount=Decimal("1.00"))
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic():
        Journal.objects.filter(pk=journal_id).update(memo="改")
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic():
        Entry.objects.filter(journal_id=journal_id).delete()
    with pytest.raises(DatabaseError, match="借贷不平衡"), transaction.atomic():
        Entry.objects.create(journal_id=journal_id, account=Account.BANK, amount=Decimal("0.01"))
    assert selectors.balance(scheme=scheme) == 0


@pytest.mark.postgres
def test_the_database_checks_a_later_statement_on_an_existing_journal(loaded_policies):
    """The balance trigger reads only the lines of the statement (ledger 0003): lines added
    later to a balanced journal are refused unless they balance among themselves (the whole
    statement refused, its other journals' lines too), and accepted when they do."""
    if connection.vendor != "postgresql":
        pytest.skip("the triggers are PostgreSQL's")
    scheme = _scheme()
    [first, second] = services.journals_write([_contribution(scheme, payment_id=1),
                                               _contribution(scheme, payment_id=2)], acting_user=None)

    def add(*lines):  # one INSERT statement
        Entry.objects.bulk_create([Entry(journal_id=j, account=a, amount=Decimal(x)) for j, a, x in lines])

    for lines in ([(first, Account.BANK, "5.00"), (first, Account.CONTRIBUTION, "-4.99")],
                  [(first, Account.BANK, "5.00"), (second, Account.CONTRIBUTION, "-5.00")],
                  [(first, Account.BANK, "5.00"), (first, Account.CONTRIBUTION, "-5.00"),
                   (second, Account.BANK, "1.00")],
                  [(first, Account.BANK, "5.00")]):
        with pytest.raises(DatabaseError, match="借贷不平衡"), transaction.atomic():
            add(*lines)
    assert Entry.objects.filter(journal_id__in=[first, second]).count() == 4
    add((first, Account.BANK, "5.00"), (first, Account.CONTRIBUTION, "-5.00"),
        (second, Account.BANK, "2.00"), (second, Account.SUBSIDY, "-1.50"), (second, Account.CONTRIBUTION, "-0.50"))
    assert Entry.objects.filter(journal_id=first).count() == 4
    assert Entry.objects.filter(journal_id=second).count() == 5
    assert selectors.balance(scheme=scheme) == 0
    assert not selectors.unbalanced_journals().exists()


def _rows(ids):
    journals = list(Journal.objects.filter(pk__in=ids).order_by("id").values(
        "kind", "scheme_id", "region_id", "year", "person_id", "source_kind", "source_id", "reverses_id",
        "booked_on", "memo", "reference", "created_by_id"))
    entries = [list(Entry.objects.filter(journal_id=i).order_by("id").values_list("account", "amount"))
               for i in ids]
    return journals, entries


@pytest.mark.parametrize("self_paid,subsidy", [("380.00", "0"), ("180.00", "200.00"), ("0", "380.00"),
                                               ("0", "0"), ("380.005", "0.004")])
def test_contributions_write_books_what_journals_write_books(loaded_policies, self_paid, subsidy):
    """The payments import's bulk path (``contributions_write``) writes the same journals and
    lines as ``journals_write`` of ``postings.contribution`` — nothing for a payment of
    nothing, zero lines left out, amounts rounded to the fen."""
    scheme = _scheme()
    by_specs = services.journals_write([_contribution(scheme, payment_id=7, self_paid=self_paid,
                                                      subsidy=subsidy)], acting_user=None)
    by_rows = services.contributions_write([{
        "payment_id": 7, "scheme_id": scheme.pk, "region_id": scheme.region_id, "year": 2024,
        "person_id": None, "self_paid": Decimal(self_paid), "subsidy": Decimal(subsidy),
        "paid_date": date(2023, 11, 20), "receipt_no": "R1"}], acting_user=None)
    assert len(by_rows) == len(by_specs) == (0 if self_paid == subsidy == "0" else 1)
    assert _rows(by_rows) == _rows(by_specs)
    assert not selectors.unbalanced_journals().exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="contributions_write_select: PostgreSQL")
@pytest.mark.parametrize("self_paid,subsidy", [("380.00", "0"), ("180.00", "200.00"), ("0", "380.00"),
                                               ("0", "0"), ("380.005", "0.004")])
def test_contributions_write_select_books_what_contributions_write_books(loaded_policies, self_paid,
                                                                          subsidy):
    """The payments import's PostgreSQL path (``contributions_write_select``: the database
    books the stored payments) writes the same journals and lines as
    ``contributions_write`` — in payment order, nothing for a payment of nothing, zero
    lines left out, amounts rounded to the fen half-up."""
    scheme = _scheme()
    payments = [{"payment_id": pid, "scheme_id": scheme.pk, "region_id": scheme.region_id, "year": 2024,
                 "person_id": None, "self_paid": Decimal(self_paid), "subsidy": Decimal(amount),
                 "paid_date": date(2023, 11, 20), "receipt_no": f"R{pid}" + "9" * 90}
                for pid, amount in ((8, subsidy), (7, "1.00"))]
    by_rows = services.contributions_write(sorted(payments, key=lambda p: p["payment_id"]),
                                           acting_user=None)
    source = " UNION ALL ".join(
        ["SELECT %s::bigint AS payment_id, %s::bigint AS scheme_id, %s::bigint AS region_id, "
         "%s::integer AS year, %s::bigint AS person_id, %s::numeric AS self_paid, %s::numeric AS subsidy, "
         "%s::date AS paid_date, %s::text AS receipt_no"] * len(payments))
    params = [p[k] for p in payments for k in ("payment_id", "scheme_id", "region_id", "year", "person_id",
                                               "self_paid", "subsidy", "paid_date", "receipt_no")]
    before = set(Journal.objects.values_list("id", flat=True))
    entries = services.contributions_write_select(source, params, acting_user=None)
    by_select = list(Journal.objects.exclude(id__in=before).order_by("id").values_list("id", flat=True))
    assert _rows(by_select) == _rows(by_rows)
    assert entries == Entry.objects.filter(journal_id__in=by_select).count()
    assert not selectors.unbalanced_journals().exists()
