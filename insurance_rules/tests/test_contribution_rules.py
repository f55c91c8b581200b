"""Pure contribution rules with the spec's numbers (dianjiang.md, leshan.md, sanming.md,
liaocheng.md, trial-calc.md ``contribution``) — no database."""
from datetime import date
from decimal import Decimal

import pytest

from insurance_rules.enrollment.contribution import quote
from insurance_rules.enrollment.eligibility import RESIDENT_REFUSAL
from insurance_rules.errors import InvalidInput, MissingRule, NotEligible, WindowClosed
from insurance_rules.facts import HeldIdentity, PersonFacts
from insurance_rules.params import Standard

from . import plans

D = Decimal
ADULT = date(1980, 6, 15)
END = plans.END


def person(category="resident", *identities, birth=ADULT, basic=True):
    held = tuple(i if isinstance(i, HeldIdentity) else HeldIdentity(i) for i in identities)
    return PersonFacts(birth_date=birth, category=category, identities=held,
                       basic_insured_in_region=basic)


def dj(paid, tier=1, who=None, **kw):
    return quote(plans.dianjiang(), who or person(), tier=tier, paid_date=paid, **kw)


def amounts(q):
    return (str(q.due), str(q.subsidy), str(q.self_pay))


# --------------------------------------------------------------------------- 垫江 windows


@pytest.mark.parametrize("paid, start", [
    (date(2023, 10, 11), date(2024, 1, 1)),   # first day of the central window
    (date(2023, 11, 20), date(2024, 1, 1)),   # ex-3's date
    (date(2023, 12, 31), date(2024, 1, 1)),   # last day of the central window: fixed
    (date(2024, 1, 1), date(2024, 1, 2)),     # next day
    (date(2024, 2, 29), date(2024, 3, 1)),    # next day, leap year
    (date(2024, 3, 1), date(2024, 5, 30)),    # + 90 days
    (date(2024, 3, 10), date(2024, 6, 8)),    # trial-calc.md c-1: 2024-06-08
    (date(2024, 6, 30), date(2024, 9, 28)),   # + 90 days
    (date(2024, 7, 1), date(2024, 9, 29)),    # + 90 days (and + F)
    (date(2024, 9, 30), date(2024, 12, 29)),  # last payment day
])
def test_dianjiang_coverage_by_payment_date(paid, start):
    q = dj(paid)
    assert (q.coverage_start, q.coverage_end) == (start, date(2024, 12, 31))


@pytest.mark.parametrize("paid, tier, due", [
    (date(2023, 12, 31), 1, "380.00"), (date(2023, 12, 31), 2, "755.00"),
    (date(2024, 6, 30), 1, "380.00"), (date(2024, 6, 30), 2, "755.00"),
    (date(2024, 7, 1), 1, "1050.00"), (date(2024, 7, 1), 2, "1425.00"),
    (date(2024, 9, 30), 1, "1050.00"), (date(2024, 9, 30), 2, "1425.00"),
])
def test_dianjiang_due_adds_fiscal_figure_from_july(paid, tier, due):
    q = dj(paid, tier)
    assert (str(q.due), str(q.subsidy), str(q.self_pay)) == (due, "0.00", due)


def test_dianjiang_closed_after_september():
    with pytest.raises(WindowClosed) as exc:
        dj(date(2024, 10, 1))
    assert exc.value.code == "window_closed"
    assert exc.value.message == "2024 年度缴费已截止"


def test_dianjiang_before_first_window_names_the_windows():
    with pytest.raises(WindowClosed) as exc:
        dj(date(2023, 10, 10))
    assert "2023-10-10" in exc.value.message and "central" in exc.value.message
    assert "已截止" not in exc.value.message


def test_ex3_dibao_central_window():
    q = dj(date(2023, 11, 20), 1, person("resident", "dibao"))
    assert amounts(q) == ("380.00", "342.00", "38.00")
    assert (q.coverage_start, q.coverage_end) == (date(2024, 1, 1), date(2024, 12, 31))


# --------------------------------------------------------------------------- newborns


def test_newborn_day_90_uses_newborn_window():
    born = date(2024, 6, 15)
    q = dj(date(2024, 9, 13), 1, person("newborn", birth=born))  # day 90, late-window date
    assert (q.window.code, str(q.due), q.coverage_start) == ("newborn", "380.00", born)


def test_newborn_day_91_uses_ordinary_rows():
    born = date(2024, 6, 15)
    q = dj(date(2024, 9, 14), 1, person("newborn", birth=born))  # day 91
    assert (q.window.code, str(q.due), q.coverage_start) == ("late", "1050.00", date(2024, 12, 13))


