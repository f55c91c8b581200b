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
