"""``Enrollment.category`` is the person's current 人员类别 (docs/enrollment.md §人员类别):
written with the enrollments the payments import and the services create, and passed on
when the person's category changes — by a save (the person page, ``person_update``) or by
the persons import."""
from datetime import date

import pytest

from enrollment import services
from enrollment.models import Enrollment, Person
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, id_number, payment_row, person_row
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv

pytestmark = pytest.mark.usefixtures("loaded_policies")


def imported(kind, path):
    result = run_import(get_kind(kind), path, user=None)
    assert result.ok, result.errors
    return result


def categories():
    return dict(Enrollment.objects.values_list("person__document_number", "category"))


def test_the_enrollments_category_follows_the_person(tmp_path):
    imported("persons", write_csv(tmp_path / "p.csv", PERSON_HEADER,
                                  [person_row(1), person_row(3, category="在校学生/在园幼儿")]))
    imported("payments", write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [payment_row(1), payment_row(3)]))
    assert categories() == {id_number(1): "resident", id_number(3): "student"}

    # the persons import changes one category: that person's enrollments follow, the other's stay
    imported("persons", write_csv(tmp_path / "u.csv", PERSON_HEADER,
                                  [person_row(1), person_row(3, category="城乡居民")]))
    assert categories() == {id_number(1): "resident", id_number(3): "resident"}

    # the person page's service
    person = Person.objects.get(document_number=id_number(1))
    services.person_update(person=person, acting_user=None, category="employee_retired")
    assert categories() == {id_number(1): "employee_retired", id_number(3): "resident"}

    # a row built without it (a loader, a test) takes its person's
    newcomer = Person.objects.create(document_number="X9", name="新人", category="flexible",
                                     birth_date=date(1990, 1, 1))
    row = Enrollment.objects.create(person_id=newcomer.pk, plan_year=Enrollment.objects.first().plan_year)
    assert row.category == "flexible"
    assert services.enrollment_categories_sync(person_ids=[person.pk, newcomer.pk]) == 0