def test_newborn_tier2_and_payment_on_birth_day():
    born = date(2024, 3, 1)
    q = dj(born, 2, person("newborn", birth=born))
    assert (str(q.due), q.coverage_start) == ("755.00", born)


def test_newborn_paying_after_the_ordinary_deadline_within_90_days():
    born = date(2024, 9, 1)
    q = dj(date(2024, 11, 15), 1, person("newborn", birth=born))  # day 75, after 09-30
    assert (q.window.code, str(q.due), q.coverage_start) == ("newborn", "380.00", born)


def test_child_born_in_previous_year_is_not_a_plan_year_newborn():
    q = dj(date(2024, 1, 10), 1, person("newborn", birth=date(2023, 12, 20)))
    assert (q.window.code, q.coverage_start) == ("early", date(2024, 1, 11))


def test_newborn_after_90_days_and_after_deadline_is_closed():
    with pytest.raises(WindowClosed, match="2024 年度缴费已截止"):
        dj(date(2024, 10, 5), 1, person("newborn", birth=date(2024, 7, 1)))  # day 96


def test_payment_before_birth_is_invalid():
    with pytest.raises(InvalidInput, match="早于出生日期"):
        dj(date(2024, 3, 1), 1, person("newborn", birth=date(2024, 3, 2)))


# --------------------------------------------------------------------------- subsidies


@pytest.mark.parametrize("codes, tier, expected", [
    (("sanshu",), 1, ("380.00", "0.00", "380.00")),
    (("sanshu",), 2, ("755.00", "755.00", "0.00")),
    (("old_veteran",), 1, ("380.00", "0.00", "380.00")),
    (("old_veteran",), 2, ("755.00", "755.00", "0.00")),
    *[((c,), 1, ("380.00", "380.00", "0.00")) for c in
      ("rural_veteran_60", "disabled_veteran", "tekun", "orphan", "de_facto_orphan")],
    *[((c,), 2, ("755.00", "380.00", "375.00")) for c in
      ("rural_veteran_60", "disabled_veteran", "tekun", "orphan", "de_facto_orphan")],
    (("dibao",), 1, ("380.00", "342.00", "38.00")),
    (("dibao",), 2, ("755.00", "380.00", "375.00")),
    *[((c,), 1, ("380.00", "266.00", "114.00")) for c in
      ("dibao_edge", "illness_poverty", "severe_disability", "poverty_return",
       "poverty_unstable", "edge_poverty", "sudden_hardship")],
    *[((c,), 2, ("755.00", "380.00", "375.00")) for c in
      ("dibao_edge", "illness_poverty", "severe_disability", "poverty_return",
       "poverty_unstable", "edge_poverty", "sudden_hardship")],
    # 就高不就低: the single highest subsidy, never a sum
    (("dibao", "tekun"), 1, ("380.00", "380.00", "0.00")),
    (("dibao_edge", "dibao"), 1, ("380.00", "342.00", "38.00")),
    (("sanshu", "dibao"), 1, ("380.00", "342.00", "38.00")),
    (("sanshu", "dibao"), 2, ("755.00", "755.00", "0.00")),
    (("new_veteran",), 1, ("380.00", "0.00", "380.00")),  # no subsidy row
])
def test_dianjiang_subsidies(codes, tier, expected):
    assert amounts(dj(date(2023, 12, 1), tier, person("resident", *codes))) == expected


def test_subsidy_is_fixed_so_self_pay_grows_by_f_in_july():
    assert amounts(dj(date(2024, 7, 1), 1, person("resident", "dibao"))) == (
        "1050.00", "342.00", "708.00")
    assert amounts(dj(date(2024, 8, 1), 2, person("resident", "sanshu"))) == (
        "1425.00", "755.00", "670.00")


def test_identity_not_valid_on_payment_date_gives_nothing():
    tekun_from_march = HeldIdentity("tekun", date(2024, 3, 1), date(2024, 12, 31))
    dibao_until_jan = HeldIdentity("dibao", date(2023, 1, 1), date(2024, 1, 31))
    who = person("resident", tekun_from_march, dibao_until_jan)
    assert amounts(dj(date(2024, 1, 31), 1, who)) == ("380.00", "342.00", "38.00")
    assert amounts(dj(date(2024, 2, 10), 1, who)) == ("380.00", "0.00", "380.00")
    assert amounts(dj(date(2024, 3, 1), 1, who)) == ("380.00", "380.00", "0.00")


def test_full_subsidy_row_covers_whole_due():
    q = quote(plans.sanming(), person("resident", "wulao"), tier=None, paid_date=date(2023, 12, 1))
    assert amounts(q) == ("150.00", "150.00", "0.00")


