"""Issue 17: the person-side lists' region filters list the user's regions from the Region
table (``listing.filters.RegionListFilter``), not a DISTINCT scan of the listed rows, and
the lists do not count the whole table twice (``show_full_result_count = False``)."""
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment.models import Person
from policies.tests.factories import five_regions, region, staff_user

pytestmark = pytest.mark.django_db


def region_choices(response, parameter):
    spec = next(s for s in response.context["cl"].filter_specs
                if getattr(s, "lookup_kwarg", "").startswith(parameter))
    return {str(title) for _pk, title in spec.lookup_choices}


def test_person_region_filters_list_the_clerks_regions_without_distinct(client):
    regions = five_regions()
    dj = regions["500231"]
    town = region("500299", "桂溪街道", parent=dj)
    Person.objects.create(document_number="X1", name="张三", category="resident", birth_date=date(1980, 1, 1),
                          hukou_region=dj, residence_region=dj)
    clerk = staff_user("jingban", regions=[dj], perms=["enrollment.view_person"])
    client.force_login(clerk)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:enrollment_person_changelist"))
    assert response.status_code == 200
    # the county and its town (no person lives there yet), none of the other regions
    assert region_choices(response, "hukou_region") == {str(dj), str(town)}
    assert region_choices(response, "residence_region") == {str(dj), str(town)}
    sqls = [q["sql"].upper() for q in queries.captured_queries]
    assert not [s for s in sqls if "DISTINCT" in s and "ENROLLMENT_PERSON" in s]
    assert len([s for s in sqls if "COUNT(" in s and "ENROLLMENT_PERSON" in s]) <= 1


def test_superuser_sees_every_region_in_the_filter(client):
    five_regions()
    admin_user = staff_user("root", superuser=True)
    client.force_login(admin_user)
    response = client.get(reverse("admin:enrollment_enrollment_changelist"))
    assert response.status_code == 200
    assert len(region_choices(response, "plan_year__scheme__region")) == 5


def test_person_category_filter_lists_the_category_from_its_first_person(client):
    """人员类别 (``PersonCategoryFilter``): the same persons as ``category = X``, in id
    order, bounded below by the category's first id; a category no one has lists nobody."""
    regions = five_regions()
    dj = regions["500231"]
    for n, category in enumerate(["resident", "employee_active", "resident", "employee_active", "student"]):
        Person.objects.create(document_number=f"C{n}", name=f"李{n}", category=category,
                              birth_date=date(1980, 1, 1), hukou_region=dj, residence_region=dj)
    client.force_login(staff_user("root", superuser=True))
    url = reverse("admin:enrollment_person_changelist")
    for category in ("employee_active", "resident", "student", "flexible"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"category__exact": category})
        assert [p.pk for p in response.context["cl"].result_list] == list(
            Person.objects.filter(category=category).order_by("id").values_list("pk", flat=True))
        if category == "employee_active":
            first = Person.objects.get(document_number="C1").pk
            listed = [q["sql"] for q in queries.captured_queries
                      if q["sql"].startswith('SELECT "enrollment_person"."id", ')
                      and '"enrollment_person"."category" = ' in q["sql"]]
            assert listed and all(f'"enrollment_person"."id" >= {first}' in s for s in listed)
