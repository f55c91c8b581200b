"""Test helpers for the policy fixture tests: lookups of the rows of a plan year by
codes. The seed systems themselves come from the ``loaded_policies`` fixture
(conftest.py: loaded once per run and shared by every test that uses it)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import models

from policies.loading import RULE_TABLES


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
