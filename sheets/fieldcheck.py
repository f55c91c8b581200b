"""A quick test that Django's field checks would pass a row unchanged, for the imports'
common path (issue 17 §3: the per-row ``Field.clean`` calls were a third of the persons
import's CPU).

``unchanged_checker(fields)`` returns ``ok(values)``: True when, for every field,
``values[attname]`` is either skipped by ``full_clean`` (an empty value of a blank field)
or one that ``field.clean(value, None)`` would return **as it is, without an error** —
the value already has the field's Python type (``to_python`` returns it untouched), it is
a permitted choice, not blank/NULL where that is refused, and it passes every validator.
Max length, min/max value, regular expressions and NUL characters are tested directly;
any other validator is called (it raises only for a bad value). A field of a type not
listed here makes ``ok`` False, and so does every doubt: the caller then runs the real
``clean`` of every field, which gives the messages. ``ok`` never accepts a value
that ``clean`` would refuse or change, so the result of an import is the same with or
without it (the kinds' tests run both paths).

``field_errors(fields, values)`` is ``Model.clean_fields`` over a dict of values instead
of a model instance: the errors by field name (what ``clean_fields`` would raise, so a
``ValidationError(errors)`` gives the same messages), the cleaned values written back —
for the kinds that check a row as values and build no instance (the claims sheet).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal

from django.core import validators as v
from django.core.exceptions import ValidationError
from django.db import models


def _validator_test(validator) -> Callable | None:
    """A predicate equivalent to ``validator`` not raising, or None when unknown."""
    kind = type(validator)
    if kind is v.MaxLengthValidator and isinstance(validator.limit_value, int):
        limit = validator.limit_value
        return lambda value: len(value) <= limit
    if kind is v.MinValueValidator and not callable(validator.limit_value):
        limit = validator.limit_value
        return lambda value: value >= limit
    if kind is v.MaxValueValidator and not callable(validator.limit_value):
        limit = validator.limit_value
        return lambda value: value <= limit
    if kind is v.DecimalValidator:
        return _decimal_test(validator.max_digits, validator.decimal_places)
    if kind is v.ProhibitNullCharactersValidator:
        return lambda value: "\x00" not in str(value)
    if kind is v.RegexValidator:
        regex = validator.regex  # lazily compiled behind a proxy: compile it once here
        search = re.compile(regex.pattern, regex.flags).search
        inverse = validator.inverse_match
        return lambda value: (search(str(value)) is None) is inverse
    return _called(validator)


def _decimal_test(max_digits, places) -> Callable:
    """``DecimalValidator(max_digits, places)`` as a predicate (its own arithmetic on
    ``as_tuple``, without building an error per call)."""
    whole = None if max_digits is None or places is None else max_digits - places

    def test(value) -> bool:
        _sign, digit_tuple, exponent = value.as_tuple()
        if exponent in {"F", "n", "N"}:
            return False
        if exponent >= 0:
            digits = len(digit_tuple) + (exponent if digit_tuple != (0,) else 0)
            decimals = 0
        elif -exponent > len(digit_tuple):
            digits = decimals = -exponent
        else:
            digits, decimals = len(digit_tuple), -exponent
        if max_digits is not None and digits > max_digits:
            return False
        if places is not None and decimals > places:
            return False
        return whole is None or digits - decimals <= whole

    return test


def _called(validator) -> Callable:
    """Any other validator: called (it raises only for a bad value)."""
    def test(value) -> bool:
        try:
            validator(value)
        except ValidationError:
            return False
        return True

    return test


def _field_test(field: models.Field) -> Callable | None:
    """A predicate: ``field.clean(value, None)`` returns ``value`` unchanged, no error.
    None when this module cannot tell for the field."""
    if isinstance(field, models.BooleanField):
        types = (bool,)
    elif isinstance(field, models.DateTimeField):
        types = (datetime,)
    elif isinstance(field, models.DateField):
        types = (date,)
    elif isinstance(field, (models.CharField, models.TextField)):
        types = (str,)
    elif isinstance(field, models.DecimalField):
        types = (Decimal,)  # to_python: Decimal(value), equal; NaN/∞ refused below
    elif isinstance(field, (models.AutoField, models.BigAutoField, models.SmallAutoField,
                            models.IntegerField)) and not isinstance(field, models.BooleanField):
        types = (int,)
    else:
        return None
    tests = []
    for validator in field.validators:
        test = _validator_test(validator)
        if test is None:
            return None
        tests.append(test)
    finite = isinstance(field, models.DecimalField)
    auto = isinstance(field, (models.AutoField, models.BigAutoField, models.SmallAutoField))
    checked = field.editable and not auto  # Field.validate is skipped for these
    choices = None
    if checked and field.choices:
        if any(isinstance(value, (list, tuple)) for _key, value in field.choices):
            return None  # grouped choices: let Django walk them
        choices = frozenset(key for key, _label in field.choices)
    refuse_empty = checked and not field.blank
    text = types == (str,)  # of the exact types above only "" is an empty value
    if text and choices is None and all(
            type(x) is v.ProhibitNullCharactersValidator
            or (type(x) is v.MaxLengthValidator and isinstance(x.limit_value, int)) for x in field.validators):
        # the common text field (max length, no NUL): the same tests, without a call each
        limits = [x.limit_value for x in field.validators if type(x) is v.MaxLengthValidator]
        limit = min(limits) if limits else None
        no_nul = any(type(x) is v.ProhibitNullCharactersValidator for x in field.validators)

        def text_test(value) -> bool:
            if type(value) is not str:
                return False
            if not value:
                return not refuse_empty
            return (limit is None or len(value) <= limit) and not (no_nul and "\x00" in value)

        return text_test

    def test(value) -> bool:
        if type(value) not in types:  # exact type: a subclass may convert (datetime → date)
            return False
        if finite and not value.is_finite():
            return False
        if text and not value:
            return not refuse_empty and (choices is None or value in choices)  # validators skip ""
        if choices is not None and value not in choices:
            return False
        for t in tests:
            if not t(value):
                return False
        return True

    return test


def unchanged_checker(fields: Iterable[models.Field]) -> Callable[[dict], bool]:
    """``ok(values)`` over ``fields`` (module docstring); ``values`` maps attnames."""
    plan = []
    for field in fields:
        # Django's usual empty values: a str among them is only ""
        usual = list(field.empty_values) == list(v.EMPTY_VALUES)
        plan.append((field.attname, field.blank, field.empty_values, _field_test(field), usual))

    def ok(values: dict) -> bool:
        get = values.get
        for name, blank, empty, test, usual in plan:
            value = get(name)
            # full_clean skips an empty value of a blank field; a Decimal, a number, a date
            # or a bool is never empty, so it is not compared with each empty value
            if blank:
                if value is None:
                    continue
                kind = type(value)
                if kind is str and usual:
                    if not value:
                        continue
                elif kind not in _NEVER_EMPTY and value in empty:
                    continue
            if test is None or not test(value):
                return False
        return True

    return ok


_NEVER_EMPTY = frozenset({Decimal, int, bool, date, datetime})


def field_errors(fields: Iterable[models.Field], values: dict) -> dict[str, list]:
    """``Model.clean_fields`` over ``values`` (attname → value; module docstring): each
    field's ``clean`` (an empty value of a blank field skipped), the cleaned value written
    back into ``values``; returns the errors by field name ({} when none)."""
    errors = {}
    for field in fields:
        name = field.attname
        value = values.get(name)
        if field.blank and value in field.empty_values:
            continue
        try:
            values[name] = field.clean(value, None)
        except ValidationError as exc:
            errors[field.name] = exc.error_list
    return errors
