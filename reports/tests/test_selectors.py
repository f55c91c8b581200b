"""Report figures against hand-computed values (reports/tests/dataset.py; docs/reports.md)."""
from decimal import Decimal

import pytest

from policies.models import PlanFigure
from reports import selectors as sel

from . import dataset
from .factories import user_with

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def data():
    return dataset.build()


@pytest.fixture
def all_plan_years(data, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password=None)
    return list(sel.plan_years_for(admin))


def test_percent_rounds_once_half_up():
    assert sel.percent(1, 160) == D("0.63")  # 0.625 → 0.63 (half-up, not banker's 0.62)
    assert sel.percent(2, 3) == D("66.67")
    assert sel.percent(1, 3) == D("33.33")
    assert sel.percent(5, 0) is None
    assert sel.round_cent(D("2.005")) == D("2.01")


def test_participation_per_plan_year(data, all_plan_years):
    rows = {r.plan_year: r for r in sel.participation_rates(all_plan_years)}
    # only the commercial plan years are reported (basic ones are the denominators)
    assert set(rows) == {data.sm_commercial, data.sm_commercial_2023, data.lc_commercial}

    sm = rows[data.sm_commercial]
    assert (sm.enrollees, sm.basic_insured, sm.rate) == (6, 21, D("28.57"))  # 6/21
    assert (sm.target, sm.minimum) == (D("30.00"), D("20.00"))
    assert sm.status == "达到底线、未达目标"
    assert sm.official_rate is None

    lc = rows[data.lc_commercial]
    assert (lc.enrollees, lc.basic_insured, lc.rate) == (1, 3, D("33.33"))
    assert (lc.target, lc.minimum) == (D("30.00"), None)
    assert lc.status == "达到目标"

    old = rows[data.sm_commercial_2023]
    assert (old.enrollees, old.basic_insured, old.rate) == (0, 0, None)
    assert (old.target, old.minimum, old.status) == (None, None, sel.NOT_SET)


def test_targets_come_from_plan_figure_rows(data, all_plan_years):
    PlanFigure.objects.filter(plan_year=data.sm_commercial,
                              code="participation_target").update(value=D("25"))
    sm = sel.participation_rate(data.sm_commercial)
    assert sm.target == D("25.00") and sm.status == "达到目标"
    PlanFigure.objects.filter(plan_year=data.sm_commercial).delete()
    sm = sel.participation_rate(data.sm_commercial)
    assert (sm.target, sm.minimum, sm.status) == (None, None, "未设置")


def test_participation_per_county(data, all_plan_years):
    rows = [r for r in sel.county_participation_rates(all_plan_years)
            if r.plan_year == data.sm_commercial]
    got = {r.label: (r.enrollees, r.basic_insured, r.rate, r.status) for r in rows}
    assert got == {
        "尤溪县": (2, 7, D("28.57"), "达到底线、未达目标"),  # P1, P12 (town) / P1–P6, P12
        "明溪县": (2, 3, D("66.67"), "达到目标"),  # P8, P9 / P8 (twice basic), P9, P11
        "将乐县": (1, 10, D("10.00"), "低于底线"),
        "清流县": (0, 0, None, "无法计算（基本医保参保人数为 0）"),
        "未划分县区": (1, 1, D("100.00"), "达到目标"),
    }
    # counties in code order, then 未划分县区
    assert [r.label for r in rows] == ["明溪县", "清流县", "尤溪县", "将乐县", "未划分县区"]
    assert sum(r.enrollees for r in rows) == 6 and sum(r.basic_insured for r in rows) == 21
    # 聊城 has no sub-region: everything is 未划分县区
    lc = [r for r in sel.county_participation_rates(all_plan_years)
          if r.plan_year == data.lc_commercial]
    assert [(r.label, r.enrollees, r.basic_insured, r.rate) for r in lc] == [
        ("未划分县区", 1, 3, D("33.33"))]


def test_contributions(data, all_plan_years):
    rows = {r.plan_year: r for r in sel.contributions(all_plan_years)}
    assert set(rows) == {data.sm_commercial, data.lc_commercial}  # plan years with payments
    sm = rows[data.sm_commercial]
    # self: 100 + 40 + 49.50 + 69.75 + 50 + 50 + 100 (P3, suspended: collected all the same)
    assert (sm.payments, sm.persons) == (8, 7)
    assert sm.self_paid == D("459.25")
    assert sm.subsidy == D("240.75")  # 100 + 60 + 50.50 + 30.25
    assert sm.total == D("700.00")
    lc = rows[data.lc_commercial]
    assert (lc.payments, lc.persons, lc.self_paid, lc.subsidy) == (1, 1, D("90.00"), D("0.00"))


def _split(rows, plan_year):
    return {r.label: (r.payments, r.amount, r.share) for r in rows if r.plan_year == plan_year}


def test_subsidy_by_payer(data, all_plan_years):
    assert _split(sel.subsidy_by_payer(all_plan_years), data.sm_commercial) == {
        "财政资助": (3, D("190.25"), D("79.02")),  # 100 + 60 + 30.25; 190.25/240.75
        "慈善捐赠": (1, D("50.50"), D("20.98")),
    }
    assert _split(sel.subsidy_by_payer(all_plan_years), data.lc_commercial) == {}


def test_subsidy_by_department_uses_person_identity_department(data, all_plan_years):
    assert _split(sel.subsidy_by_department(all_plan_years), data.sm_commercial) == {
        "民政": (1, D("100.00"), D("41.54")),  # P12: current 低保 certificate, default dept
        "乡村振兴": (2, D("90.25"), D("37.49")),  # P8 脱贫不稳定户 60 + Q1 低保 (乡村振兴) 30.25
        "退役军人事务": (1, D("50.50"), D("20.98")),
    }


def test_subsidy_by_identity(data, all_plan_years):
    rows = sel.subsidy_by_identity(all_plan_years)
    assert _split(rows, data.sm_commercial) == {
        "低保对象": (2, D("130.25"), D("54.10")),
        "脱贫不稳定户": (1, D("60.00"), D("24.92")),
        "在乡老复员军人": (1, D("50.50"), D("20.98")),
    }
    # largest first
    assert [r.label for r in rows if r.plan_year == data.sm_commercial][0] == "低保对象"


def test_plan_years_are_scoped_and_filtered(data):
    lc_user = user_with("lc", regions=[data.liaocheng])
    assert set(sel.plan_years_for(lc_user)) == {data.lc_resident, data.lc_commercial}
    county_user = user_with("yx", regions=[data.youxi])
    assert list(sel.plan_years_for(county_user)) == []  # schemes belong to the pooling region
    nobody = user_with("none", regions=[])
    assert list(sel.plan_years_for(nobody)) == []
    sm_user = user_with("sm", regions=[data.sanming])
    assert list(sel.plan_years_for(sm_user, year=2023)) == [data.sm_commercial_2023]
    assert list(sel.plan_years_for(sm_user, region=data.liaocheng)) == []
    assert set(sel.plan_years_for(sm_user, scheme=data.sm_commercial.scheme)) == {
        data.sm_commercial, data.sm_commercial_2023}