def test_amount_subsidy_never_exceeds_due():
    plan = plans.dianjiang()
    cheap = Standard(id=None, window="central", tier=1, amount=D("300"))
    plan = type(plan)(**{**plan.__dict__, "standards": (cheap,) + tuple(
        s for s in plan.standards if not (s.window == "central" and s.tier == 1))})
    assert amounts(quote(plan, person("resident", "tekun"), tier=1, paid_date=date(2023, 12, 1))) \
        == ("300.00", "300.00", "0.00")


# --------------------------------------------------------------------------- tiers and rows


def test_tier_required_where_scheme_has_tiers():
    with pytest.raises(InvalidInput, match="tier"):
        dj(date(2023, 12, 1), None)
    with pytest.raises(InvalidInput, match="tier"):
        dj(date(2023, 12, 1), 3)


def test_missing_standard_and_figure_are_missing_rule():
    plan = plans.dianjiang()
    no_late = type(plan)(**{**plan.__dict__, "standards": tuple(
        s for s in plan.standards if s.window != "late")})
    with pytest.raises(MissingRule, match="late"):
        quote(no_late, person(), tier=1, paid_date=date(2024, 7, 1))
    no_f = type(plan)(**{**plan.__dict__, "figures": ()})
    with pytest.raises(MissingRule, match="fiscal_subsidy"):
        quote(no_f, person(), tier=1, paid_date=date(2024, 7, 1))
    no_windows = type(plan)(**{**plan.__dict__, "windows": ()})
    with pytest.raises(MissingRule):
        quote(no_windows, person(), tier=1, paid_date=date(2024, 7, 1))


# --------------------------------------------------------------------------- eligibility


@pytest.mark.parametrize("category", ["employee_active", "employee_retired"])
def test_resident_basic_refuses_employees(category):
    with pytest.raises(NotEligible) as exc:
        dj(date(2023, 12, 1), 1, person(category))
    assert exc.value.message == RESIDENT_REFUSAL == "已参加职工基本医疗保险，不能参加城乡居民医保"


@pytest.mark.parametrize("category", ["resident", "student", "newborn", "flexible"])
def test_resident_basic_accepts_others(category):
    assert dj(date(2023, 12, 1), 1, person(category)).due == D("380.00")


def test_resident_basic_refuses_known_employee_enrollment_and_non_locals():
    with pytest.raises(NotEligible, match="已参加职工基本医疗保险"):
        dj(date(2023, 12, 1), 1, holds_employee_basic=True)
    with pytest.raises(NotEligible, match="户籍和常住地均不在垫江县"):
        dj(date(2023, 12, 1), 1, local=False)


def test_eligibility_is_checked_before_the_window():
    with pytest.raises(NotEligible):
        dj(date(2024, 10, 1), 1, person("employee_active"))


@pytest.mark.parametrize("category", ["employee_active", "employee_retired", "flexible"])
def test_leshan_accepts_employee_basic_categories(category):
    q = quote(plans.leshan(), person(category), tier=None, paid_date=date(2024, 3, 31))
    assert (str(q.due), q.coverage_start, q.coverage_end) == ("265.00", date(2024, 1, 1), END)


@pytest.mark.parametrize("category, basic", [("resident", True), ("student", True),
                                             ("employee_active", False)])
def test_leshan_refuses_others(category, basic):
    with pytest.raises(NotEligible, match="未参加乐山市职工基本医疗保险"):
        quote(plans.leshan(), person(category, basic=basic), tier=None, paid_date=date(2024, 1, 5))


def test_leshan_window_boundaries():
    plan = plans.leshan()
    for paid in (date(2023, 12, 15), date(2024, 3, 31)):
        assert quote(plan, person("employee_active"), tier=None, paid_date=paid).coverage_start \
            == date(2024, 1, 1)
    with pytest.raises(WindowClosed, match="2024 年度缴费已截止"):
        quote(plan, person("employee_active"), tier=None, paid_date=date(2024, 4, 1))
    with pytest.raises(WindowClosed, match="2023-12-14"):
        quote(plan, person("employee_active"), tier=None, paid_date=date(2023, 12, 14))


def test_liaocheng_refuses_persons_without_basic_insurance():
    with pytest.raises(NotEligible) as exc:
        quote(plans.liaocheng(), person(basic=False), tier=None, paid_date=date(2023, 12, 1))
    assert exc.value.message == "非聊城市基本医疗保险参保人员不得购买"


def test_sanming_refuses_persons_without_basic_insurance():
    with pytest.raises(NotEligible, match="非三明市基本医疗保险参保人员不得购买"):
        quote(plans.sanming(), person(basic=False), tier=None, paid_date=date(2023, 12, 1))


# --------------------------------------------------------------------------- commercial windows


