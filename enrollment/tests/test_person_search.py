"""Issue 17: the person-side lists search a whole ID number exactly on its index and
nothing else, a name by its beginning on the ``person_name_prefix`` index — never
``LIKE '%…%'`` — and keep the masked-name rule (whole names only)."""
from datetime import date

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment import documents
from enrollment.models import Enrollment, Payment, Person
from enrollment.tests.contribution_setup import new_person, plan_year
from policies.tests.factories import staff_user

pytestmark = pytest.mark.usefixtures("loaded_policies")


def x_number() -> str:
    """A valid 垫江 number whose check character is X."""
    return next(n for seq in range(1, 999)
                if (n := documents.make_id_number("500231", date(1980, 6, 15), seq)).endswith("X"))


def search(model, user, term):
    request = RequestFactory().get("/", {"q": term})
    request.user = user
    model_admin = admin.site._registry[model]
    qs, duplicates = model_admin.get_search_results(request, model_admin.get_queryset(request), term)
    return qs, duplicates


def test_full_id_number_is_exact_on_the_number_only():
    number = x_number()
    person = Person.objects.create(document_number=number, name="张三丰", category="resident",
                                   birth_date=date(1980, 6, 15))
    Person.objects.create(document_number="A" + number[1:], name=number.lower(), category="resident",
                          birth_date=date(1980, 6, 15))  # a name equal to the number: not searched
    root = staff_user("root", superuser=True)
    for term in (number, number.lower(), f" {number.lower()} "):
        qs, duplicates = search(Person, root, term)
        with CaptureQueriesContext(connection) as queries:
            assert list(qs) == [person]
        sql = queries.captured_queries[-1]["sql"]
        assert '"document_number" = ' in sql and "LIKE" not in sql.upper() and "UPPER" not in sql.upper()
        assert '"name"' not in sql.split("WHERE", 1)[1]
        assert not duplicates
    # a number with a wrong check character is no key: searched as a name prefix, finds none
    qs, _ = search(Person, root, number[:17] + ("1" if number[17] != "1" else "2"))
    assert list(qs) == []


def test_names_by_their_beginning_on_every_list():
    zhang = new_person(name="张三丰")
    li = new_person(name="李张")
    Enrollment.objects.create(person=zhang, plan_year=plan_year("500231", "resident_basic"))
    Enrollment.objects.create(person=li, plan_year=plan_year("500231", "resident_basic"))
    root = staff_user("root", superuser=True)
    assert set(search(Person, root, "张")[0]) == {zhang}
    assert set(search(Person, root, "张三")[0]) == {zhang}
    assert set(search(Person, root, "三丰")[0]) == set()  # never a part in the middle
    assert {e.person for e in search(Enrollment, root, "张")[0]} == {zhang}
    qs, _ = search(Payment, root, "张")
    assert "LIKE" in str(qs.query).upper() and "%张" not in str(qs.query)


def test_changelist_and_autocomplete_search_by_prefix(client):
    zhang = new_person(name="张三丰")
    new_person(name="李张")
    client.force_login(staff_user("root", superuser=True))
    response = client.get(reverse("admin:enrollment_person_changelist"), {"q": "张"})
    assert list(response.context["cl"].result_list) == [zhang]
    found = client.get(reverse("admin:autocomplete"), {
        "term": "张", "app_label": "enrollment", "model_name": "enrollment", "field_name": "person"}).json()
    assert [r["id"] for r in found["results"]] == [str(zhang.pk)]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_postgresql_plans_use_the_indexes():
    """A plan check, not a timing: with a few thousand persons the planner reads the
    number's index and the name's prefix index, never a sequential scan of the persons."""
    surnames = "王李张刘陈杨黄赵吴周"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO enrollment_person (document_type, document_number, name, sex, birth_date, phone,"
            " category, resettled, long_term_resident, hk_macao_taiwan, basic_insured_in_province,"
            " bank_name, bank_account_name, bank_account_number, bank_place, note, created_at, updated_at)"
            " SELECT 'id_card', 'T' || lpad(g::text, 17, '0'), substr(%s, 1 + g %% 10, 1) || '小' || g,"
            " 'male', DATE '1980-01-01', '', 'resident', false, false, false, false, '', '', '', '', '',"
            " now(), now() FROM generate_series(1, 20000) g", [surnames])
        # an enrollment and a payment for each of them, as in a bureau's database: the
        # planner orders a join by the tables' statistics, and with the enrollments or
        # payments analyzed empty (a server whose autovacuum is on, such as the cluster
        # .ci/run starts) it rightly reads those first — a plan for no enrollments, not the
        # one this test is about
        resident = plan_year("500231", "resident_basic")
        cursor.execute(
            "INSERT INTO enrollment_enrollment (person_id, plan_year_id, category, tier, status, window_code,"
            " continuous_years, auto_renew, auto_deduct, basic_confirmed, origin, note, created_at)"
            " SELECT id, %s, 'resident', 1, 'active', '', 1, false, false, false, 'manual', '', now()"
            " FROM enrollment_person WHERE document_number LIKE 'T%%'", [resident.pk])
        cursor.execute(
            "INSERT INTO enrollment_payment (enrollment_id, scheme_id, amount_due, subsidy, subsidy_payer,"
            " self_paid, paid_date, channel, payer_name, relation_to_payer, receipt_no, window_code, completes,"
            " created_at) SELECT id, %s, 380, 0, '', 380, DATE '2024-01-10', 'wechat', '', 'self', 'T' || id, '',"
            " true, now() FROM enrollment_enrollment WHERE plan_year_id = %s", [resident.scheme_id, resident.pk])
        for table in ("enrollment_person", "enrollment_enrollment", "enrollment_payment"):
            cursor.execute(f"ANALYZE {table}")
    number = x_number()
    Person.objects.create(document_number=number, name="张三丰", category="resident",
                          birth_date=date(1980, 6, 15))
    root = staff_user("root", superuser=True)
    for model, term, index in ((Person, number, "document_number"), (Person, "张三", "person_name_prefix"),
                               (Enrollment, "张三", "person_name_prefix"),
                               (Payment, "张三丰", "person_name_prefix")):
        plan = search(model, root, term)[0].explain()
        assert index in plan, (model, term, plan)
        assert "Seq Scan on enrollment_person" not in plan, (model, term, plan)
