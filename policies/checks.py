"""Evaluating a model's simple check constraints in Python (used by the fixture loader).

Django validates a ``CheckConstraint`` with one database query per constraint and row;
loading the seed systems validates some 600 rows, so the loader evaluates the simple
conditions of ``policies.models`` (``isnull``, comparisons, ``regex``, ``F()`` between
fields of the row, ``&``, ``|``, ``~``) here, with SQL's three-valued logic: a condition
that is NULL (unknown) passes, as in the database. Anything else raises ``Unsupported``
and the caller falls back to Django's own ``constraint.validate``. The database
constraint still guards every insert and update.
"""
from __future__ import annotations

import operator
import re

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import F, Q

_COMPARE = {"exact": operator.eq, "gte": operator.ge, "lte": operator.le,
            "gt": operator.gt, "lt": operator.lt}


class Unsupported(Exception):
    """The condition uses something this evaluator does not implement."""


def _value(obj, name: str):
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist as exc:
        raise Unsupported(name) from exc
    if field.is_relation or not field.concrete:
        raise Unsupported(name)
    return getattr(obj, field.attname)


def _leaf(obj, path: str, expected):
    name, _, lookup = path.partition("__")
    lookup = lookup or "exact"
    if "__" in lookup:
        raise Unsupported(path)
    value = _value(obj, name)
    if isinstance(expected, F):
        expected = _value(obj, expected.name)
    elif hasattr(expected, "resolve_expression"):
        raise Unsupported(path)
    if lookup == "isnull":
        return (value is None) == bool(expected)
    if lookup == "exact" and expected is None:
        return value is None
    if value is None or expected is None:
        return None
    if lookup == "regex":
        return re.search(expected, str(value)) is not None
    if lookup not in _COMPARE:
        raise Unsupported(path)
    try:
        return _COMPARE[lookup](value, expected)
    except TypeError:
        return None


def evaluate(condition: Q, obj) -> bool | None:
    """True, False or None (unknown) — SQL semantics of the condition on ``obj``."""
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(evaluate(child, obj))
        elif isinstance(child, tuple) and len(child) == 2:
            results.append(_leaf(obj, *child))
        else:
            raise Unsupported(repr(child))
    if condition.connector == Q.AND:
        result = False if False in results else (None if None in results else True)
    elif condition.connector == Q.OR:
        result = True if True in results else (None if None in results else False)
    else:
        raise Unsupported(condition.connector)
    if condition.negated:
        result = None if result is None else not result
    return result


def referenced_fields(condition: Q) -> set[str]:
    names = set()
    for child in condition.children:
        if isinstance(child, Q):
            names |= referenced_fields(child)
        elif isinstance(child, tuple) and len(child) == 2:
            names.add(child[0].partition("__")[0])
            if isinstance(child[1], F):
                names.add(child[1].name)
    return names


def validate_check(constraint: models.CheckConstraint, model, obj, *, exclude: set, using: str):
    """Like ``constraint.validate``, without a query when the condition is simple."""
    condition = constraint.condition
    try:
        if referenced_fields(condition) & exclude:
            return
        ok = evaluate(condition, obj) is not False
    except Unsupported:
        constraint.validate(model, obj, exclude=exclude, using=using)
        return
    if not ok:
        raise ValidationError(constraint.get_violation_error_message(),
                              code=constraint.violation_error_code)
