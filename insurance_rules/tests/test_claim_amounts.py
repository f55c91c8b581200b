"""The claim amounts check (``insurance_rules.claim_amounts``; README §3, §6) — no database."""
from decimal import Decimal

import pytest

from insurance_rules.claim_amounts import (
    InvalidAmounts,
    check_claim_amounts,
    class_b_copay_of,
    compliant_of,
)
from insurance_rules.errors import CaseError

D = Decimal


def refusals(**amounts):
    with pytest.raises(InvalidAmounts) as exc:
        check_claim_amounts(**amounts)
    return [(r.field, r.message) for r in exc.value.refusals]


@pytest.mark.parametrize("amounts, compliant", [
    (dict(total=D("1000")), D("1000")),
    (dict(total=D("1000"), out_of_catalog=D("100"), class_b_copay=D("50")), D("850")),
    (dict(total=D("1000"), out_of_catalog=D("100"), class_b_copay=D("50"), compliant=D("850.00")),
     D("850")),
    (dict(total=D("500"), out_of_catalog=D("500")), D("0")),
    (dict(total=D("1000"), out_of_catalog=None, class_b_copay=None, tcm_compliant=None), D("1000")),
])
def test_compliant_is_derived_or_confirmed(amounts, compliant):
    checked = check_claim_amounts(**amounts)
    assert checked.compliant == compliant
    assert checked.out_of_catalog == (amounts.get("out_of_catalog") or D("0"))


def test_parts_at_their_limits_pass():
    checked = check_claim_amounts(total=D("1000"), out_of_catalog=D("200"), tcm_compliant=D("800"),
                                  special_drug=D("1000"), drug_class_a=D("300"), drug_class_b=D("500"),
                                  class_b_items=D("0"))
    assert (checked.compliant, checked.class_b_items) == (D("800"), D("0"))


@pytest.mark.parametrize("field", ["total", "out_of_catalog", "class_b_copay", "tcm_compliant",
                                   "special_drug", "drug_class_a", "drug_class_b",
                                   "out_of_catalog_controlled"])
def test_a_negative_amount_is_refused_by_field(field):
    amounts = {"total": D("100"), field: D("-1")}
    with pytest.raises(InvalidAmounts) as exc:
        check_claim_amounts(**amounts, labels={field: "某费用"})
    assert exc.value.negative and exc.value.code == "invalid_input"
    assert [(r.field, r.message) for r in exc.value.refusals] == [(field, "“某费用”不能为负数：-1.00")]


def test_negative_amounts_are_all_listed_and_nothing_else_is_checked():
    assert refusals(total=D("100"), out_of_catalog=D("-1"), class_b_items=D("-2"),
                    special_drug=D("500")) == [
        ("out_of_catalog", "“out_of_catalog”不能为负数：-1.00"),
        ("class_b_items", "“class_b_items”不能为负数"),
    ]


@pytest.mark.parametrize("amounts, expected", [
    (dict(total=D("100"), out_of_catalog=D("80"), class_b_copay=D("30")),
     [("out_of_catalog", "全自费 80.00 与乙类先行自付 30.00 之和超过医疗总费用 100.00")]),
    (dict(total=D("100"), compliant=D("90")),
     [("compliant", "合规费用 90.00 不等于 医疗总费用 − 全自费 − 乙类先行自付 = 100.00")]),
    (dict(total=D("100"), out_of_catalog=D("40"), tcm_compliant=D("61")),
     [("tcm_compliant", "中医药合规费用不能超过合规费用 60.00")]),
    (dict(total=D("100"), special_drug=D("100.01")),
     [("special_drug", "特药费用不能超过医疗总费用 100.00")]),
    (dict(total=D("100"), drug_class_a=D("60"), drug_class_b=D("41")),
     [("drug_class_b", "甲乙类药品费用之和不能超过合规费用 100.00")]),
])
def test_each_part_refused_with_its_field(amounts, expected):
    assert refusals(**amounts) == expected


def test_every_refusal_is_listed_and_the_first_is_the_message():
    with pytest.raises(CaseError) as exc:
        check_claim_amounts(total=D("100"), compliant=D("50"), tcm_compliant=D("60"),
                            special_drug=D("200"), drug_class_a=D("51"))
    assert [r.field for r in exc.value.refusals] == ["compliant", "tcm_compliant", "special_drug",
                                                     "drug_class_b"]
    assert exc.value.message.startswith("合规费用 50.00 不等于") and exc.value.field == "compliant"
    # a refused compliant: the later checks compare with the given one
    assert "不能超过合规费用 50.00" in exc.value.refusals[1].message
    assert exc.value.derived == D("100")


def test_parts_over_the_total_compare_nothing_with_a_negative_compliant():
    assert refusals(total=D("100"), out_of_catalog=D("150"), tcm_compliant=D("10")) == [
        ("out_of_catalog", "全自费 150.00 与乙类先行自付 0.00 之和超过医疗总费用 100.00")]


@pytest.mark.parametrize("items, rate, copay", [
    (D("1000"), D("5"), D("50")), (D("333.33"), D("5"), D("16.6665")), (D("0"), D("5"), D("0")),
])
def test_class_b_copay_from_items_unrounded(items, rate, copay):
    assert class_b_copay_of(items, rate) == copay


def test_compliant_formula():
    assert compliant_of(D("1000"), D("100"), D("50")) == D("850")
    assert compliant_of(D("100"), D("100"), D("1")) == D("-1")


@pytest.mark.parametrize("field", ["total", "out_of_catalog", "compliant", "class_b_items", "drug_class_a"])
@pytest.mark.parametrize("value", ["1e30", "1" * 29, "-1e30", "1e999999999", "1000000000000"])
def test_amounts_out_of_bounds_are_refused_first(field, value):
    """issue 15 hole 8: a 29-digit amount raised InvalidOperation while its message was built."""
    amounts = {"total": D("100"), field: D(value)}
    with pytest.raises(InvalidAmounts) as exc:
        check_claim_amounts(**amounts, labels={field: "某费用"})
    assert exc.value.negative and exc.value.field == field
    assert exc.value.message == "“某费用”超出金额上限（须小于 1 000 000 000 000 元，即一万亿元）"


def test_decimals_beyond_the_cent_are_refused_unless_the_caller_rounds():
    with pytest.raises(InvalidAmounts, match="最多 2 位小数"):
        check_claim_amounts(total=D("100.001"))
    assert check_claim_amounts(total=D("100.001"), places=None).compliant == D("100.001")
    assert check_claim_amounts(total=D("100.500")).compliant == D("100.500")
