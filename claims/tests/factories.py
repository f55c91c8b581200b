"""Builders of the claims database tests: the spec's worked examples
(``shared/spec/examples/trial-calc-examples.json``) entered as stored persons,
enrollments (through the enrollment services), hospitals and claims."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import wraps
from itertools import count

from django.db import transaction

from claims import services
from claims.models import Hospital
from enrollment import services as enrollment_services
from enrollment.documents import make_id_number
from enrollment.models import Enrollment, Registration
from insurance_rules.tests.spec_examples import load_examples
from policies.models import ChronicDisease, PlanYear, Region

EXAMPLES = load_examples()
CASES = {c["id"]: c for c in EXAMPLES["cases"]}
CLAIM_EXAMPLES = sorted(k for k, c in CASES.items() if c.get("kind", "claim") == "claim")

AREA = {"500231": "500231", "511100": "511102", "350400": "350426", "140400": "140402",
        "371500": "371502"}
PAY_DATE = {"500231": date(2023, 11, 20), "511100": date(2024, 1, 10),
            "350400": date(2023, 12, 10), "371500": date(2023, 12, 20), "140400": date(2023, 12, 1)}

_seq = count(1)


def plan_year(region: str, kind: str, year: int = 2024) -> PlanYear:
    return PlanYear.objects.select_related("scheme__region").get(
        scheme__region__code=region, scheme__kind=kind, year=year)


def new_person(region: str, *, birth: date = date(1980, 6, 15), category: str = "resident",
               name: str | None = None, **fields):
    seq = (next(_seq) * 2 + 1) % 1000
    region_obj = Region.objects.get(code=region)
    return enrollment_services.person_create(
        acting_user=None, document_number=make_id_number(AREA[region], birth, seq),
        name=name or f"理赔测试{seq}", category=category, hukou_region=region_obj,
        residence_region=region_obj, **fields)


def one_transaction(builder):
    """Run ``builder`` in one transaction: a test outside a transaction (live server,
    worker processes) then commits its rows once, and the dashboard refresh queued after
    each commit that changes figures (``policies.dashboard``) runs once, not once per
    service call; inside a test's transaction it adds no statement (no savepoint: a
    builder's error fails the test)."""
    @wraps(builder)
    def run(*args, **kwargs):
        with transaction.atomic(savepoint=False):
            return builder(*args, **kwargs)
    return run


@one_transaction
def enroll(person, region: str, kind: str, *, tier: int = 0,
           start: date = date(2024, 1, 1), end: date = date(2024, 12, 31)) -> Enrollment:
    """Enroll and make the coverage [start, end] in force: entered directly where the plan
    year has no payment windows, else paid on the region's central-window date."""
    py = plan_year(region, kind)
    enrollment = enrollment_services.enrollment_create(
        person=person, plan_year=py, tier=tier, acting_user=None,
        basic_insured_in_region=True if kind in ("employee_supplementary",
                                                 "inclusive_commercial") else None)
    if enrollment_services.coverage_entered_directly(py):
        enrollment_services.enrollment_update(enrollment=enrollment, coverage_start=start,
                                              coverage_end=end, acting_user=None)
    else:
        enrollment_services.payment_record(enrollment=enrollment, paid_date=PAY_DATE[region],
                                           channel="wechat", receipt_no=f"T{next(_seq)}-{kind}",
                                           acting_user=None)
    enrollment.refresh_from_db()
    assert enrollment.coverage_start is not None, enrollment
    return enrollment


def hospital(region: str | None, *, level=3, grade="A", admin_level="city", tcm=False,
             children=False, public=True, province="", code=None, name=None, cdrg=True) -> Hospital:
    code = code or (f"H{region or 'X'}-{level}{grade}{admin_level}{int(tcm)}{int(children)}{int(public)}"
                    + ("" if cdrg else "-nodrg"))
    found = Hospital.objects.filter(code=code).first()
    if found:
        return found
    return Hospital.objects.create(
        code=code, name=name or f"测试医院{code}",
        region=Region.objects.get(code=region) if region else None, province=province,
        level=level, grade=grade, admin_level=admin_level, tcm=tcm, children=children,
        public=public, cdrg=cdrg)


