"""The fast write path of the persons/payments imports (issue 6, docs/benchmarks.md): the
checks are exactly ``Person.full_clean``'s, the rows and their history rows are what the
ORM would write, and the one-pass import stays all-or-nothing (spec README §6) — also
when a concurrent import inserts the same key between the check and the write."""
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment.models import Enrollment, Payment, Person
from enrollment.sheet_kinds import persons as sheet_kinds
from enrollment.sheet_kinds.payments import PaymentSheet
from enrollment.sheet_kinds.persons import PersonSheet, _person_errors
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, id_number, payment_row, person_row
from policies.models import Region
from sheets import engine
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv

pytestmark = pytest.mark.usefixtures("loaded_policies")

GOOD = id_number(1)
BAD_CHECK = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")

CASES = [
    {},
    {"document_number": BAD_CHECK},
    {"document_number": "12345"},
    {"document_number": ""},
    {"name": "甲" * 51},
    {"phone": "12ab"},
    {"bank_account_number": "12"},
    {"category": "vip"},
    {"document_type": "passport"},
    {"birth_date": date(1990, 1, 1), "sex": "female"},
    {"sex": "unknown"},
    {"document_type": "birth_certificate", "document_number": "P440012345", "birth_date": None, "sex": ""},
    {"document_type": "birth_certificate", "document_number": "P4", "birth_date": None, "sex": ""},
    {"document_type": "hk_macau_taiwan"},
    {"document_type": "foreign_permanent", "document_number": "ABC123456789012", "birth_date": date(1990, 1, 1),
     "sex": "male"},
    {"name": "", "note": "x" * 10, "resettled": True},
    {"long_term_resident": True},
    {"basic_insured_in_province": True, "hk_macao_taiwan": True},
    {"long_term_resident": True, "residence_region_id": 1},
]


@pytest.mark.parametrize("change", CASES)
def test_person_errors_are_exactly_full_clean(change):
    values = {"document_type": "id_card", "document_number": GOOD, "name": "甲", "sex": "", "birth_date": None,
              "category": "resident", "phone": "13800001234", "hukou_region_id": None,
              "residence_region_id": None, "resettled": False, "long_term_resident": False,
              "hk_macao_taiwan": False, "basic_insured_in_province": False, "bank_name": "", "bank_account_name": "",
              "bank_account_number": "", "bank_place": "", "note": ""}
    values.update(change)
    person = Person(**values)
    try:
        person.full_clean(exclude=["hukou_region", "residence_region"], validate_unique=False,
                          validate_constraints=False)
        expected = {}
    except ValidationError as exc:
        expected = {(None if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    cache = {}
    for _ in range(2):  # a fresh cache, then the same values through the warm cache
        got = dict(values)
        assert _person_errors(got, cache) == expected
        assert (got["document_number"], got["birth_date"], got["sex"]) == (
            person.document_number, person.birth_date, person.sex)
    assert ("document_type", str, values["document_type"]) in cache or "document_type" in expected


def _fields(obj, model):
    return {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}


def test_rows_and_history_rows_are_what_the_orm_writes(tmp_path, dianjiang_clerk):
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(s) for s in (1, 3)])
    assert run_import(get_kind("persons"), path, user=dianjiang_clerk).ok
    path = write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [payment_row(s) for s in (1, 3)])
    assert run_import(get_kind("payments"), path, user=dianjiang_clerk).ok
    for model in (Person, Enrollment, Payment):
        objs = list(model.objects.order_by("pk"))
        assert len(objs) == 2
        for obj in objs:
            history = obj.history.get()
            assert (history.history_type, history.history_user, history.history_change_reason) == (
                "+", dianjiang_clerk, None)
            assert _fields(history, model) == _fields(obj, model)
    person = Person.objects.get(document_number=id_number(1))
    assert (person.birth_date, person.sex, person.hukou_region.code) == (date(1980, 6, 15), "male", "500231")
    assert person.created_at == person.updated_at
    enrollment = Enrollment.objects.get(person=person)
    assert (enrollment.status, enrollment.origin, enrollment.continuous_years, enrollment.paid_off_date) == (
        Enrollment.Status.ACTIVE, Enrollment.Origin.MANUAL, 1, date(2023, 12, 1))
    payment = Payment.objects.get(enrollment=enrollment)
    assert (payment.completes, payment.payer_person_id, payment.self_paid) == (True, None, 380)


