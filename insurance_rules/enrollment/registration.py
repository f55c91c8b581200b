"""Admission of a chronic-disease (门诊慢特病) or “两病” registration — pure rules, no Django.

Implements spec ``changzhi.md``:
- "Chronic-disease catalogue": a disease with ``closed_from`` (三类 CZ46–CZ51 since
  2021-04-01) refuses applications dated on or after that day ("三类门诊慢性病不再新纳入");
- "“两病”门诊用药": persons already holding an approved registration of the disease's
  ``excluded_by`` disease (CZ18 for HBP, CZ35 for DM1/DM2) valid on the application date
  are refused; the admission criteria of HBP / DM2 / DM1, whose numbers are the
  ``AdmissionCriterion`` rows of the plan year; patients already managed by 卫生健康部门
  are admitted directly (evidence = the management record);
- a disease without a benefit row in the scheme's plan year (e.g. 三类 for employees) is
  not admitted;
and the ``registration`` kind of ``trial-calc.md`` (``assess`` is its computation).

Which criteria apply is driven by the rows: blood-pressure rows (``bp_*``) → the
blood-pressure criteria; ``hba1c`` / glucose rows → the HbA1c-and-one-glucose criteria.
A disease of ``ROWS_EXPECTED`` without its rows is a configuration error
(``MissingRule``); ``DM1`` needs a confirmed type-1 diagnosis; any other disease has no
numeric criterion in the seed and is admitted subject to the reviewer's check of the
diagnosis. Every criterion checked is returned with passed/failed and a Chinese text, so
that the reviewer sees which one failed.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from insurance_rules.errors import MissingRule
from insurance_rules.facts import HeldRegistration
from insurance_rules.params import ChronicRule, Criterion, Disease, TwoDiseaseRule

# Criterion codes (AdmissionCriterion.Code) — vocabulary, the numbers are rows.
BP_DAYS, BP_SYSTOLIC, BP_DIASTOLIC = "bp_days", "bp_systolic", "bp_diastolic"
HBA1C = "hba1c"
RANDOM_GLUCOSE, FASTING_GLUCOSE, OGTT_2H = "random_glucose", "fasting_glucose", "ogtt_2h"
BP_CODES = (BP_DAYS, BP_SYSTOLIC, BP_DIASTOLIC)
GLUCOSE_ALTERNATIVES = (RANDOM_GLUCOSE, FASTING_GLUCOSE, OGTT_2H)

CRITERION_NAMES = {
    BP_DAYS: "血压测量不同日数",
    BP_SYSTOLIC: "收缩压下限",
    BP_DIASTOLIC: "舒张压下限",
    HBA1C: "糖化血红蛋白下限",
    RANDOM_GLUCOSE: "随机血糖下限",
    FASTING_GLUCOSE: "空腹血糖下限",
    OGTT_2H: "OGTT 2 小时血糖下限",
}

# Disease codes whose criteria are rows: without their rows nothing can be decided.
ROWS_EXPECTED = {"HBP": BP_CODES, "DM2": (HBA1C,) + GLUCOSE_ALTERNATIVES}
# Disease codes admitted on a confirmed diagnosis of that type (Ⅰ型糖尿病: 确诊).
TYPE1_CODES = frozenset({"DM1"})

CLASS_NAMES = {1: "一类", 2: "二类", 3: "三类"}

OK, FAIL = "✓", "✗"


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class BloodPressure:
    """One clinic reading at rest (诊室血压), mmHg."""

    date: date
    systolic: Decimal
    diastolic: Decimal


@dataclass(frozen=True)
class Evidence:
    """What the applicant brings. ``None`` = measurement not provided; flags default false."""

    bp: tuple[BloodPressure, ...] = ()
    hba1c: Decimal | None = None  # %
    fasting_glucose: Decimal | None = None  # mmol/L, fasting ≥ 8 h
    random_glucose: Decimal | None = None  # mmol/L
    ogtt_2h: Decimal | None = None  # mmol/L, 2 h after glucose load
    symptoms: bool = False  # 多尿、多饮及不能解释的体重下降
    type1_confirmed: bool = False
    needs_medication: bool = False
    management_record: bool = False  # 卫生健康部门规范化管理的“两病”患者


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Check:
    """One criterion checked. ``decisive`` checks decide admission; the others (the
    single glucose alternatives) are shown for information."""

    code: str
    passed: bool
    text: str
    decisive: bool = True

    @property
    def line(self) -> str:
        return f"{self.text} {OK if self.passed else FAIL}"

    def as_dict(self) -> dict:
        return {"code": self.code, "passed": self.passed, "decisive": self.decisive,
                "text": self.text}


@dataclass(frozen=True)
class Assessment:
    disease: str
    checks: tuple[Check, ...]

    @property
    def admitted(self) -> bool:
        return all(c.passed for c in self.checks if c.decisive)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.decisive and not c.passed)

    @property
    def reason(self) -> str:
        """Chinese reason of a refusal (empty when admitted)."""
        return "；".join(c.text for c in self.failed)

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(c.line for c in self.checks)

    def as_list(self) -> list[dict]:
        return [c.as_dict() for c in self.checks]


# --------------------------------------------------------------------------- helpers


def _num(value: Decimal, *, decimals: bool = False) -> str:
    """140.00 → "140"; 7.00 → "7.0" for lab values (``decimals``); 11.10 → "11.1"."""
    d = Decimal(value).normalize()
    if d == d.to_integral_value():
        return f"{int(d)}.0" if decimals else str(int(d))
    return format(d, "f")


def disease_label(disease: Disease) -> str:
    return f"{disease.code} {disease.name}"


def _criterion_values(disease: Disease, criteria: Iterable[Criterion]) -> dict[str, Decimal]:
    return {c.code: c.value for c in criteria if c.disease == disease.code}


def _require(values: Mapping[str, Decimal], codes: Sequence[str], disease: Disease,
             plan_label: str) -> None:
    missing = [c for c in codes if c not in values]
    if missing:
        names = "、".join(f"{CRITERION_NAMES.get(c, c)}（{c}）" for c in missing)
        raise MissingRule(f"{plan_label}缺少病种 {disease_label(disease)} 的准入标准：{names}"
                          "（请在“准入标准”中补录）")


# --------------------------------------------------------------------------- gates


def closed_check(disease: Disease, application_date: date) -> Check | None:
    """三类门诊慢性病不再新纳入 (changzhi.md): refused on or after ``closed_from``."""
    if disease.closed_from is None:
        return None
    class_name = CLASS_NAMES.get(disease.disease_class, "该")
    if application_date >= disease.closed_from:
        return Check("closed", False,
                     f"{class_name}门诊慢性病不再新纳入：申请日期 {application_date} 在停止新纳入日期 "
                     f"{disease.closed_from} 当日或之后（{disease_label(disease)}）")
    return Check("closed", True,
                 f"停止新纳入：申请日期 {application_date} 早于停止新纳入日期 "
                 f"{disease.closed_from}，可以受理")


def exclusion_check(disease: Disease, application_date: date,
                    held: Iterable[HeldRegistration],
                    names: Mapping[str, str] | None = None) -> Check | None:
    """Refused when the person holds an approved registration of ``excluded_by`` valid
    on the application date (两病: not for persons with CZ18 / CZ35)."""
    if not disease.excluded_by:
        return None
    other = disease.excluded_by
    other_label = f"{other} {(names or {}).get(other, '')}".strip()
    for reg in held:
        if reg.disease == other and reg.valid_on(application_date):
            until = f"至 {reg.valid_to}" if reg.valid_to else "长期有效"
            return Check("excluded", False,
                         f"已纳入门诊慢性病 {other_label}（{reg.approved} 起，{until}），"
                         f"不得申报 {disease_label(disease)}")
    return Check("excluded", True,
                 f"未持有门诊慢性病 {other_label} 的有效登记（申请日期 {application_date}）")


def benefit_check(disease: Disease, benefit: ChronicRule | TwoDiseaseRule | None,
                  plan_label: str) -> Check:
    """The scheme's plan year must have a benefit row for the disease."""
    if benefit is None:
        return Check("benefit", False,
                     f"{plan_label}未设 {disease_label(disease)} 的待遇标准，"
                     "该险种参保人不能申报此病种")
    if isinstance(benefit, TwoDiseaseRule):
        detail = (f"甲类药品 {_num(benefit.ratio_class_a)}%、乙类药品 {_num(benefit.ratio_class_b)}%，"
                  f"年度限额 {benefit.annual_limit} 元")
    elif benefit.monthly_limit is not None:
        detail = f"月支付限额 {benefit.monthly_limit} 元，支付比例 {_num(benefit.ratio)}%"
    else:
        detail = f"与年度限额合并计算，支付比例 {_num(benefit.ratio)}%"
    return Check("benefit", True, f"待遇标准：{plan_label}设有 {disease_label(disease)}（{detail}）")


