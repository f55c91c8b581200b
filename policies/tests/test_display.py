"""The one display formatter of amounts (policies/display.py) and the template filters
and admin columns built on it: 1,234.56 — two decimals, half-up, thousands grouped."""
from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template

from policies.display import date_text, money_column, money_text


@pytest.mark.parametrize("value, text", [
    (Decimal("5740.35"), "5,740.35"),
    (Decimal("-5740.35"), "-5,740.35"),
    (Decimal("0"), "0.00"),
    (Decimal("-0.001"), "0.00"),          # never "-0.00"
    (Decimal("105"), "105.00"),
    (Decimal("5740.35000000000"), "5,740.35"),  # a SUM as SQLite returns it
    (Decimal("999999999999.99"), "999,999,999,999.99"),
    (Decimal("1234567.5"), "1,234,567.50"),
    (Decimal("0.125"), "0.13"),            # half-up, not half-even
    (Decimal("2.675"), "2.68"),
    (Decimal("-2.675"), "-2.68"),          # half away from zero
    (Decimal("0.005"), "0.01"),
    (Decimal("0.004999"), "0.00"),
    (20000, "20,000.00"),
    (0.125, "0.13"),                       # a float by its repr, not its binary value
    ("40634.06", "40,634.06"),              # a stored string (job details)
    ("-12345.675", "-12,345.68"),
])
def test_money_text(value, text):
    assert money_text(value) == text


def test_money_text_of_nothing_and_of_no_number():
    assert money_text(None) == "—" and money_text("") == "—"
    assert money_text(None, "") == "" and money_text(None, "-") == "-"
    assert money_text("不适用") == "不适用"


def test_filters_use_the_one_formatter():
    rendered = Template(
        "{% load finance_extras %}{{ a|money }}|{{ n|money }}|"
        "{% load claims_extras %}{{ a|yuan }}|{{ n|yuan }}|"
        "{% load policies_extras %}{{ a|money }}|{{ n|money:'' }}").render(
        Context({"a": Decimal("12345.675"), "n": None}))
    assert rendered == "12,345.68|—|12,345.68||12,345.68|"


def test_money_column():
    class Row:
        total = Decimal("40634.06")
        none = None

    column = money_column("total", "医疗总费用（元）")
    assert column(Row()) == "40,634.06"
    assert (column.short_description, column.admin_order_field) == ("医疗总费用（元）", "total")
    assert money_column("none", "x")(Row()) == "—"


def test_date_text():
    assert date_text(date(2027, 1, 1)) == "2027年1月1日" and date_text(None) == "—"
