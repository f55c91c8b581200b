"""Every rule table rejects bad rows with Chinese messages (spec README §5: "typed and
validated (a ratio is 0–100 %, a window's start ≤ end, segments don't overlap)"):
``full_clean`` raises a ValidationError, and the database constraint raises an
IntegrityError when a row is saved without it. Also the loader's messages for a bad
fixture (file, table and row named; nothing written) and the Python evaluation of check
constraints used by the loader (``policies.checks``) agreeing with Django's."""
from __future__ import annotations

import itertools
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, models, transaction

from policies import checks
from policies import models as pm
from policies.fixture_files import default_fixtures_dir
from policies.services import PolicyFixtureError, policies_load

from .seed_db import plan_rows

pytestmark = pytest.mark.django_db

CODE_MODELS = [pm.Region, pm.Identity, pm.Holiday, pm.ChronicDisease, pm.Scheme, pm.PlanYear]


def _fields_with_check(suffix: str) -> list[tuple[type, str]]:
    """(model, field) of every check constraint named ``…_<field><suffix>``."""
    found = []
    for model in CODE_MODELS + pm.RULE_MODELS:
        for f in model._meta.concrete_fields:
            if any(c.name.endswith(f"_{f.name}{suffix}") for c in model._meta.constraints
                   if isinstance(c, models.CheckConstraint)):
                found.append((model, f.name))
    return found


RATIO_FIELDS = _fields_with_check("_0_100")
AMOUNT_CHECKED = _fields_with_check("_nonneg")  # amounts the database also guards
MONEY_FIELDS = [(m, f.name) for m in CODE_MODELS + pm.RULE_MODELS for f in m._meta.concrete_fields
                if isinstance(f, models.DecimalField) and (m, f.name) not in RATIO_FIELDS
                and (m, f.name) != (pm.RatioAdjustment, "points")]


def _first(model):
    row = model.objects.order_by("pk").first()
    assert row is not None, f"no seed row of {model.__name__}"
    return row


def _clone(obj):
    copy = type(obj).objects.get(pk=obj.pk)
    copy.pk = None
    copy._state.adding = True
    return copy


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _integrity_error(obj):
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


def test_the_check_discovery_finds_the_tables():
    assert len(RATIO_FIELDS) >= 15 and len(MONEY_FIELDS) >= 20
    assert (pm.BenefitRule, "ratio") in RATIO_FIELDS
    assert (pm.AssistanceRule, "ooc_controlled_ratio") in RATIO_FIELDS
    assert (pm.PlanYear, "official_participation_rate") in RATIO_FIELDS
    assert {(pm.ContributionStandard, "amount"), (pm.PlanFigure, "value")} <= set(AMOUNT_CHECKED)
    assert set(AMOUNT_CHECKED) <= set(MONEY_FIELDS)
    assert (pm.BenefitRule, "deductible") in MONEY_FIELDS