def gate_checks(disease: Disease, application_date: date, held: Iterable[HeldRegistration],
                names: Mapping[str, str] | None = None) -> tuple[Check, ...]:
    """The checks that need no plan year: closed class, exclusion."""
    checks = [closed_check(disease, application_date),
              exclusion_check(disease, application_date, tuple(held), names)]
    return tuple(c for c in checks if c is not None)


# --------------------------------------------------------------------------- criteria


def blood_pressure_checks(values: Mapping[str, Decimal], evidence: Evidence) -> list[Check]:
    """HBP: ≥ bp_days readings on distinct dates, every reading systolic ≥ bp_systolic
    and/or diastolic ≥ bp_diastolic, and drug treatment needed."""
    days_needed = values[BP_DAYS]
    sys_min, dia_min = values[BP_SYSTOLIC], values[BP_DIASTOLIC]
    threshold = f"{_num(sys_min)}/{_num(dia_min)} mmHg"
    readings = evidence.bp
    dates = {r.date for r in readings}
    same_day = (f"（共 {len(readings)} 次读数，同一日期多次测量只计 1 日）"
                if len(readings) > len(dates) else "")
    checks = [Check(
        BP_DAYS, len(dates) >= days_needed,
        f"血压测量日数：{len(dates)} 个不同日期{same_day}，须不少于 {_num(days_needed)} 个不同日期")]
    if not readings:
        checks.append(Check("bp_level", False, f"血压：未提供诊室血压读数（须均 ≥{threshold}）"))
    else:
        low = [r for r in readings if r.systolic < sys_min and r.diastolic < dia_min]
        if low:
            shown = "、".join(f"{r.date} {_num(r.systolic)}/{_num(r.diastolic)}" for r in low)
            checks.append(Check(
                "bp_level", False,
                f"血压：读数 {shown} mmHg 收缩压 <{_num(sys_min)} 且舒张压 <{_num(dia_min)}，"
                f"未达到标准（每次读数须收缩压 ≥{_num(sys_min)} 和/或舒张压 ≥{_num(dia_min)} mmHg）"))
        else:
            checks.append(Check(
                "bp_level", True,
                f"血压：{len(dates)} 个不同日期的读数均 ≥{threshold}"
                f"（收缩压 ≥{_num(sys_min)} 和/或舒张压 ≥{_num(dia_min)}）"))
    checks.append(Check("needs_medication", evidence.needs_medication,
                        "需采取药物治疗" if evidence.needs_medication
                        else "未注明需采取药物治疗（准入须需采取药物治疗）"))
    return checks


