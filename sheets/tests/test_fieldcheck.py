"""``sheets.fieldcheck.unchanged_checker``: never accepts a value that the field's ``clean``
would refuse or change, and accepts the ordinary good values (no database)."""
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, MinValueValidator, RegexValidator
from django.db import models

from sheets.fieldcheck import field_errors, unchanged_checker


def _field(name, field):
    field.set_attributes_from_name(name)
    return field


FIELDS = [
    _field("code", models.CharField(max_length=6, choices=[("a", "甲"), ("b", "乙")])),
    _field("name", models.CharField(max_length=5)),
    _field("phone", models.CharField(max_length=20, blank=True,
                                     validators=[RegexValidator(r"^[0-9+\-]{7,20}$", "电话")])),
    _field("no_x", models.CharField(max_length=9, blank=True,
                                    validators=[RegexValidator(r"x", "不含 x", inverse_match=True)])),
    _field("flag", models.BooleanField(default=False)),
    _field("born", models.DateField(blank=True)),
    _field("at", models.DateTimeField(auto_now=True)),
    _field("count", models.IntegerField()),
    _field("note", models.TextField(blank=True)),
    _field("amount", models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])),
]

VALUES = {
    "code": ["a", "b", "c", "", None, 1, "A"],
    "name": ["张三", "abcde", "abcdef", "", None, 12, " "],
    "phone": ["13800000000", "12", "abc", "", None, "+86-1380000"],
    "no_x": ["abc", "axc", "", None],
    "flag": [True, False, None, "是", 1, 0],
    "born": [date(2000, 1, 2), datetime(2000, 1, 2, 3, 4, tzinfo=UTC), "2000-01-02", None, ""],
    "at": [datetime(2000, 1, 2, 3, 4, tzinfo=UTC), None, "x"],
    "count": [0, -5, 2**31, 2**40, True, "3", None],
    "note": ["长文本" * 100, "", None, 5],
    "amount": [Decimal("1.50"), Decimal("0"), Decimal("-1"), Decimal("1.234"), Decimal("12345.6"),
               Decimal("NaN"), Decimal("Infinity"), 1.5, "1.50", None],
}
GOOD = {"code": "a", "name": "张三", "phone": "13800000000", "no_x": "abc", "flag": True,
        "born": date(2000, 1, 2), "at": None, "count": 3, "note": "", "amount": Decimal("9.99")}


def _clean_unchanged(field, value) -> bool:
    if field.blank and value in field.empty_values:
        return True  # full_clean skips it
    try:
        cleaned = field.clean(value, None)
    except ValidationError:
        return False
    return type(cleaned) is type(value) and cleaned == value


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_accepted_only_when_clean_returns_the_value_unchanged(field):
    ok = unchanged_checker([field])
    accepted = [value for value in VALUES[field.name] if ok({field.attname: value})]
    for value in VALUES[field.name]:
        if ok({field.attname: value}):
            assert _clean_unchanged(field, value), value
    assert accepted, "the good values take the quick path"


def test_a_whole_row_passes_only_when_every_field_does():
    ok = unchanged_checker(FIELDS)
    assert ok(dict(GOOD))
    for name, bad in [("code", "c"), ("name", "abcdef"), ("phone", "12"), ("no_x", "axc"),
                      ("flag", None), ("born", "2000-01-02"), ("count", "3"), ("amount", Decimal("1.234"))]:
        assert not ok({**GOOD, name: bad}), name


def test_other_validators_are_called():
    field = _field("mail", models.CharField(max_length=50, validators=[EmailValidator()]))
    ok = unchanged_checker([field])
    assert ok({"mail": "a@example.com"})
    assert not ok({"mail": "a@"})


def test_a_field_of_another_type_sends_the_row_to_django():
    field = _field("ip", models.GenericIPAddressField())
    assert not unchanged_checker([field])({"ip": "127.0.0.1"})


def _clean_fields(values: dict):
    """What ``Model.clean_fields`` does with ``values`` over FIELDS: (errors, cleaned)."""
    errors, cleaned = {}, dict(values)
    for field in FIELDS:
        value = values.get(field.attname)
        if field.blank and value in field.empty_values:
            continue
        try:
            cleaned[field.attname] = field.clean(value, None)
        except ValidationError as exc:
            errors[field.name] = [e.message % (e.params or {}) for e in exc.error_list]
    return errors, cleaned


@pytest.mark.parametrize("name", [f.name for f in FIELDS])
def test_field_errors_gives_what_clean_fields_gives(name):
    for value in VALUES[name]:
        values = {**GOOD, name: value}
        expected_errors, expected_values = _clean_fields(values)
        errors = field_errors(FIELDS, values)
        assert ValidationError(errors).message_dict == (ValidationError(expected_errors).message_dict
                                                        if expected_errors else {}), value
        assert values == expected_values, value


def test_decimal_digits_checked_as_django_does():
    field = _field("money", models.DecimalField(max_digits=5, decimal_places=2))
    ok = unchanged_checker([field])
    for value in [Decimal("123.45"), Decimal("1234.5"), Decimal("0.001"), Decimal("1E+3"), Decimal("0E+5"),
                  Decimal("0"), Decimal("-999.99"), Decimal("1.50"), Decimal("1.500"), Decimal("0.00")]:
        assert ok({"money": value}) == _clean_unchanged(field, value), value