@pytest.mark.parametrize("plan, premium", [(plans.sanming, "150.00"), (plans.liaocheng, "89.00")])
def test_commercial_deadline(plan, premium):
    q = quote(plan(), person(), tier=None, paid_date=date(2023, 12, 31))
    assert (str(q.due), q.coverage_start, q.coverage_end) == (premium, date(2024, 1, 1), END)
    with pytest.raises(WindowClosed) as exc:
        quote(plan(), person(), tier=None, paid_date=date(2024, 1, 1))
    assert exc.value.message == "2024 年度缴费已截止"


@pytest.mark.parametrize("paid", [date(2024, 1, 1), date(2024, 6, 30), date(2024, 12, 31)])
def test_liaocheng_new_veteran_any_time_coverage_as_basic(paid):
    q = quote(plans.liaocheng(), person("resident", "new_veteran"), tier=None, paid_date=paid)
    assert (q.window.code, str(q.due), q.coverage_start, q.coverage_end) == (
        "veteran", "89.00", date(2024, 1, 1), END)


def test_liaocheng_veteran_coverage_follows_known_basic_coverage():
    q = quote(plans.liaocheng(), person("resident", "new_veteran"), tier=None,
              paid_date=date(2024, 8, 1), basic_start=date(2024, 7, 15), basic_end=date(2024, 12, 31))
    assert (q.coverage_start, q.coverage_end) == (date(2024, 7, 15), END)


def test_liaocheng_veteran_identity_must_be_valid_on_payment_date():
    later = HeldIdentity("new_veteran", date(2024, 5, 1), None)
    with pytest.raises(WindowClosed, match="2024 年度缴费已截止"):
        quote(plans.liaocheng(), person("resident", later), tier=None, paid_date=date(2024, 4, 30))
    q = quote(plans.liaocheng(), person("resident", later), tier=None, paid_date=date(2024, 5, 1))
    assert q.window.code == "veteran"


# --------------------------------------------------------------------------- payers


@pytest.mark.parametrize("relation", [None, "self", "spouse", "child", "parent", "spouse_parent"])
def test_liaocheng_personal_account_allowed_relations(relation):
    q = quote(plans.liaocheng(), person(), tier=None, paid_date=date(2023, 12, 1),
              channel="personal_account", relation=relation)
    assert str(q.due) == "89.00"


@pytest.mark.parametrize("relation", ["sibling", "other", "guardian"])
def test_liaocheng_personal_account_refused_relations(relation):
    with pytest.raises(NotEligible, match="只能为本人、配偶、子女、父母、配偶的父母缴费"):
        quote(plans.liaocheng(), person(), tier=None, paid_date=date(2023, 12, 1),
              channel="personal_account", relation=relation)


def test_other_channels_are_not_restricted():
    q = quote(plans.liaocheng(), person(), tier=None, paid_date=date(2023, 12, 1),
              channel="wechat", relation="other")
    assert str(q.due) == "89.00"


@pytest.mark.parametrize("channel", ["personal_account", "family_account"])
def test_sanming_accounts_pay_for_family_members_only(channel):
    ok = quote(plans.sanming(), person(), tier=None, paid_date=date(2023, 12, 1), channel=channel,
               relation="parent")
    assert str(ok.due) == "150.00"
    with pytest.raises(NotEligible):
        quote(plans.sanming(), person(), tier=None, paid_date=date(2023, 12, 1), channel=channel,
              relation="other")


def test_leshan_personal_account_only_for_employees_themselves():
    plan = plans.leshan()
    assert quote(plan, person("employee_retired"), tier=None, paid_date=date(2024, 1, 5),
                 channel="personal_account").due == D("265.00")
    with pytest.raises(NotEligible, match="灵活就业人员"):
        quote(plan, person("flexible"), tier=None, paid_date=date(2024, 1, 5),
              channel="personal_account")
    with pytest.raises(NotEligible, match="只能为本人缴费"):
        quote(plan, person("employee_active"), tier=None, paid_date=date(2024, 1, 5),
              channel="personal_account", relation="spouse")
    assert quote(plan, person("flexible"), tier=None, paid_date=date(2024, 1, 5),
                 channel="tax_app").due == D("265.00")


def test_payer_is_checked_before_the_window():
    with pytest.raises(NotEligible):
        quote(plans.liaocheng(), person(), tier=None, paid_date=date(2024, 5, 1),
              channel="personal_account", relation="sibling")


def test_explanation_names_window_and_identity():
    q = dj(date(2024, 7, 1), 1, person("resident", "dibao"))
    text = q.explanation({"dibao": "低保对象"})
    assert "应缴 1050.00（380.00 + 670.00" in text and "低保对象" in text and "708.00" in text