def _lab(value: Decimal | None) -> str:
    return "未提供" if value is None else _num(value, decimals=True)


def glucose_checks(values: Mapping[str, Decimal], evidence: Evidence) -> list[Check]:
    """DM2: HbA1c ≥ hba1c and at least one of (symptoms and random glucose ≥
    random_glucose), fasting glucose ≥ fasting_glucose, 2-h OGTT ≥ ogtt_2h."""
    checks = []
    h_min = values[HBA1C]
    h = evidence.hba1c
    if h is None:
        checks.append(Check(HBA1C, False,
                            f"糖化血红蛋白：未提供检验结果（须 ≥{_num(h_min, decimals=True)}%）"))
    else:
        ok = h >= h_min
        checks.append(Check(HBA1C, ok, f"糖化血红蛋白：{_lab(h)}% {'≥' if ok else '<'} "
                                       f"{_num(h_min, decimals=True)}%"))
    met = []
    if RANDOM_GLUCOSE in values:
        r_min, r = values[RANDOM_GLUCOSE], evidence.random_glucose
        bound = f"{_num(r_min, decimals=True)} mmol/L"
        if r is None:
            text, ok = f"有糖尿病症状且随机血糖 ≥{bound}：随机血糖未提供", False
        elif not evidence.symptoms:
            text, ok = (f"有糖尿病症状且随机血糖 ≥{bound}：随机血糖 {_lab(r)} mmol/L，"
                        "但未注明糖尿病症状（多尿、多饮及不能解释的体重下降）"), False
        else:
            ok = r >= r_min
            text = (f"有糖尿病症状且随机血糖 ≥{bound}：有症状，随机血糖 {_lab(r)} mmol/L"
                    f"{'' if ok else '（未达到）'}")
        checks.append(Check(RANDOM_GLUCOSE, ok, text, decisive=False))
        if ok:
            met.append("症状+随机血糖")
    for code, label in ((FASTING_GLUCOSE, "空腹血糖（禁食至少 8 小时）"),
                        (OGTT_2H, "葡萄糖负荷后 2 小时血糖")):
        if code not in values:
            continue
        bound, got = values[code], getattr(evidence, code)
        ok = got is not None and got >= bound
        shown = "未提供" if got is None else f"{_lab(got)} mmol/L"
        checks.append(Check(code, ok, f"{label} ≥{_num(bound, decimals=True)} mmol/L：{shown}",
                            decisive=False))
        if ok:
            met.append(label.split("（")[0])
    if met:
        checks.append(Check("glucose_any", True, f"血糖标准：满足{'、'.join(met)}（至少一项）"))
    else:
        checks.append(Check("glucose_any", False,
                            "血糖标准：症状+随机血糖、空腹血糖、葡萄糖负荷后 2 小时血糖均未达到"
                            "（须至少满足一项，并且糖化血红蛋白达标）"))
    return checks


