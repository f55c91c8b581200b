"""Rolling a plan year forward (spec README §2, §5): ``plan_year_rollover`` and the
``rollover_plan_year`` command copy every row of every rule table into a new draft."""
from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from policies import models as pm
from policies.loading import NATURAL_KEYS, data_fields
from policies.rollover import row_counts, shift_date, shift_text
from policies.services import PlanYearRolloverError, plan_year_rollover

from .seed_db import plan_rows

pytestmark = pytest.mark.django_db

PLAN_YEARS = [
    ("511100", "employee_basic"), ("511100", "employee_supplementary"),
    ("500231", "resident_basic"), ("500231", "critical_illness"),
    ("350400", "employee_basic"), ("350400", "resident_basic"), ("350400", "critical_illness"),
    ("350400", "medical_assistance"), ("350400", "inclusive_commercial"),
    ("140400", "employee_basic"), ("140400", "resident_basic"), ("140400", "critical_illness"),
    ("140400", "employee_large"), ("140400", "medical_assistance"),
    ("371500", "employee_basic"), ("371500", "resident_basic"), ("371500", "critical_illness"),
    ("371500", "employee_large"), ("371500", "medical_assistance"),
    ("371500", "inclusive_commercial"),
]


def _key(model, row) -> tuple:
    """The row's natural key with related rows named by their own natural keys."""
    parts = []
    for name in NATURAL_KEYS[model]:
        value = getattr(row, name)
        if isinstance(value, models.Model):
            value = getattr(value, "code", value.pk)
        parts.append(value)
    return tuple(parts)


@pytest.mark.parametrize("a, years, b", [
    (date(2024, 2, 29), 1, date(2025, 2, 28)),
    (date(2024, 2, 29), 4, date(2028, 2, 29)),
    (date(2023, 12, 31), 1, date(2024, 12, 31)),
    (date(2025, 3, 31), 1, date(2026, 3, 31)),
    (date(2025, 1, 1), -1, date(2024, 1, 1)),
])
def test_shift_date(a, years, b):
    assert shift_date(a, years) == b


@pytest.mark.parametrize("a, years, b", [
    ("2024 年度投保期（截至 2023-12-31）", 3, "2027 年度投保期（截至 2026-12-31）"),
    ("投保截止 2023-12-31，保障期 2024-01-01 至 2024-12-31", 1,
     "投保截止 2024-12-31，保障期 2025-01-01 至 2025-12-31"),
    ("2024年1—2月缴费，2024-02-29 止", 1, "2025年1—2月缴费，2025-02-28 止"),
    ("第 3 批，20240 号，2024-13-01，2024 元", 1, "第 3 批，20240 号，2024-13-01，2024 元"),
])
def test_shift_text(a, years, b):
    assert shift_text(a, years) == b


