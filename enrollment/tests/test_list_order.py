"""Issue 17 §2: the 参保登记 and 缴费记录 lists are ordered by columns of their own table
(newest first) that an index holds, a clerk's scope and the plan-year filters are
``plan_year_id IN (…)`` / ``scheme_id IN (…)`` on the list's own column (no join up to the
region), a choice outside the clerk's plan years selects nothing without a query, and a
page after the first is read by its keys first (``listing.paging``)."""
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment.admin.enrollments import EnrollmentAdmin, PaymentAdmin
from enrollment.models import Enrollment, Payment, Person
from policies import codes
from policies.tests.factories import five_regions, plan_year, scheme, staff_user

pytestmark = pytest.mark.django_db

ENROLLMENTS = reverse("admin:enrollment_enrollment_changelist")
PAYMENTS = reverse("admin:enrollment_payment_changelist")


@pytest.fixture
def rows():
    regions = five_regions()
    dj, cz = regions["500231"], regions["140400"]
    plans = {
        "dj24": plan_year(scheme(dj), 2024), "dj25": plan_year(scheme(dj), 2025),
        "dj_ci": plan_year(scheme(dj, codes.SchemeKind.CRITICAL_ILLNESS, order=2), 2025),
        "cz24": plan_year(scheme(cz), 2024),
    }
    made = []
    for n in range(6):
        person = Person.objects.create(document_number=f"X{n}", name=f"张{n}", category="resident",
                                       birth_date=date(1980, 1, 1), hukou_region=dj if n % 2 else cz,
                                       residence_region=dj if n % 2 else cz)
        for key in (("dj24", "dj25", "dj_ci") if n % 2 else ("cz24",)):
            made.append(Enrollment.objects.create(person=person, plan_year=plans[key]))
    for n, enrollment in enumerate(made):
        Payment.objects.create(enrollment=enrollment, amount_due=Decimal("380"), self_paid=Decimal("380"),
                               paid_date=date(2024, 1, 1 + n % 3), channel="wechat", receipt_no=f"R{n}")
    return {"plans": plans, "dj": dj, "enrollments": made}


def listed(response):
    return [obj.pk for obj in response.context["cl"].result_list]


def list_queries(queries, table):
    return [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]


def test_enrollments_newest_plan_year_first_then_newest_registration(client, rows):
    client.force_login(staff_user("root", superuser=True))
    response = client.get(ENROLLMENTS)
    expected = list(Enrollment.objects.order_by("-plan_year_id", "-id").values_list("pk", flat=True))
    assert listed(response) == expected


def test_a_clerks_enrollments_are_scoped_by_plan_year_keys_without_joins(client, rows):
    clerk = staff_user("jingban", regions=[rows["dj"]], perms=["enrollment.view_enrollment"])
    client.force_login(clerk)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ENROLLMENTS)
    dj_plans = {rows["plans"][k].pk for k in ("dj24", "dj25", "dj_ci")}
    assert listed(response) == list(Enrollment.objects.filter(plan_year__in=dj_plans)
                                    .order_by("-plan_year_id", "-id").values_list("pk", flat=True))
    sqls = list_queries(queries, "enrollment_enrollment")
    count = next(s for s in sqls if "COUNT(" in s)
    assert '"plan_year_id" IN (' in count and "JOIN" not in count.upper()


def test_a_kind_outside_the_clerks_plan_years_selects_nothing_without_a_query(client, rows):
    clerk = staff_user("jingban", regions=[rows["dj"]], perms=["enrollment.view_enrollment"])
    client.force_login(clerk)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ENROLLMENTS, {"plan_year__scheme__kind__exact": codes.SchemeKind.EMPLOYEE_BASIC})
    assert response.status_code == 200 and listed(response) == []
    assert list_queries(queries, "enrollment_enrollment") == []
    response = client.get(ENROLLMENTS, {"plan_year__scheme__kind__exact": codes.SchemeKind.CRITICAL_ILLNESS,
                                        "plan_year__year": "2025"})
    assert listed(response) == [e.pk for e in reversed(rows["enrollments"]) if e.plan_year == rows["plans"]["dj_ci"]]


