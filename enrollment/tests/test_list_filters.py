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


def test_person_region_filters_list_the_region_from_its_first_person(client):
    """户籍所在地 / 常住地 (``PersonRegionFilter``): the same persons as ``hukou_region = X``
    (``residence_region = X``), in id order, bounded below by the region's first id (the
    (region, id) index); a region no one has lists nobody; a malformed value is the admin's
    own error page, not a server error; 无 (no region) still lists the persons without one."""
    regions = five_regions()
    dj, cz, lh = regions["500231"], regions["140400"], regions["371500"]
    for n, (hukou, residence) in enumerate([(cz, cz), (dj, cz), (cz, dj), (dj, None), (cz, dj)]):
        Person.objects.create(document_number=f"R{n}", name=f"王{n}", category="resident",
                              birth_date=date(1980, 1, 1), hukou_region=hukou, residence_region=residence)
    client.force_login(staff_user("root", superuser=True))
    url = reverse("admin:enrollment_person_changelist")
    for field in ("hukou_region", "residence_region"):
        for chosen in (dj, cz, lh):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, {f"{field}__id__exact": chosen.pk})
            assert [p.pk for p in response.context["cl"].result_list] == list(
                Person.objects.filter(**{field: chosen}).order_by("id").values_list("pk", flat=True))
            first = Person.objects.filter(**{field: chosen}).order_by("id").values_list("pk", flat=True).first()
            listed = [q["sql"] for q in queries.captured_queries
                      if q["sql"].startswith('SELECT "enrollment_person"."id", ')
                      and f'"enrollment_person"."{field}_id" = ' in q["sql"]]
            if first is None:
                assert listed == []  # nobody: no read of the persons at all
            else:
                assert listed and all(f'"enrollment_person"."id" >= {first}' in s for s in listed)
    response = client.get(url, {"residence_region__isnull": "True"})
    assert [p.document_number for p in response.context["cl"].result_list] == ["R3"]
    response = client.get(url, {"hukou_region__id__exact": "abc"})
    assert response.status_code in (200, 302) and "cl" not in (response.context or {})
