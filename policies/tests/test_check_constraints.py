"""``policies.constraints.ChecksInOneQuery``: a model's check constraints asked in one
statement give the errors Django's one query per constraint gives, in the same order,
and skip the constraints naming an excluded field as Django does."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from policies.models import EnrollmentWindow

CASES = [
    {},  # every constraint holds
    {"pay_from": date(2024, 3, 1), "pay_to": date(2024, 2, 1)},
    {"coverage_rule": "fixed", "coverage_start": None},
    {"coverage_rule": "after_days", "waiting_days": 0, "pay_from": date(2024, 3, 1),
     "pay_to": date(2024, 1, 1), "coverage_start": date(2025, 1, 1)},
    {"coverage_start": date(2025, 1, 1)},
]


def window(**values) -> EnrollmentWindow:
    fields = {"code": "w", "name": "缴费期", "coverage_rule": "next_day",
              "coverage_end": date(2024, 12, 31), **values}
    return EnrollmentWindow(**fields)


def errors(validate, row, exclude=None):
    try:
        validate(row, exclude=exclude)
    except ValidationError as exc:
        return exc.message_dict
    return {}


@pytest.mark.django_db
@pytest.mark.parametrize("values", CASES)
@pytest.mark.parametrize("exclude", [None, {"coverage_start"}, {"pay_from", "waiting_days"}])
def test_the_same_errors_as_django_s_own_validation(values, exclude):
    row = window(**values)
    assert errors(EnrollmentWindow.validate_constraints, row, exclude) == errors(
        models.Model.validate_constraints, row, exclude)


@pytest.mark.django_db
def test_one_statement_for_all_the_check_constraints():
    row = window(**CASES[3])
    with CaptureQueriesContext(connection) as one:
        with pytest.raises(ValidationError) as exc:
            row.validate_constraints()
    with CaptureQueriesContext(connection) as each:
        with pytest.raises(ValidationError):
            models.Model.validate_constraints(row)
    assert len(exc.value.messages) == 3
    checks = [q["sql"] for q in one.captured_queries if "_check" in q["sql"]]
    assert len(checks) == 1 and len(one.captured_queries) <= len(each.captured_queries) // 4