@pytest.mark.usefixtures("loaded_policies")
class TestRowValidation:
    @pytest.mark.parametrize("model, field", RATIO_FIELDS,
                             ids=[f"{m.__name__}.{f}" for m, f in RATIO_FIELDS])
    @pytest.mark.parametrize("value, text", [(120, "小于或等于100"), (-1, "大于或等于0")])
    def test_ratio_outside_0_100(self, model, field, value, text):
        row = _first(model)
        setattr(row, field, Decimal(value))
        with pytest.raises(ValidationError) as exc:
            row.full_clean()
        assert field in exc.value.message_dict
        assert text in " ".join(exc.value.message_dict[field])
        _integrity_error(row)

    @pytest.mark.parametrize("model, field", MONEY_FIELDS,
                             ids=[f"{m.__name__}.{f}" for m, f in MONEY_FIELDS])
    def test_negative_amount(self, model, field):
        row = _first(model)
        setattr(row, field, Decimal("-1"))
        with pytest.raises(ValidationError) as exc:
            row.full_clean()
        text = _messages(exc.value)
        assert "大于或等于0" in text or f"金额字段“{field}”不能为负数" in text
        if (model, field) in AMOUNT_CHECKED:
            _integrity_error(row)

    @pytest.mark.parametrize("points, text", [(101, "小于或等于100"), (-101, "大于或等于-100")])
    def test_ratio_adjustment_points_range(self, points, text):
        row = _first(pm.RatioAdjustment)
        row.points = points
        with pytest.raises(ValidationError) as exc:
            row.full_clean()
        assert text in " ".join(exc.value.message_dict["points"])
        _integrity_error(row)

    @pytest.mark.parametrize("changes, text, in_database", [
        ({"pay_from": date(2024, 1, 1), "pay_to": date(2023, 12, 31)}, "缴费起始日不能晚于截止日", True),
        ({"coverage_rule": "fixed", "coverage_start": None}, "“固定起始日”规则必须填写固定待遇起始日", True),
        ({"coverage_rule": "after_days", "waiting_days": 0}, "“满 N 日后”规则的等待期必须大于 0", True),
        ({"coverage_start": date(2025, 1, 1)}, "待遇起始日不能晚于待遇终止日", True),
        ({"person_group": "identity", "identity": None}, "必须选择身份", False),
        ({"person_group": "newborn", "newborn_max_days": None}, "必须填写出生后缴费天数上限", False),
    ])
    def test_enrollment_window(self, changes, text, in_database):
        window = plan_rows("500231", "resident_basic", "EnrollmentWindow").get(code="central")
        for name, value in changes.items():
            setattr(window, name, value)
        with pytest.raises(ValidationError) as exc:
            window.full_clean()
        assert text in _messages(exc.value)
        if in_database:
            _integrity_error(window)

    @pytest.mark.parametrize("region, identity, seq, threshold, base", [
        ("500231", None, 2, 10000, "cumulative"),      # below seq 1's 17 833
        ("500231", "tekun", 2, Decimal("8916.50"), "cumulative"),  # equal is overlapping too
        ("140400", None, 3, 40000, "after_previous"),  # below seq 2's 50 000
    ])
    def test_overlapping_segments(self, region, identity, seq, threshold, base):
        py = pm.PlanYear.objects.get(scheme__region__code=region, scheme__kind="critical_illness")
        segment = pm.CumulativeSegment(
            plan_year=py, seq=seq, threshold=threshold, ratio=50, base=base,
            identity=pm.Identity.objects.get(code=identity) if identity else None)
        with pytest.raises(ValidationError) as exc:
            segment.full_clean()
        assert "分段重叠" in _messages(exc.value)
        assert "段序号越大起付标准必须越高" in _messages(exc.value)
        segment.threshold = 90000
        segment.full_clean()

    @pytest.mark.parametrize("model", CODE_MODELS + pm.RULE_MODELS, ids=lambda m: m.__name__)
    def test_duplicate_key(self, model):
        copy = _clone(_first(model))
        with pytest.raises(ValidationError) as exc:
            copy.full_clean()
        text = _messages(exc.value)
        expected = [c.violation_error_message for c in model._meta.constraints
                    if isinstance(c, models.UniqueConstraint)]
        assert any(message in text for message in expected) or "已存在" in text, text
        _integrity_error(copy)

    @pytest.mark.parametrize("model, lookup, text", [
        (pm.AnnualLimit, {"pool": "scheme_total", "identity": None}, "该限额类别、档次、身份已有一行"),
        (pm.CumulativeSegment, {"identity": None, "seq": 1}, "该身份该段序号已存在"),
        (pm.AssistanceRule, {"identity": None, "kind": "tilt"}, "该身份该救助类别已存在"),
    ])
    def test_duplicates_differing_only_by_null_identity(self, model, lookup, text):
        original = model.objects.filter(**lookup).first()
        copy = _clone(original)
        copy.note = "另一行"
        if model is pm.AnnualLimit:
            copy.amount = 1
        with pytest.raises(ValidationError) as exc:
            copy.full_clean()
        assert text in _messages(exc.value)
        _integrity_error(copy)

    def test_null_region_holiday_duplicate(self):
        copy = pm.Holiday(region=None, date=date(2024, 10, 1), kind="workday", name="重复")
        with pytest.raises(ValidationError) as exc:
            copy.full_clean()
        assert "该日期已在日历中" in _messages(exc.value)
        _integrity_error(copy)

    @pytest.mark.parametrize("model, extra", [
        (pm.ChronicBenefit, {"monthly_limit": 100, "ratio": 70}),
        (pm.TwoDiseaseBenefit, {"ratio_class_a": 60, "ratio_class_b": 50, "annual_limit": 100}),
        (pm.AdmissionCriterion, {"code": "bp_days", "value": 3}),
    ])
    def test_disease_of_another_region(self, model, extra):
        elsewhere = pm.ChronicDisease.objects.create(
            region=pm.Region.objects.get(code="500231"), code="DJ01", name="外地病种")
        py = pm.PlanYear.objects.get(scheme__region__code="140400", scheme__kind="resident_basic")
        row = model(plan_year=py, disease=elsewhere, **extra)
        with pytest.raises(ValidationError) as exc:
            row.full_clean()
        assert "病种必须属于本统筹区的目录" in exc.value.message_dict["disease"]

    @pytest.mark.parametrize("condition", ["paid_gte", "total_gte"])
    def test_document_rule_threshold_needed(self, condition):
        py = pm.PlanYear.objects.get(scheme__region__code="511100", scheme__kind="employee_supplementary")
        row = pm.DocumentRule(plan_year=py, code="extra", name="其他资料", scope="local",
                              condition=condition, threshold=None)
        with pytest.raises(ValidationError) as exc:
            row.full_clean()
        assert "按金额门槛的资料要求必须填写门槛金额" in _messages(exc.value)
        _integrity_error(row)

    def test_applicable_delivery_mode_only_on_delivery_rows(self):
        py = pm.PlanYear.objects.get(scheme__region__code="500231", scheme__kind="critical_illness")
        row = pm.ApplicableClaimType(plan_year=py, claim_type="outpatient", delivery_mode="cesarean")
        with pytest.raises(ValidationError) as exc:
            row.full_clean()
        assert "住院分娩" in " ".join(exc.value.message_dict["delivery_mode"])
        row.claim_type, row.delivery_mode = "delivery", "vaginal"   # another mode: a new key
        row.full_clean()

    def test_choices_and_subsidy_amount(self):
        row = _first(pm.BenefitRule)
        row.claim_type = "dental"
        with pytest.raises(ValidationError) as exc:
            row.full_clean()
        assert "不是有效选项" in " ".join(exc.value.message_dict["claim_type"])
        subsidy = _clone(_first(pm.SubsidyRule))
        subsidy.tier, subsidy.amount, subsidy.full = 0, None, False
        with pytest.raises(ValidationError) as exc:
            subsidy.full_clean()
        assert "请填写资助金额或勾选全额资助" in _messages(exc.value)
        _integrity_error(subsidy)


