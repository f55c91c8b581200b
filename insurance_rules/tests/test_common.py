"""Shared helpers of the formulas (insurance_rules.common): row matching, ratio
adjustments, annual limits, cumulative segments, explanations and rounding."""
from datetime import date
from decimal import Decimal

import pytest

from insurance_rules import common
from insurance_rules.errors import MissingRule
from insurance_rules.params import FeeClass, Figure

from .builders import (
    D,
    adjustment,
    benefit,
    claim,
    hospital,
    limit,
    person,
    plan,
    segment,
)


def _plan(**tables):
    return plan("resident_basic", "chongqing_resident", **tables)


# --------------------------------------------------------------------------- benefit rows


def test_every_set_selector_must_match():
    rows = [benefit("inpatient", level=3, tier=1, ratio=50), benefit("inpatient", level=2, tier=1, ratio=70)]
    p = _plan(benefits=rows)
    assert common.match_benefit(p, claim_type="inpatient", tier=1, hospital=hospital(3)) is rows[0]
    assert common.match_benefit(p, claim_type="inpatient", tier=2, hospital=hospital(3)) is None
    assert common.match_benefit(p, claim_type="outpatient", tier=1, hospital=hospital(3)) is None


def test_most_selectors_set_wins_then_priority():
    generic = benefit("inpatient", ratio=40)
    by_level = benefit("inpatient", level=3, ratio=50)
    out_of_province = benefit("inpatient", location="out_of_province", ratio=55, priority=10)
    p = _plan(benefits=[generic, by_level, out_of_province])
    assert common.match_benefit(p, claim_type="inpatient", tier=0, hospital=hospital(3)) is by_level
    assert common.match_benefit(p, claim_type="inpatient", tier=0, hospital=hospital(1)) is generic
    far = hospital(3, location="out_of_province")
    assert common.match_benefit(p, claim_type="inpatient", tier=0, hospital=far) is out_of_province


def test_fee_class_and_admin_level_selectors():
    p = _plan(fee_classes=[FeeClass(id=1, level=3, grade="A", fee_class=1),
                           FeeClass(id=2, level=2, grade="B", fee_class=3)],
              benefits=[benefit("inpatient", fee_class=1, ratio=60),
                        benefit("inpatient", fee_class=3, admin_level="county", ratio=85),
                        benefit("inpatient", fee_class=3, admin_level="city", ratio=75)])
    assert common.match_benefit(p, claim_type="inpatient", tier=0, hospital=hospital(3)).ratio == 60
    county = hospital(2, grade="B", admin_level="county")
    assert common.match_benefit(p, claim_type="inpatient", tier=0, hospital=county).ratio == 85
    city = hospital(2, grade="B", admin_level="city")
    assert common.match_benefit(p, claim_type="inpatient", tier=0, hospital=city).ratio == 75


@pytest.mark.parametrize("scope, location, expected", [
    ("", "out_of_province", True),
    ("in_region", "in_region", True),
    ("in_region", "in_province", False),
    ("not_in_region", "in_province", True),
    ("not_in_region", "out_of_province", True),
    ("not_in_region", "in_region", False),
    ("within_province", "in_province", True),
    ("within_province", "out_of_province", False),
    ("out_of_province", "out_of_province", True),
])
def test_location_scopes(scope, location, expected):
    assert common.location_matches(scope, location) is expected


def test_delivery_mode_selector():
    vaginal = benefit("delivery", delivery_mode="vaginal", fixed=600)
    cesarean = benefit("delivery", delivery_mode="cesarean", ratio=50, floor=600)
    p = _plan(benefits=[vaginal, cesarean])
    assert common.match_benefit(p, claim_type="delivery", tier=0, hospital=hospital(),
                                delivery_mode="cesarean") is cesarean


# --------------------------------------------------------------------------- adjustments


def test_adjustments_add_up_and_clamp():
    rows = [adjustment("minor", "inpatient", 5, max_age=18),
            adjustment("major_disease", "inpatient", 10)]
    p = _plan(adjustments=rows)
    c = claim(total=100, major_disease="dialysis")
    found = common.ratio_adjustments(p, c, person("2010-01-01"))
    assert {a.code for a in found} == {"minor", "major_disease"}
    assert common.adjusted_ratio(D(50), found) == D(65)
    assert common.adjusted_ratio(D(95), found) == D(100)
    assert common.adjusted_ratio(D(5), [adjustment("not_filed", "inpatient", -10)]) == D(0)


def test_adjustment_only_for_its_claim_types():
    p = _plan(adjustments=[adjustment("minor", "inpatient", 5, max_age=18)])
    out = claim("outpatient", total=100, hosp=hospital(1))
    assert common.ratio_adjustments(p, out, person("2010-01-01")) == ()


@pytest.mark.parametrize("birth, applies", [("2006-05-11", True), ("2006-05-10", False)])
def test_minor_uses_the_age_on_the_service_date(birth, applies):
    p = _plan(adjustments=[adjustment("minor", "inpatient", 5, max_age=18)])
    found = common.ratio_adjustments(p, claim(day="2024-05-10", total=1), person(birth))
    assert bool(found) is applies


