"""The payment check (``insurance_rules.enrollment.payment``; README §2, §6) with the 垫江
plan of the contribution tests (380.00 一档 in the central window, 低保 subsidy 342.00)
— no database."""
from datetime import date
from decimal import Decimal

import pytest

from insurance_rules.enrollment.contribution import quote
from insurance_rules.enrollment.payment import (
    PaidSoFar,
    RecordedPayment,
    Stated,
    check_payment,
    duplicate_receipt,
    enrollment_closed,
    payment_figures,
)
from insurance_rules.facts import HeldIdentity, PersonFacts

from . import plans

D = Decimal
CENTRAL = date(2023, 12, 1)  # central window: 380.00 (一档), coverage from 2024-01-01


def person(*identities, birth=date(1980, 6, 15), category="resident"):
    return PersonFacts(birth_date=birth, category=category,
                       identities=tuple(HeldIdentity(i) for i in identities),
                       basic_insured_in_region=True)


NOTHING_PAID = PaidSoFar()


def check(paid=NOTHING_PAID, who=None, paid_date=CENTRAL, tier=1, **kw):
    kw.setdefault("channel", "wechat")
    kw.setdefault("relation", None)
    return check_payment(plans.dianjiang(), who or person(), paid=paid, paid_date=paid_date, tier=tier, **kw)


def fields(decision):
    return [(r.field, r.code) for r in decision.refusals]


# --------------------------------------------------------------------------- a partial self-pay (service)


@pytest.mark.parametrize("self_paid, completes", [(None, True), (D("380"), True), (D("200"), False)])
def test_self_pay_up_to_what_is_open(self_paid, completes):
    decision = check(self_paid=self_paid)
    assert decision.ok and decision.completes is completes
    assert (decision.figures.due, decision.figures.remaining) == (D("380.00"), D("380.00"))
    assert decision.self_paid == (self_paid if self_paid is not None else D("380.00"))
    assert decision.quote.coverage_start == date(2024, 1, 1)


def test_subsidy_is_counted_once_over_partial_payments():
    first = check(who=person("dibao"), self_paid=D("10"))
    assert (first.figures.subsidy_now, first.figures.remaining, first.completes) == (
        D("342.00"), D("38.00"), False)
    second = check(who=person("dibao"), paid=PaidSoFar(subsidy=D("342"), self_paid=D("10"),
                                                       last_paid_date=CENTRAL))
    assert (second.figures.subsidy_now, second.self_paid, second.completes) == (D("0"), D("28.00"), True)


@pytest.mark.parametrize("self_paid, paid, message, code", [
    (D("-1"), PaidSoFar(), "个人缴费不能为负数", None),
    (D("380.01"), PaidSoFar(), "个人缴费 380.01 超过应缴未缴金额 380.00（应缴 380.00，已资助 0.00，"
                               "已个人缴费 0.00，本次资助 0.00）", "over_payment"),
    (D("0"), PaidSoFar(), "本次缴费金额为 0，无需登记", None),
    (None, PaidSoFar(self_paid=D("380")), "本次缴费金额为 0，无需登记", None),
])
def test_self_pay_refusals(self_paid, paid, message, code):
    decision = check(self_paid=self_paid, paid=paid)
    assert [(r.field, r.message, r.code) for r in decision.refusals] == [("self_paid", message, code)]


# --------------------------------------------------------------------------- order of the checks


@pytest.mark.parametrize("paid, message, code", [
    (PaidSoFar(terminated=True), "该参保登记已终止，不能再缴费", None),
    (PaidSoFar(paid_off_date=date(2024, 1, 5)), "该参保登记已于 2024-01-05 缴清，不能重复缴费", "already_paid"),
])
def test_a_closed_enrollment_is_refused_first(paid, message, code):
    decision = check(paid=paid, paid_date=date(2030, 1, 1), self_paid=D("-5"))
    assert decision.blocked
    assert [(r.field, r.message, r.code) for r in decision.refusals] == [("enrollment", message, code)]
    assert enrollment_closed(paid, "该参保人的城乡居民 2024 年度").message.startswith(
        "该参保人的城乡居民 2024 年度" if code else "该参保登记")


def test_an_open_enrollment_passes_the_first_check():
    assert enrollment_closed(PaidSoFar(subsidy=D("1"), last_paid_date=CENTRAL)) is None


def test_a_payment_before_the_last_one_is_refused_and_the_rest_still_checked():
    decision = check(paid=PaidSoFar(self_paid=D("100"), last_paid_date=date(2023, 12, 5)),
                     self_paid=D("300"))
    assert fields(decision) == [("paid_date", None), ("self_paid", "over_payment")]
    assert decision.refusals[0].message == ("缴费日期 2023-12-01 早于本参保登记已有缴费的最后日期 2023-12-05，"
                                            "请按缴费日期先后登记")


@pytest.mark.parametrize("kw, field, code", [
    (dict(tier=None), "tier", "invalid_input"),
    (dict(paid_date=date(1979, 1, 1)), "paid_date", "invalid_input"),
    (dict(who=person(category="employee_active")), "person", "not_eligible"),
    (dict(holds_employee_basic=True), "person", "not_eligible"),
    (dict(paid_date=date(2024, 10, 1)), "paid_date", "window_closed"),
])
def test_rule_refusals_stop_the_check(kw, field, code):
    decision = check(**kw)
    assert decision.blocked and fields(decision) == [(field, code)]