@pytest.mark.parametrize("user", ["superuser", "clerk"])
def test_category_and_auto_renew_filter_the_enrollments_own_columns_within_plan_year_keys(client, rows, user):
    """人员类别 reads the enrollment's own copy of the person's category (no join to the
    persons), 同意自动续保 its own column, both within ``plan_year_id IN (…)`` — for the
    superuser every plan year — so an index led by the plan year serves them."""
    retired = rows["enrollments"][1].person  # a 垫江 person: three enrollments
    retired.category = "employee_retired"
    retired.save()  # enrollment.signals: the enrollments follow
    Enrollment.objects.filter(pk=rows["enrollments"][0].pk).update(auto_renew=True)
    if user == "superuser":
        client.force_login(staff_user("root", superuser=True))
        scope = Enrollment.objects.all()
    else:
        client.force_login(staff_user("jingban", regions=[rows["dj"]], perms=["enrollment.view_enrollment"]))
        scope = Enrollment.objects.filter(plan_year__scheme__region=rows["dj"])
    newest = ("-plan_year_id", "-id")
    for params, expected in [
        ({"person__category__exact": "employee_retired"}, scope.filter(person=retired)),
        ({"person__category__exact": "resident"}, scope.exclude(person=retired)),
        ({"person__category__exact": "employee_active"}, scope.none()),
        ({"auto_renew__exact": "1"}, scope.filter(auto_renew=True)),
        ({"auto_renew__exact": "0"}, scope.filter(auto_renew=False)),
    ]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(ENROLLMENTS, params)
        assert listed(response) == list(expected.order_by(*newest).values_list("pk", flat=True)), params
        wheres = [s.rsplit(" WHERE ", 1)[1] for s in list_queries(queries, "enrollment_enrollment")]
        assert wheres and all('"enrollment_enrollment"."plan_year_id" IN (' in w for w in wheres), params
        assert not [w for w in wheres if '"enrollment_person"' in w], params


def test_a_deep_enrollments_page_reads_its_keys_first(client, rows, monkeypatch):
    monkeypatch.setattr(EnrollmentAdmin, "list_per_page", 2)
    client.force_login(staff_user("root", superuser=True))
    expected = list(Enrollment.objects.order_by("-plan_year_id", "-id").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ENROLLMENTS, {"p": "3"})
    assert listed(response) == expected[4:6]
    sqls = list_queries(queries, "enrollment_enrollment")
    keys = next(s for s in sqls if "OFFSET 4" in s.upper())
    assert keys.startswith('SELECT "enrollment_enrollment"."id" AS "pk" FROM') and "JOIN" not in keys.upper()
    # a column header through a join keeps the plain slice, with the same rows as Django's
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ENROLLMENTS, {"p": "3", "o": "4"})  # 年度 (after the action checkbox): plan_year__year
    assert listed(response) == list(Enrollment.objects.order_by("plan_year__year", "-plan_year_id", "-id")
                                    .values_list("pk", flat=True)[4:6])
    assert [s for s in list_queries(queries, "enrollment_enrollment") if "OFFSET 4" in s.upper()][0] \
        .startswith('SELECT "enrollment_enrollment"."id", ')


def test_payments_newest_first_scoped_by_scheme_keys_without_date_hierarchy(client, rows):
    assert PaymentAdmin.date_hierarchy is None  # months by DISTINCT over every payment
    clerk = staff_user("jingban", regions=[rows["dj"]], perms=["enrollment.view_payment"])
    client.force_login(clerk)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAYMENTS)
    expected = list(Payment.objects.filter(scheme__region=rows["dj"]).order_by("-paid_date", "-id")
                    .values_list("pk", flat=True))
    assert listed(response) == expected
    sqls = list_queries(queries, "enrollment_payment")
    count = next(s for s in sqls if "COUNT(" in s)
    assert '"scheme_id" IN (' in count and "JOIN" not in count.upper()
    assert not [s for s in sqls if "DISTINCT" in s.upper() or "MIN(" in s.upper()]