@pytest.mark.usefixtures("loaded_policies")
class TestRollover:
    @pytest.mark.parametrize("region, kind", PLAN_YEARS)
    def test_copies_every_row_of_every_table(self, region, kind):
        source = pm.PlanYear.objects.get(scheme__region__code=region, scheme__kind=kind, year=2024)
        before = row_counts(source)
        target = plan_year_rollover(region_code=region, kind=kind, from_year=2024, to_year=2025)

        assert (target.year, target.status, target.scheme_id) == (2025, "draft", source.scheme_id)
        assert target.official_participation_rate is None
        assert target.source == source.source
        assert row_counts(target) == before
        assert row_counts(source) == before
        source.refresh_from_db()
        assert source.status == "active"

        for model in pm.RULE_MODELS:
            old_rows = list(model.objects.filter(plan_year=source).order_by("pk"))
            new_rows = list(model.objects.filter(plan_year=target).order_by("pk"))
            assert [_key(model, r) for r in new_rows] == [_key(model, r) for r in old_rows]
            dated = any(isinstance(f, models.DateField) for f in data_fields(model))
            for old, new in zip(old_rows, new_rows, strict=True):
                for f in data_fields(model):
                    a, b = getattr(old, f.attname), getattr(new, f.attname)
                    if f.name == "plan_year":
                        assert b == target.pk
                    elif f.is_relation and f.related_model in pm.RULE_MODELS:
                        if a is None:
                            assert b is None
                            continue
                        parent_old, parent_new = getattr(old, f.name), getattr(new, f.name)
                        assert parent_new.plan_year_id == target.pk, (model, f.name)
                        assert _key(f.related_model, parent_new) == _key(f.related_model, parent_old)
                    elif isinstance(f, models.DateField) and a is not None:
                        assert b == shift_date(a, 1), (model, f.name)
                    elif f.name in ("name", "note") and dated:  # its written dates moved too
                        assert b == shift_text(a, 1), (model.__name__, f.name, a, b)
                    else:
                        assert a == b, (model.__name__, f.name, a, b)

    def test_dates_are_shifted_and_links_point_to_the_copies(self):
        target = plan_year_rollover(region_code="500231", kind="resident_basic", from_year=2024,
                                    to_year=2025)
        windows = {w.code: w for w in target.enrollmentwindow_rows.all()}
        assert (windows["central"].pay_from, windows["central"].pay_to) == (
            date(2024, 10, 11), date(2024, 12, 31))
        assert windows["central"].coverage_start == date(2025, 1, 1)
        assert windows["jan_feb"].pay_to == date(2025, 2, 28)  # 2024-02-29
        assert windows["newborn"].pay_to == date(2026, 3, 31)
        assert {w.coverage_end for w in windows.values()} == {date(2025, 12, 31)}
        standard = target.contributionstandard_rows.get(window__code="jul_sep", tier=2)
        assert standard.window == windows["jul_sep"]
        assert (standard.amount, standard.plus_figure) == (755, "fiscal_subsidy")
        assert "由 2024 年度方案结转" in target.note

    def test_dates_written_in_a_window_move_with_its_dates(self):
        source = pm.PlanYear.objects.get(scheme__region__code="500231", scheme__kind="resident_basic",
                                         year=2024)
        source.enrollmentwindow_rows.filter(code="central").update(
            name="2024 年度投保期（截至 2023-12-31）",
            note="投保截止 2023-12-31，保障期 2024-01-01 至 2024-12-31")
        target = plan_year_rollover(region_code="500231", kind="resident_basic", from_year=2024,
                                    to_year=2027)
        window = target.enrollmentwindow_rows.get(code="central")
        assert window.pay_to == date(2026, 12, 31)
        assert window.name == "2027 年度投保期（截至 2026-12-31）"
        assert window.note == "投保截止 2026-12-31，保障期 2027-01-01 至 2027-12-31"

    def test_responsibility_children_follow_their_responsibility(self):
        target = plan_year_rollover(region_code="350400", kind="inclusive_commercial",
                                    from_year=2024, to_year=2025)
        r4a = target.responsibility_rows.get(code="R4A")
        assert {(d.drug_class, d.ratio) for d in r4a.drug_ratios.all()} == {
            ("A", 70), ("B", 50), ("C", 30)}
        r1 = target.responsibility_rows.get(code="R1")
        assert r1.identity_ratios.count() == 10
        leshan = plan_year_rollover(region_code="511100", kind="employee_supplementary",
                                    from_year=2024, to_year=2025)
        high = leshan.responsibility_rows.get(code="HIGH")
        assert sorted((i.min_years, i.ratio) for i in high.incentives.all()) == [(6, 92), (10, 93)]

    def test_editing_the_new_year_leaves_the_old_one_alone(self):
        target = plan_year_rollover(region_code="140400", kind="resident_basic", from_year=2024,
                                    to_year=2025)
        row = target.twodiseasebenefit_rows.get(disease__code="HBP")
        row.annual_limit = 300
        row.save()
        assert plan_rows("140400", "resident_basic", "TwoDiseaseBenefit").get(
            disease__code="HBP").annual_limit == 260

    def test_refuses_an_existing_target(self):
        plan_year_rollover(region_code="371500", kind="inclusive_commercial", from_year=2024,
                           to_year=2025)
        count = pm.PlanYear.objects.count()
        with pytest.raises(PlanYearRolloverError) as exc:
            plan_year_rollover(region_code="371500", kind="inclusive_commercial", from_year=2024,
                               to_year=2025)
        assert "聊城市 聊惠保 已有 2025 年度方案（草稿），不能重复结转" in exc.value.messages[0]
        assert pm.PlanYear.objects.count() == count

    @pytest.mark.parametrize("kwargs, message", [
        ({"region_code": "999999", "kind": "resident_basic"}, "统筹区代码“999999”不存在"),
        ({"region_code": "511100", "kind": "resident_basic"}, "乐山市没有险种“resident_basic”"),
        ({"region_code": "500231", "kind": "resident_basic", "from_year": 2023},
         "找不到 2023 年度方案"),
        ({"region_code": "500231", "kind": "resident_basic", "to_year": 2024},
         "目标年度不能与来源年度（2024）相同"),
    ])
    def test_refusals_in_chinese(self, kwargs, message):
        args = {"from_year": 2024, "to_year": 2025, **kwargs}
        with pytest.raises(PlanYearRolloverError) as exc:
            plan_year_rollover(**args)
        assert message in exc.value.messages[0]
        assert not pm.PlanYear.objects.filter(year=2025).exists()

    def test_command_prints_what_it_copied(self):
        out = StringIO()
        call_command("rollover_plan_year", "--region", "500231", "--kind", "resident_basic",
                     "--from", "2024", "--to", "2025", stdout=out)
        text = out.getvalue()
        assert "已将 垫江县 城乡居民基本医疗保险 2024 年度方案结转为 2025 年度（草稿）" in text
        assert "参保资助标准（SubsidyRule）：28 行" in text
        assert "待遇标准（BenefitRule）：18 行" in text
        assert "合计复制 77 行" in text
        with pytest.raises(CommandError, match="已有 2025 年度方案"):
            call_command("rollover_plan_year", "--region", "500231", "--kind", "resident_basic",
                         "--from", "2024", "--to", "2025", stdout=StringIO())

    def test_history_records_the_acting_user(self, django_user_model):
        user = django_user_model.objects.create_user("policy_officer", password="x")
        target = plan_year_rollover(region_code="511100", kind="employee_supplementary",
                                    from_year=2024, to_year=2025, acting_user=user)
        assert target.history.first().history_user == user
        assert target.documentrule_rows.first().history.first().history_user == user

    def test_reloading_the_fixtures_leaves_the_draft_alone(self):
        target = plan_year_rollover(region_code="500231", kind="critical_illness", from_year=2024,
                                    to_year=2025)
        before = row_counts(target)
        call_command("load_policies", verbosity=0)
        assert row_counts(target) == before
        target.refresh_from_db()
        assert target.status == "draft"
