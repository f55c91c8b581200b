"""Test helpers for the policy fixture tests: the seed systems loaded once per test
class (inside an outer transaction rolled back after the class, so every test still
runs in its own savepoint and the database is empty again afterwards), and lookups of
the rows of a plan year by codes. Import the fixture into a test module to use it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import models, transaction

from policies.loading import RULE_TABLES


@pytest.fixture(scope="class")
def seed_policies(django_db_setup, django_db_blocker):
    """``load_policies`` once for the class; rolled back when the class is done."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            call_command("load_policies", verbosity=0)
            yield
            transaction.set_rollback(True)


def plan_rows(region: str, kind: str, table: str, year: int = 2024):
    """The rows of one rule table of one plan year (table = model name)."""
    model = RULE_TABLES[table]
    return model.objects.filter(plan_year__scheme__region__code=region,
                                plan_year__scheme__kind=kind, plan_year__year=year)


def attr(obj, path: str):
    """``getattr`` along a ``__`` path (``window__code``)."""
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


def same(actual, expected) -> bool:
    """Compare a stored value with a value written in a test table (numbers as int/str,
    dates as ISO strings)."""
    if expected is None or actual is None:
        return actual is expected
    if isinstance(actual, Decimal):
        return actual == Decimal(str(expected))
    if isinstance(actual, date):
        return actual.isoformat() == str(expected)
    if isinstance(actual, models.Model):
        return getattr(actual, "code", None) == expected
    return actual == expected