def type1_check(evidence: Evidence) -> Check:
    return Check("type1_confirmed", evidence.type1_confirmed,
                 "Ⅰ型糖尿病：已确诊" if evidence.type1_confirmed
                 else "Ⅰ型糖尿病：未确诊（准入标准为确诊为Ⅰ型糖尿病）")


def criteria_checks(disease: Disease, criteria: Iterable[Criterion], evidence: Evidence,
                    plan_label: str = "") -> list[Check]:
    """The admission criteria of the disease, driven by its criterion rows."""
    values = _criterion_values(disease, criteria)
    has_bp = any(c in values for c in BP_CODES)
    has_glucose = HBA1C in values or any(c in values for c in GLUCOSE_ALTERNATIVES)
    if not (has_bp or has_glucose) and disease.code in ROWS_EXPECTED:
        _require(values, ROWS_EXPECTED[disease.code], disease, plan_label)
    if has_bp:
        _require(values, BP_CODES, disease, plan_label)
    if has_glucose:
        _require(values, (HBA1C,), disease, plan_label)
        if not any(c in values for c in GLUCOSE_ALTERNATIVES):
            _require(values, GLUCOSE_ALTERNATIVES, disease, plan_label)
    numeric = has_bp or has_glucose or disease.code in TYPE1_CODES
    if numeric and evidence.management_record:
        return [Check("management_record", True,
                      "已纳入卫生健康部门规范化管理，直接纳入（依据：管理记录）")]
    checks: list[Check] = []
    if has_bp:
        checks += blood_pressure_checks(values, evidence)
    if has_glucose:
        checks += glucose_checks(values, evidence)
    if disease.code in TYPE1_CODES:
        checks.append(type1_check(evidence))
    if not checks:
        checks.append(Check("diagnosis", True,
                            f"诊断：{disease_label(disease)} 无量化准入标准，按二级及以上定点医疗机构"
                            "住院病历或诊断证明审核"))
    return checks


# --------------------------------------------------------------------------- entry


def assess(*, disease: Disease, application_date: date, evidence: Evidence,
           held: Iterable[HeldRegistration], benefit: ChronicRule | TwoDiseaseRule | None,
           criteria: Iterable[Criterion], plan_label: str,
           names: Mapping[str, str] | None = None) -> Assessment:
    """Every check of an application, in order: closed class, exclusion, benefit row of
    the scheme's plan year, admission criteria. The criteria are evaluated only when the
    gates pass (a refused disease needs no evidence, nor rows of a plan year that does
    not cover it)."""
    checks = list(gate_checks(disease, application_date, held, names))
    checks.append(benefit_check(disease, benefit, plan_label))
    if all(c.passed for c in checks):
        checks += criteria_checks(disease, criteria, evidence, plan_label)
    return Assessment(disease.code, tuple(checks))
