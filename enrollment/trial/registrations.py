"""Trial calculation of a registration (spec trial-calc.md, kind ``registration``).

``registration_case(case, plan_status=...)`` reads the region's catalogue and the
scheme's plan-year rows, runs ``insurance_rules.enrollment.registration.assess`` and answers
``{"id", "ok": true, "admitted": true}`` or ``{"id", "ok": true, "admitted": false,
"reason": "…"}``. Nothing is written. Errors are raised as ``CaseError`` subclasses (the
``trial_calc`` command turns them into ``{"ok": false, "error": …}``):
``InvalidInput`` for a missing/malformed field, ``UnknownCode`` for an unknown region,
scheme, disease or identity, ``MissingRule`` when the plan year or one of its admission
rows is missing, ``NotEligible`` when the person does not hold the scheme.

Evidence keys may be omitted: a missing measurement is absent, a missing flag is false.
Besides the contract's keys, the evidence accepts ``management_record`` (卫生健康部门规范化
管理的“两病”患者, admitted directly — changzhi.md); other keys are ignored.
"""
from __future__ import annotations

from datetime import date

from enrollment import selectors
from enrollment.selectors import registrations as sel
from insurance_rules.enrollment.registration import Assessment, BloodPressure, Evidence, assess, gate_checks
from insurance_rules.errors import InvalidInput, MissingRule, NotEligible, UnknownCode
from insurance_rules.facts import PersonFacts
from insurance_rules.parse import parse_amount, parse_bool, parse_date, parse_person
from policies import codes
from policies import models as pm

MEASUREMENTS = ("hba1c", "fasting_glucose", "random_glucose", "ogtt_2h")
FLAGS = ("symptoms", "type1_confirmed", "needs_medication", "management_record")
EMPLOYEE_CATEGORIES = ("employee_active", "employee_retired")
RESIDENT_ONLY_CATEGORIES = ("resident", "student", "newborn")


def parse_reading(item, field: str, application_date: date) -> BloodPressure:
    if not isinstance(item, dict):
        raise InvalidInput(f"字段“{field}”必须是包含 date、systolic、diastolic 的对象")
    day = parse_date(item.get("date"), f"{field}.date")
    values = {}
    for key, name in (("systolic", "收缩压"), ("diastolic", "舒张压")):
        raw = item.get(key)
        if raw is None or raw == "":
            raise InvalidInput(f"缺少字段“{field}.{key}”（{name}，mmHg）")
        value = parse_amount(raw, f"{field}.{key}")
        if value <= 0:
            raise InvalidInput(f"字段“{field}.{key}”（{name}）必须大于 0：{raw}")
        values[key] = value
    if values["systolic"] <= values["diastolic"]:
        raise InvalidInput(f"字段“{field}”收缩压 {item.get('systolic')} 不高于舒张压 "
                           f"{item.get('diastolic')}，请核对读数")
    if day > application_date:
        raise InvalidInput(f"字段“{field}.date”测量日期 {day} 晚于申请日期 {application_date}")
    return BloodPressure(day, values["systolic"], values["diastolic"])


def parse_evidence(data, application_date: date) -> Evidence:
    """The ``evidence`` object (may be omitted or null = nothing brought)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("字段“evidence”必须是对象")
    bp = data.get("bp")
    if bp is None:
        bp = []
    if not isinstance(bp, list):
        raise InvalidInput("字段“evidence.bp”必须是血压读数的列表")
    readings = tuple(parse_reading(item, f"evidence.bp[{i}]", application_date)
                     for i, item in enumerate(bp))
    measures = {}
    for key in MEASUREMENTS:
        raw = data.get(key)
        measures[key] = None if raw is None or raw == "" else parse_amount(raw, f"evidence.{key}")
    flags = {key: parse_bool(data.get(key), f"evidence.{key}") for key in FLAGS}
    return Evidence(bp=readings, **measures, **flags)


def check_holds_scheme(person: PersonFacts, kind: str) -> None:
    """The person must hold the scheme (trial-calc.md Person: employees hold the region's
    employee_basic; basic_insured_in_region false = no basic insurance in the region)."""
    if kind in ("employee_basic", "resident_basic") and not person.basic_insured_in_region:
        raise NotEligible("该参保人未参加本统筹区基本医疗保险（person.basic_insured_in_region 为 "
                          "false），不能申报门诊慢特病/两病")
    if kind == "resident_basic" and person.category in EMPLOYEE_CATEGORIES:
        raise NotEligible(f"人员类别“{person.category}”参加职工基本医疗保险，不能以城乡居民基本"
                          "医疗保险申报")
    if kind == "employee_basic" and person.category in RESIDENT_ONLY_CATEGORIES:
        raise NotEligible(f"人员类别“{person.category}”不参加职工基本医疗保险，不能以职工基本"
                          "医疗保险申报")


def default_scheme(person: PersonFacts) -> str:
    return "employee_basic" if person.is_employee else "resident_basic"


def evaluate(case: dict, *, plan_status: str = "active") -> Assessment:
    """Parse and assess one ``registration`` case; raises ``CaseError``."""
    if not isinstance(case, dict):
        raise InvalidInput("试算案例必须是 JSON 对象")
    region = selectors.pooling_region(case.get("region"))
    application_date = parse_date(case.get("date"), "date")
    known_identities = set(pm.Identity.objects.values_list("code", flat=True))
    person = parse_person(case.get("person"), known_identities)
    disease = sel.catalogue_disease(region, case.get("disease"))
    names = sel.catalogue_names(region)
    for i, reg in enumerate(person.registrations):
        if reg.disease not in names:
            raise UnknownCode(f"未知的病种代码“person.registrations[{i}].disease”：{reg.disease}")
    scheme_kind = case.get("scheme")
    if scheme_kind is None:
        scheme_kind = default_scheme(person)
    elif scheme_kind not in codes.SchemeKind.values:
        raise UnknownCode(f"未知的险种类别“scheme”：{scheme_kind}")
    scheme = selectors.region_scheme(region, scheme_kind)
    check_holds_scheme(person, scheme.kind)
    evidence = parse_evidence(case.get("evidence"), application_date)
    facts = sel.disease_facts(disease)
    year = application_date.year
    plan_year = selectors.plan_year_of(scheme, year, plan_status, missing_ok=True)
    label = sel.plan_label(scheme, year)
    if plan_year is None:
        gates = gate_checks(facts, application_date, person.registrations, names)
        if not all(c.passed for c in gates):
            return Assessment(facts.code, gates)
        state = "草稿或生效" if plan_status == "draft" else "生效"
        raise MissingRule(f"缺少{label}（{state}）：无法判断病种 {facts.code} 的待遇与准入标准")
    return assess(disease=facts, application_date=application_date, evidence=evidence,
                  held=person.registrations, benefit=sel.benefit_for(plan_year, disease),
                  criteria=sel.criteria_for(plan_year, disease), plan_label=label, names=names)


def registration_case(case: dict, *, plan_status: str = "active") -> dict:
    """The trial-calc result of a ``registration`` case (trial-calc.md)."""
    result = evaluate(case, plan_status=plan_status)
    out = {"id": case.get("id"), "ok": True, "admitted": result.admitted}
    if not result.admitted:
        out["reason"] = result.reason
    return out