def hospital_from(case_hospital: dict, region: str) -> Hospital:
    location = case_hospital.get("location", "in_region")
    reg = region if location == "in_region" else None
    province = {"in_province": Region.objects.get(code=region).province,
                "out_of_province": "北京市"}.get(location, "")
    return hospital(reg, level=case_hospital["level"], grade=case_hospital.get("grade", "-"),
                    admin_level=case_hospital.get("admin_level", "county"),
                    tcm=case_hospital.get("tcm", False), children=case_hospital.get("children", False),
                    public=case_hospital.get("public", True), province=province)


def register(person, region: str, disease: str, approved: str, valid_to: str | None):
    disease_obj = ChronicDisease.objects.get(region__code=region, code=disease)
    scheme = plan_year(region, "resident_basic").scheme
    return Registration.objects.create(
        person=person, scheme=scheme, disease=disease_obj,
        application_date=date.fromisoformat(approved), status=Registration.Status.APPROVED,
        valid_from=date.fromisoformat(approved),
        valid_to=date.fromisoformat(valid_to) if valid_to else None)


AMOUNTS = ("out_of_catalog", "class_b_copay", "tcm_compliant", "special_drug", "drug_class_a",
           "drug_class_b", "out_of_catalog_controlled")


def claim_kwargs(data: dict, region: str) -> dict:
    """``services.claim_create`` keyword arguments of a ``<claim>`` of the examples."""
    kwargs = {"claim_type": data["type"], "service_date": date.fromisoformat(data["date"]),
              "total": Decimal(str(data["total"]))}
    for name in AMOUNTS:
        if data.get(name) is not None:
            kwargs[name] = Decimal(str(data[name]))
    if data.get("hospital"):
        kwargs["hospital"] = hospital_from(data["hospital"], region)
    if data.get("disease"):
        kwargs["disease"] = ChronicDisease.objects.get(region__code=region, code=data["disease"])
    for name in ("major_disease", "delivery_mode", "drug_list", "drug_class"):
        if data.get(name):
            kwargs[name] = data[name]
    for name in ("special_b", "filed"):
        if name in data:
            kwargs[name] = data[name]
    if data.get("given"):
        kwargs["given"] = [{"scheme_kind": k, "paid": Decimal(str(v["paid"])),
                            "deductible": Decimal(str(v.get("deductible") or 0)),
                            "over_cap": Decimal(str(v.get("over_cap") or 0))}
                           for k, v in data["given"].items()]
    return kwargs


@one_transaction
def person_for_case(case: dict):
    """A stored person with the case's enrollments (and registrations)."""
    region = case["region"]
    p = case["person"]
    person = new_person(region, birth=date.fromisoformat(p["birth_date"]), category=p["category"])
    for cov in case["coverages"]:
        enroll(person, region, cov["scheme"], tier=cov.get("tier", 0))
    for reg in p.get("registrations", ()):
        register(person, region, reg["disease"], reg["approved"], reg.get("valid_to"))
    return person


def claim_for_case(case: dict, *, person=None, acting_user=None, settlement_no=None):
    person = person or person_for_case(case)
    return services.claim_create(acting_user=acting_user, person=person,
                                 settlement_no=settlement_no or f"{case['id']}-{next(_seq)}",
                                 **claim_kwargs(case["claim"], case["region"]))


def outpatient(person, total, *, level=1, day=date(2024, 3, 5), acting_user=None, no=None):
    """A 垫江 ordinary outpatient claim (annual limit 300 tier 1, level 2 deductible 200)."""
    return services.claim_create(
        acting_user=acting_user, person=person, claim_type="outpatient", service_date=day,
        settlement_no=no or f"MZ-{next(_seq)}", total=Decimal(total),
        hospital=hospital("500231", level=level, grade="A", admin_level="county"))


@one_transaction
def dianjiang_person(tier=1, **kwargs):
    person = new_person("500231", **kwargs)
    enroll(person, "500231", "resident_basic", tier=tier)
    enroll(person, "500231", "critical_illness")
    return person


def pay_outstanding(claim, *, acting_user=None, reference: str = "测试支付"):
    """Pay every fund's outstanding 应付待遇 of an approved claim as a bank's success line
    would (``finance`` calls ``claim_pay`` so, one fund at a time)."""
    from claims import postings
    from claims.models import Claim

    for (_claim_id, scheme_id), amount in sorted(postings.outstanding([claim.pk]).items()):
        claim = services.claim_pay(claim=Claim.objects.get(pk=claim.pk), acting_user=acting_user,
                                   scheme_id=scheme_id, amount=amount, reference=reference,
                                   paid_on=date(2024, 6, 1))
    return claim