# --------------------------------------------------------------------------- the loader


def _system(name: str) -> dict:
    path = default_fixtures_dir() / "policies" / name
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def _write(tmp_path, name: str, data: dict):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    return path


@pytest.mark.usefixtures("loaded_policies")
class TestLoaderMessages:
    def test_bad_row_names_file_table_row_and_nothing_is_written(self, tmp_path):
        data = _system("500231_dianjiang.json")
        rows = data["schemes"][0]["plan_years"][0]["rows"]
        rows["PlanFigure"][0]["value"] = 680          # a valid change, loaded before the error
        rows["BenefitRule"][5]["ratio"] = 120
        path = _write(tmp_path, "500231_bad.json", data)
        with pytest.raises(CommandError) as exc:
            call_command("load_policies", path=str(path), verbosity=0)
        text = str(exc.value)
        for part in ("500231_bad.json", "表“待遇标准”（BenefitRule）第 6 行", "claim_type=inpatient",
                     "报销比例（%）（ratio）", "小于或等于100"):
            assert part in text, text
        figure = plan_rows("500231", "resident_basic", "PlanFigure").get(code="fiscal_subsidy")
        assert figure.value == 670

    @pytest.mark.parametrize("mutate, text", [
        (lambda r: r["EnrollmentWindow"][0].update(pay_from="2024-12-01"),
         "表“参保缴费期”（EnrollmentWindow）第 1 行（code=central）：缴费起始日不能晚于截止日"),
        (lambda r: r["SubsidyRule"][0].update(identity="nobody"), "找不到代码“nobody”"),
        (lambda r: r["SubsidyRule"].append(dict(r["SubsidyRule"][0])), "与第 1 行的键重复"),
        (lambda r: r["BenefitRule"][0].update(ratioo=1), "未知字段 ratioo"),
        (lambda r: r["ContributionStandard"][0].update(window="nowhere"), "找不到代码“nowhere”"),
        (lambda r: r["EnrollmentWindow"][0].update(pay_to="2024-02-30"), "pay_to"),
        (lambda r: r.update(Foo=[]), "未知的表 Foo"),
        (lambda r: r["CumulativeSegment"].__init__(
            [{"seq": 1, "threshold": 100, "ratio": 50}, {"seq": 2, "threshold": 50, "ratio": 50}]),
         "第 2 行（seq=2）：起付标准（元）（threshold）：分段重叠"),
        (lambda r: r["LevelSubstitution"][0].update(to_level=True), "类型不对"),
    ])
    def test_bad_fixture_rows(self, mutate, text):
        data = _system("500231_dianjiang.json")
        rows = data["schemes"][0]["plan_years"][0]["rows"]
        rows.setdefault("CumulativeSegment", [])
        mutate(rows)
        with pytest.raises(PolicyFixtureError) as exc:
            policies_load(path_or_data=data)
        assert text in exc.value.messages[0]

    def test_document_level_errors(self, tmp_path):
        bad_json = tmp_path / "500231_x.json"
        bad_json.write_text("{\"region\": ", encoding="utf-8")
        with pytest.raises(PolicyFixtureError, match="不是有效的 JSON"):
            policies_load(path_or_data=bad_json)
        misnamed = _write(tmp_path, "dianjiang.json", _system("500231_dianjiang.json"))
        with pytest.raises(PolicyFixtureError, match="文件名应以其统筹区代码 500231 开头"):
            policies_load(path_or_data=misnamed)
        unknown = {**_system("500231_dianjiang.json"), "region": "500232"}
        with pytest.raises(PolicyFixtureError, match="不在编码表"):
            policies_load(path_or_data=unknown)
        with pytest.raises(PolicyFixtureError, match="没有找到统筹区 123456 的政策文件"):
            policies_load(region_code="123456")
        with pytest.raises(CommandError, match="找不到政策文件或目录"):
            call_command("load_policies", path=str(tmp_path / "missing"), verbosity=0)