def test_every_error_after_the_first_bad_chunk_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(PersonSheet, "chunk_size", 2)
    rows = [person_row(s) for s in (1, 3, 5, 7, 9, 11)]
    rows[2][2] = "贵宾"  # row 4, chunk 2
    rows[5][0] = BAD_CHECK  # row 7, chunk 3
    result = run_import(get_kind("persons"), write_csv(tmp_path / "p.csv", PERSON_HEADER, rows), user=None)
    assert {(e.row, e.column) for e in result.errors} == {(4, "人员类别"), (7, "证件号码")}
    assert not result.written and result.counts["created"] == 4 and result.rows == 6
    assert not Person.objects.exists() and not Person.history.exists()


def test_concurrent_insert_of_the_same_person_rolls_everything_back(tmp_path, monkeypatch):
    """Another import commits the same person after this chunk was checked: the unique
    constraint refuses the write, nothing of the file is written."""
    monkeypatch.setattr(PersonSheet, "chunk_size", 2)
    check = PersonSheet.check

    def check_then_concurrent_insert(self, rows, ctx):
        planned = check(self, rows, ctx)
        if rows[0].number == 4:  # the second chunk
            Person.objects.create(document_number=id_number(5), name="他人", category="resident",
                                  birth_date=date(1980, 6, 15), sex="male")
        return planned

    monkeypatch.setattr(PersonSheet, "check", check_then_concurrent_insert)
    rows = [person_row(s) for s in (1, 3, 5, 7)]
    result = run_import(get_kind("persons"), write_csv(tmp_path / "p.csv", PERSON_HEADER, rows), user=None)
    assert not result.ok and not result.written
    assert "写入时数据库拒绝" in result.errors[0].message
    assert not Person.objects.exists() and not Person.history.exists()


def test_concurrent_payment_with_the_same_receipt_rolls_everything_back(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(s) for s in (1, 3)])
    assert run_import(get_kind("persons"), path, user=None).ok
    check = PaymentSheet.check

    def check_then_concurrent_payment(self, rows, ctx):
        planned = check(self, rows, ctx)
        _created, enrollment, payment = planned[-1]
        other = Enrollment.objects.create(person_id=enrollment["person_id"], plan_year_id=enrollment["plan_year_id"],
                                          tier=1)
        Payment.objects.create(enrollment=other, scheme_id=payment["scheme_id"], amount_due=380, self_paid=380,
                               paid_date=date(2023, 12, 1), channel="wechat", receipt_no=payment["receipt_no"])
        return planned

    monkeypatch.setattr(PaymentSheet, "check", check_then_concurrent_payment)
    path = write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [payment_row(s) for s in (1, 3)])
    result = run_import(get_kind("payments"), path, user=None)
    assert not result.written and "写入时数据库拒绝" in result.errors[0].message
    assert not Enrollment.objects.exists() and not Payment.objects.exists() and not Enrollment.history.exists()


def test_region_scope_still_checked_on_new_persons(tmp_path, changzhi_clerk):
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(1)])
    result = run_import(get_kind("persons"), path, user=changzhi_clerk)
    assert [(e.row, e.column) for e in result.errors] == [(2, "户籍所在地")]
    assert "垫江县" in result.errors[0].message and Region.objects.filter(code="140400").exists()
    assert sheet_kinds.PersonSheet.one_pass and not Person.objects.exists()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE 仅在 PostgreSQL 上执行")
def test_a_large_import_refreshes_the_statistics_of_its_tables(tmp_path, monkeypatch):
    """From ``ANALYZE_MIN_ROWS`` rows written, the kind's tables are analyzed (a re-import
    right after a large import otherwise runs with plans for empty tables) — not their
    history tables, which nothing reads in bulk; below it, and for a file with nothing
    new, nothing is analyzed."""
    monkeypatch.setattr(engine, "ANALYZE_MIN_ROWS", 2)
    path = write_csv(tmp_path / "p.csv", PERSON_HEADER, [person_row(s) for s in (1, 3)])
    with CaptureQueriesContext(connection) as queries:
        assert run_import(get_kind("persons"), path, user=None).written
    analyzed = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    assert analyzed == ['ANALYZE "enrollment_person"']
    with CaptureQueriesContext(connection) as queries:  # all 无变化: nothing written
        assert run_import(get_kind("persons"), path, user=None).ok
    assert not [q for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    path = write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [payment_row(1)])
    with CaptureQueriesContext(connection) as queries:  # one row: below the threshold
        assert run_import(get_kind("payments"), path, user=None).written
    assert not [q for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]


def test_every_kind_names_the_models_it_writes():
    from django.apps import apps

    from sheets.registry import kind_names

    for name in kind_names():
        kind = get_kind(name)
        assert kind.writes, name
        for label in kind.writes:
            assert apps.get_model(label)._meta.db_table