def test_minor_without_max_age_reads_the_plan_figure_or_is_missing():
    row = adjustment("minor", "inpatient", 5)
    with_figure = _plan(adjustments=[row], figures=[Figure(id=1, code="minor_age", value=D(18))])
    assert common.ratio_adjustments(with_figure, claim(total=1), person("2010-01-01"))
    with pytest.raises(MissingRule, match="未成年人年龄上限"):
        common.ratio_adjustments(_plan(adjustments=[row]), claim(total=1), person("2010-01-01"))


def test_conditions_of_the_codes():
    p = _plan(adjustments=[adjustment("not_filed", "inpatient", -10, location="not_in_region"),
                           adjustment("cross_province", "inpatient", -10)])
    local = claim(total=1, filed=False)
    away = claim(total=1, filed=False, hosp=hospital(location="in_province"))
    far = claim(total=1, hosp=hospital(location="out_of_province"))
    assert common.ratio_adjustments(p, local, person()) == ()
    assert [a.code for a in common.ratio_adjustments(p, away, person())] == ["not_filed"]
    assert [a.code for a in common.ratio_adjustments(p, far, person())] == ["cross_province"]
    assert common.ratio_adjustments(p, far, person(resettled=True)) == ()


def test_same_code_counts_once_the_specific_row_wins():
    p = _plan(adjustments=[adjustment("minor", "inpatient", 5, max_age=18),
                           adjustment("minor", "delivery", 7, max_age=18, delivery_mode="cesarean")])
    c = claim("delivery", total=1, delivery_mode="cesarean")
    found = common.ratio_adjustments(p, c, person("2010-01-01"), claim_types=("delivery", "inpatient"))
    assert [a.points for a in found] == [D(7)]


# --------------------------------------------------------------------------- limits


def test_limit_by_pool_and_tier():
    p = _plan(limits=[limit("basic_fund", 80000, tier=1), limit("basic_fund", 120000, tier=2),
                      limit("prenatal", 300)])
    assert common.annual_limit(p, "basic_fund", tier=2, person=person(), day=date(2024, 5, 1)).amount == 120000
    assert common.annual_limit(p, "prenatal", tier=2, person=person(), day=date(2024, 5, 1)).amount == 300
    assert common.annual_limit(p, "outpatient", tier=1, person=person(), day=date(2024, 5, 1)) is None


def test_limit_identity_rows_most_favourable_valid_on_date():
    p = _plan(limits=[limit("scheme_total", 200000), limit("scheme_total", 250000, identity="dibao_edge"),
                      limit("scheme_total", None, identity="tekun")])
    day = date(2024, 5, 1)
    assert common.annual_limit(p, "scheme_total", tier=0, person=person(), day=day).amount == 200000
    both = person(identities=["dibao_edge", "tekun"])
    assert common.annual_limit(p, "scheme_total", tier=0, person=both, day=day).amount is None
    expired = person(identities=[("tekun", "2024-01-01", "2024-04-30"), "dibao_edge"])
    assert common.annual_limit(p, "scheme_total", tier=0, person=expired, day=day).amount == 250000


# --------------------------------------------------------------------------- segments


def test_segment_gain_is_the_difference_of_the_cumulative_function():
    segs = [segment(17833, 60)]
    assert common.segment_gain(segs, D(0), D(15400)) == 0
    assert common.segment_gain(segs, D(15400), D(5400)) == D("1780.20")
    assert common.segment_gain(segs, D(20000), D(1000)) == D(600)


def test_segments_after_previous_as_changzhi():
    # 75 % × (S − 10 000); then R = S − first, 50 % × (R − 50 000)
    segs = [segment(10000, 75, seq=1), segment(50000, 50, seq=2, base="after_previous")]
    # S = 250 000: first = 180 000, R = 70 000, second = 10 000
    assert common.segment_value(segs, D(250000)) == D(190000)
    # −10 pp on both: first = 65 % × 240 000 = 156 000, R = 94 000, second = 40 % × 44 000
    assert common.segment_value(segs, D(250000), points=D(-10)) == D(173600)


def test_segment_sets_identity_rows_replace_ordinary():
    p = _plan(segments=[segment(17833, 60), segment("8916.5", 65, identity="dibao")])
    day = date(2024, 5, 1)
    assert common.segment_sets(p, person(), day)[0][0] is None
    sets = common.segment_sets(p, person(identities=["dibao"]), day)
    assert [k for k, _ in sets] == ["dibao"]


# --------------------------------------------------------------------------- explanations, rounding


def test_ratio_step_text():
    value, text = common.ratio_step(D(30000), D(800), D(55))
    assert value == D(16060)
    assert text == "(30000.00−800.00)×55% = 16060.00"
    value, text = common.ratio_step(D(500), D(0), D("62.5"))
    assert text == "500.00×62.5% = 312.50"


@pytest.mark.parametrize("raw, paid", [
    ("0.005", "0.01"), ("0.004999", "0.00"), ("2.675", "2.68"), ("-3", "0.00"),
])
def test_layer_rounds_half_up_once_and_never_negative(raw, paid):
    lr = common.Calc("resident_basic").say("x").layer(Decimal(raw))
    assert lr.paid == D(paid)
    assert lr.explanation.endswith(f"本层支付 {paid}")


def test_calc_cap_records_the_limit():
    calc = common.Calc("critical_illness")
    allowed, capped = calc.cap(D(1000), limit("scheme_total", 5000), D(4500), "本险种年度累计赔付限额")
    assert (allowed, capped) == (D(500), D(500))
    assert calc.refs[0].table == "AnnualLimit"
    assert "剩余 500.00" in calc.lines[0]