# --------------------------------------------------------------------------- checks.py


def _candidates(f: models.Field) -> list:
    values = [None] if f.null else []
    if isinstance(f, models.DecimalField):
        values += [Decimal(v) for v in ("-1", "0", "50", "100", "100.01", "120")]
    elif isinstance(f, models.IntegerField):
        values += [0, 1, 2, 3, 101, -101]
    elif isinstance(f, models.DateField):
        values += [date(2023, 1, 1), date(2024, 6, 30), date(2026, 1, 1)]
    elif isinstance(f, models.BooleanField):
        values += [True, False]
    elif f.choices:
        values += [""] + [c for c, _ in f.choices]
    else:
        values += ["123456", "012345", "12345", "abcdef"]
    return values


def _check_cases():
    for model in CODE_MODELS + pm.RULE_MODELS:
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.CheckConstraint):
                yield pytest.param(model, constraint, id=f"{model.__name__}-{constraint.name}")


@pytest.mark.usefixtures("loaded_policies")
class TestPythonChecks:
    @pytest.mark.parametrize("model, constraint", list(_check_cases()))
    def test_python_evaluation_agrees_with_the_database(self, model, constraint):
        names = sorted(checks.referenced_fields(constraint.condition))
        fields = [model._meta.get_field(n) for n in names]
        base = _first(model)
        combos = itertools.product(*[_candidates(f) for f in fields]) if len(fields) <= 2 else (
            tuple(getattr(base, g.attname) if g is not f else v for g in fields)
            for f in fields for v in _candidates(f))
        tried = 0
        for combo in combos:
            row = model.objects.get(pk=base.pk)
            for f, value in zip(fields, combo, strict=True):
                setattr(row, f.attname, value)
            try:
                constraint.validate(model, row)
                django_ok = True
            except ValidationError:
                django_ok = False
            assert (checks.evaluate(constraint.condition, row) is not False) == django_ok, (
                constraint.name, combo)
            tried += 1
        assert tried > 1