def test_payer_refusal_names_the_payer():
    decision = check_payment(plans.liaocheng(), person(), paid=PaidSoFar(), paid_date=CENTRAL, tier=None,
                             channel="personal_account", relation="sibling")
    assert fields(decision) == [("payer", "not_eligible")]


def test_the_date_refusal_comes_before_a_rule_refusal():
    decision = check(paid=PaidSoFar(self_paid=D("1"), last_paid_date=date(2024, 10, 2)),
                     paid_date=date(2024, 10, 1))
    assert fields(decision) == [("paid_date", None), ("paid_date", "window_closed")]


def test_the_rules_are_the_quote():
    decision = check(who=person("dibao"))
    assert decision.quote == quote(plans.dianjiang(), person("dibao"), tier=1, paid_date=CENTRAL,
                                   channel="wechat", relation=None)


# --------------------------------------------------------------------------- a row that pays off (sheet)


@pytest.mark.parametrize("who, paid, stated", [
    (person(), PaidSoFar(), Stated(D("380"), D("0"), D("380"))),
    (person("dibao"), PaidSoFar(), Stated(D("380"), D("342"), D("38"))),
    (person("dibao"), PaidSoFar(subsidy=D("342"), self_paid=D("10"), last_paid_date=CENTRAL),
     Stated(D("380"), D("0"), D("28"))),
])
def test_stated_amounts_that_pay_off(who, paid, stated):
    decision = check(who=who, paid=paid, stated=stated)
    assert decision.ok and decision.completes


def test_stated_amounts_refused_by_column():
    decision = check(who=person("dibao"), stated=Stated(D("400"), D("0"), D("300")),
                     identity_names={"dibao": "低保对象"})
    assert [(r.field, r.message) for r in decision.refusals] == [
        ("self_paid", "金额不平：应缴金额 400.00 ≠ 资助金额 0.00 + 个人缴费 300.00（每行须缴清应缴金额）"),
        ("amount_due", "应缴金额与缴费标准不符：按缴费期“central”一档应缴 380.00"),
        ("subsidy", "资助金额与资助标准不符：按“低保对象”身份资助 342.00（就高不就低），本笔资助金额应为 342.00"),
    ]


def test_stated_amounts_after_an_earlier_payment():
    decision = check(paid=PaidSoFar(self_paid=D("80"), last_paid_date=CENTRAL),
                     stated=Stated(D("380"), D("10"), D("200")))
    assert [(r.field, r.message) for r in decision.refusals] == [
        ("self_paid", "金额不平：应缴金额 380.00 ≠ 此前已缴 80.00 + 资助金额 10.00 + 个人缴费 200.00"
                      "（每行须缴清应缴金额）"),
        ("subsidy", "资助金额与资助标准不符：参保人在缴费日期没有可获资助的特殊身份，本笔资助金额应为 0.00"),
    ]


def test_an_empty_stated_payment_is_refused():
    decision = check(paid=PaidSoFar(self_paid=D("380"), last_paid_date=CENTRAL),
                     stated=Stated(D("380"), D("0"), D("0")))
    assert fields(decision) == [("self_paid", None)]


# --------------------------------------------------------------------------- figures and receipts


def test_payment_figures():
    result = quote(plans.dianjiang(), person("dibao"), tier=1, paid_date=CENTRAL)
    figures = payment_figures(result, PaidSoFar(subsidy=D("100"), self_paid=D("20")))
    assert (figures.subsidy_now, figures.remaining) == (D("242.00"), D("18.00"))
    assert payment_figures(result, PaidSoFar(subsidy=D("400"))).subsidy_now == D("0")


def test_duplicate_receipt():
    refusal = duplicate_receipt(RecordedPayment("R-1", "张三", date(2023, 12, 1), D("380")),
                                "垫江县城乡居民基本医疗保险")
    assert (refusal.field, refusal.code) == ("receipt_no", "duplicate_receipt")
    assert refusal.message == ("票据/流水号“R-1”已在垫江县城乡居民基本医疗保险登记（参保人 张三，缴费日期 "
                               "2023-12-01，应缴 380.00），不能重复登记")


@pytest.mark.parametrize("kw,field", [
    ({"self_paid": D("1e30")}, "self_paid"),
    ({"self_paid": D("1" * 29)}, "self_paid"),
    ({"self_paid": D("0.001")}, "self_paid"),
    ({"stated": Stated(amount_due=D("1e30"), subsidy=D("0"), self_paid=D("1e30"))}, "amount_due"),
    ({"stated": Stated(amount_due=D("380"), subsidy=D("-1e30"), self_paid=D("380"))}, "subsidy"),
])
def test_amounts_out_of_bounds_are_refused_before_any_arithmetic(kw, field):
    """issue 15 hole 8: 1e30 made the refusal message itself raise InvalidOperation."""
    decision = check(**kw)
    assert not decision.ok and decision.refusals[0].field == field
    assert "金额上限" in decision.refusals[0].message or "位小数" in decision.refusals[0].message
