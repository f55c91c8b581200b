"""Issue 17: the person → region visibility rows (``PersonRegion``) that the region scope
reads (``selectors.persons_visible_to``) are kept equal to the persons' 户籍/常住地 and
enrollments by every write path, and ``rebuild_person_regions`` rebuilds them."""
from io import StringIO

import pytest
from django.core.management import call_command

from enrollment import selectors, services
from enrollment.models import Enrollment, Person, PersonRegion
from enrollment.tests.contribution_setup import new_person, plan_year
from enrollment.tests.sheet_rows import PAYMENT_HEADER, PERSON_HEADER, id_number, payment_row, person_row
from policies.models import Region
from policies.tests.factories import staff_user
from sheets.engine import run_import
from sheets.registry import get_kind
from sheets.tests.helpers import write_csv

pytestmark = pytest.mark.usefixtures("loaded_policies")


def expected() -> set:
    rows = set()
    for pk, hukou, residence in Person.objects.values_list("pk", "hukou_region_id", "residence_region_id"):
        rows |= {(pk, r) for r in (hukou, residence) if r is not None}
    return rows | set(Enrollment.objects.values_list("person_id", "plan_year__scheme__region_id"))


def stored() -> set:
    return set(PersonRegion.objects.values_list("person_id", "region_id"))


def region(code):
    return Region.objects.get(code=code)


def clerk_of(code):
    from django.contrib.auth import get_user_model
    user = get_user_model().objects.filter(username=f"clerk_{code}").first()
    return user or staff_user(f"clerk_{code}", regions=[region(code)])


def test_services_and_orm_writes_keep_the_rows():
    dj, lc = region("500231"), region("371500")
    person = new_person()  # 户籍 and 常住地 垫江
    assert stored() == {(person.pk, dj.pk)}
    services.person_update(person=person, residence_region=lc, acting_user=None)
    assert stored() == expected() == {(person.pk, dj.pk), (person.pk, lc.pk)}
    services.person_update(person=person, hukou_region=lc, acting_user=None)  # left 垫江
    assert stored() == expected() == {(person.pk, lc.pk)}
    assert person not in selectors.persons_visible_to(clerk_of("500231"))

    # enrolled in 长治 (a row written as any code would): visible there, not after the delete
    cz_clerk = clerk_of("140400")
    enrollment = Enrollment.objects.create(person=person, plan_year=plan_year("140400", "resident_basic"))
    assert stored() == expected() and person in selectors.persons_visible_to(cz_clerk)
    enrollment.delete()
    assert stored() == expected() and person not in selectors.persons_visible_to(cz_clerk)

    # an enrollment moved to another region's plan year
    enrollment = Enrollment.objects.create(person=person, plan_year=plan_year("140400", "resident_basic"))
    enrollment = Enrollment.objects.get(pk=enrollment.pk)
    enrollment.plan_year = plan_year("500231", "resident_basic")
    enrollment.save()
    assert stored() == expected()
    assert person in selectors.persons_visible_to(clerk_of("500231"))
    assert person not in selectors.persons_visible_to(cz_clerk)


def test_an_ordinary_enrollment_save_costs_no_visibility_query(django_assert_num_queries):
    person = new_person()
    enrollment = Enrollment.objects.create(person=person, plan_year=plan_year("500231", "resident_basic"))
    enrollment = Enrollment.objects.get(pk=enrollment.pk)
    enrollment.note = "备注"
    with django_assert_num_queries(2):  # the UPDATE and its history row
        enrollment.save()


def test_sheet_imports_write_the_rows(tmp_path):
    persons = write_csv(tmp_path / "p.csv", PERSON_HEADER,
                        [person_row(1), person_row(2, region="聊城市")])
    assert run_import(get_kind("persons"), persons, user=None).ok
    assert stored() == expected() and len(stored()) == 2

    moved = write_csv(tmp_path / "m.csv", PERSON_HEADER, [person_row(2, region="垫江县")])
    assert run_import(get_kind("persons"), moved, user=None).ok
    assert stored() == expected()
    assert set(PersonRegion.objects.values_list("region__code", flat=True)) == {"500231"}

    pays = write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, [payment_row(1)])
    assert run_import(get_kind("payments"), pays, user=None).ok, "payments import"
    assert stored() == expected()
    one = Person.objects.get(document_number=id_number(1))
    assert Enrollment.objects.filter(person=one).exists()


def test_rebuild_person_regions_is_idempotent():
    dj, lc = region("500231"), region("371500")
    a, b = new_person(), new_person(region="371500", area="371502")
    Enrollment.objects.create(person=a, plan_year=plan_year("371500", "inclusive_commercial"))
    want = expected()
    PersonRegion.objects.filter(person=a).delete()  # lost rows
    PersonRegion.objects.create(person=b, region=dj)  # a stale row
    assert stored() != want
    out = StringIO()
    call_command("rebuild_person_regions", stdout=out)
    assert stored() == want == {(a.pk, dj.pk), (a.pk, lc.pk), (b.pk, lc.pk)}
    assert "删除 1 行，新增 2 行" in out.getvalue()
    out = StringIO()
    call_command("rebuild_person_regions", stdout=out)
    assert "删除 0 行，新增 0 行" in out.getvalue() and stored() == want


def test_rows_of_new_persons_are_their_hukou_and_residence():
    """``person_regions_of_new`` (set-based, for persons just created without the ORM):
    each region once, none for a missing one; keys consecutive or not."""
    from datetime import date

    from django.utils import timezone

    from enrollment.services.visibility import person_regions_of_new
    from sheets.bulk_sql import insert_values

    dj, lc = region("500231").pk, region("371500").pk
    combos = [(dj, dj), (dj, lc), (None, lc), (dj, None), (None, None)]
    rows = [dict(document_type="id_card", document_number=id_number(100 + i), name=f"人{i}", sex="male",
                 birth_date=date(1980, 6, 15), category="resident", hukou_region_id=h, residence_region_id=r)
            for i, (h, r) in enumerate(combos)]
    ids = insert_values(Person, rows, now=timezone.now())
    assert person_regions_of_new(person_ids=ids[:2]) == 3
    assert person_regions_of_new(person_ids=[ids[2], ids[4], ids[3]]) == 2
    assert stored() == expected() == {(ids[0], dj), (ids[1], dj), (ids[1], lc), (ids[2], lc), (ids[3], dj)}
