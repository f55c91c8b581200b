"""The settlement's reads compiled once per process (``sheets.bulk_sql.PreparedValues``,
issue 17): on PostgreSQL the kept SQL, run with other arguments, gives the rows the
queryset gives (values converted alike: JSON, decimals, dates); elsewhere the queryset
runs itself. An argument that does not reach the SQL as one parameter is refused instead of
being silently ignored."""
from datetime import date

import pytest
from django.db.models import F

from claims import fetch, services
from claims.models import Claim
from enrollment.models import Enrollment
from sheets.bulk_sql import InArray, PreparedValues

from .factories import dianjiang_person, outpatient

pytestmark = pytest.mark.django_db


def settled_pair():
    person = dianjiang_person(tier=1)
    first = services.claim_settle(claim=outpatient(person, "100"), acting_user=None)
    second = services.claim_settle(claim=outpatient(person, "250", day=date(2024, 4, 1)), acting_user=None)
    other = dianjiang_person(tier=1)
    third = services.claim_settle(claim=outpatient(other, "80"), acting_user=None)
    return person, other, [first, second, third]


def test_prepared_reads_give_the_querysets_rows(loaded_policies):
    person, other, claims = settled_pair()
    region, year = claims[0].region_id, claims[0].year
    both, ids = [person.pk, other.pk], [c.pk for c in claims]
    for args in ([person.pk], both, [other.pk], []):  # the same SQL, other arguments
        assert fetch._COUNTED.rows(args, region, year) == list(fetch._counted(args, region, year))
        assert fetch._COUNTED_EXCEPT.rows(args, region, year, ids[:1]) == list(
            fetch._counted(args, region, year, ids[:1]))
    lines = fetch._LINES.rows(ids)
    assert lines == list(fetch._LINES.build(ids))
    assert {row[0] for row in lines} == set(ids)
    assert all(isinstance(row[fetch.LINE_COLUMNS.index("param_refs")], list) for row in lines)
    plan_years = list(Enrollment.objects.filter(person=person).values_list("plan_year_id", flat=True))
    assert fetch._ENROLLMENTS.rows(both, plan_years) == list(fetch._ENROLLMENTS.build(both, plan_years))
    assert fetch._ENROLLMENTS.rows(both, plan_years)  # not vacuous


def test_an_argument_that_is_not_a_parameter_is_refused(loaded_policies, settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the SQL is compiled once on PostgreSQL only")
    ignoring = PreparedValues(lambda ids, unused: Claim.objects.filter(InArray(F("pk"), ids)).values_list("pk"))
    with pytest.raises(ValueError, match="one parameter"):
        ignoring.rows([1], 2)
