"""The county demo's claims in the current year (``manage.py load_demo --persons N``,
hook ``DEMO_LOADERS``, after ``enrollment.demo_county``; docs/claims.md §演示数据).

For the demo persons covered this year, settlement sheets are generated (seeded per
person, so every run gives the same sheets) and entered as the hospitals' monthly
lists arrive: the spreadsheet import (kind ``claims``), then batch settlement through
the engine (``claims.batch.claims_settle_batch``) — except a share left 录入. The
region's reviewer then moves the settled claims into every state (``move``: 退回 and
作废 through the services, the many 审核通过 and 登记支付 in bulk). Regions whose basic insurance is
settled by the core system carry its result in (given layers), as their lists do.
Idempotent: a claim already recorded (hospital, settlement number) is not entered or
moved again.
"""
from __future__ import annotations

import random
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from enrollment import demo_county
from enrollment.models import Enrollment
from ledger import services as ledger
from sheets.bulk_sql import insert_history, update_rows

from . import postings, services
from .batch import claims_settle_batch
from .demo import _hospitals
from .models import Claim, ClaimDocument

HOSPITALS = [
    # code, name, region, province, level, grade, admin_level, tcm, cdrg (as claims.demo)
    ("H500231003", "垫江县第二人民医院", "500231", "", 2, "B", "county", False, False),
    ("H500231004", "垫江县澄溪镇中心卫生院", "500231", "", 1, "-", "township", False, False),
    ("H140400001", "长治市人民医院", "140400", "", 3, "A", "city", False, False),
    ("H140400002", "长治医学院附属和平医院", "140400", "", 3, "A", "city", False, False),
    ("H140400003", "长治市中医医院", "140400", "", 2, "A", "city", True, False),
    ("H350400001", "三明市第一医院", "350400", "", 3, "A", "city", False, True),
    ("H350426001", "尤溪县医院", "350426", "", 2, "A", "county", False, True),
    ("H371500002", "聊城市第二人民医院", "371500", "", 3, "B", "city", False, False),
    ("H511100002", "乐山市中医医院", "511100", "", 3, "A", "city", True, False),
]
REGION_HOSPITALS = {
    "500231": ["H500231001", "H500231002", "H500231003", "H500231004"],
    "140400": ["H140400001", "H140400002", "H140400003"],
    "350400": ["H350400001", "H350426001"],
    "371500": ["H371500001", "H371500002"],
    "511100": ["H511100001", "H511100002"],
}
# regions whose basic insurance is settled by the core system: its payment is carried in
GIVEN_BASIC = {"350400": 0.6, "371500": 0.55, "511100": 0.7}
BASIC_KINDS = ["resident_basic", "employee_basic"]  # a claim needs basic coverage on its date
STATES = [("draft", 8), ("settled", 27), ("approved", 20), ("paid", 35), ("returned", 5), ("void", 5)]


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def claim_rows(persons, coverage, *, year, today):
    """One row per generated sheet of the demo persons covered this year."""
    rows = []
    for p in persons:
        start = coverage.get(p.number)
        rng = random.Random(f"medins-demo-claim:{p.number}")
        if start is None or p.region not in REGION_HOSPITALS:
            continue
        last = today - timedelta(days=3)
        if last <= start:
            continue
        age = year - p.birth.year
        count = rng.choices([0, 1, 2, 3], weights=[62 - min(age // 4, 20), 25, 9, 4 + min(age // 8, 10)])[0]
        for k in range(count):
            inpatient = rng.random() < 0.45
            day = start + timedelta(days=rng.randint(0, (last - start).days))
            row = {"证件号码": p.number, "姓名": p.name, "参保统筹区": p.region,
                   "医疗机构编码": rng.choice(REGION_HOSPITALS[p.region]),
                   "医院结算单号": f"YS{year}-{p.number[6:]}-{k + 1}", "就诊/入院日期": day.isoformat()}
            if inpatient:
                total = Decimal(rng.randint(3_000, 60_000)) + Decimal(rng.randint(0, 99)) / 100
                row.update({"就医类型": "inpatient",
                            "出院日期": min(day + timedelta(days=rng.randint(3, 15)), last).isoformat()})
            else:
                total = Decimal(rng.randint(80, 900)) + Decimal(rng.randint(0, 99)) / 100
                row["就医类型"] = "outpatient"
            out_of_catalog = (total * Decimal(rng.randint(0, 12)) / 100).quantize(Decimal("0.01"))
            row.update({"医疗总费用": _money(total), "全自费（目录外）费用": _money(out_of_catalog)})
            share = GIVEN_BASIC.get(p.region)
            if share is not None:
                kind = "职工基本医保" if p.category.startswith("employee") else "居民基本医保"
                row[f"带入·{kind}支付"] = _money((total - out_of_catalog) * Decimal(str(share)))
                row[f"带入·{kind}起付线"] = _money(800 if inpatient else 0)
            if inpatient and rng.random() < 0.08:
                row["需线下审核"] = "是"
                row["受理日期"] = min(day + timedelta(days=rng.randint(20, 40)), today).isoformat()
            rows.append(row)
    return rows


def _reviewers():
    return {code: demo_county._reviewer(code) for code in REGION_HOSPITALS}


SERVICE_MOVES = 10  # per region and state: 退回 / 作废 through the services, one by one


def move(claims, *, acting_user, today) -> dict:
    """The reviewers' work on the settled claims, in every state. 退回 and 作废 (a few per
    region) go through the services one by one; 审核通过 and 登记支付 of the many others
    are written in bulk as the services write them (``claim_documents_receive``,
    ``claim_approve``, ``claim_pay``: documents received, status, reviewer, time and a
    history row each) after the same checks (the claim may move to the state)."""
    reviewers = _reviewers()
    now = timezone.now()
    done: dict[str, int] = {}
    approve, pay = [], []
    for claim in claims:
        rng = random.Random(f"medins-demo-move:{claim.settlement_no}")
        state = pick_state(rng)
        user = reviewers.get(claim.region.code) or acting_user
        key = (claim.region.code, state)
        if state in ("returned", "void") and done.get(key, 0) < SERVICE_MOVES:
            done[key] = done.get(key, 0) + 1
            try:
                if state == "returned":
                    services.claim_return(claim=claim, acting_user=user,
                                          reason=rng.choice(["发票金额与结算单不符，请医院更正",
                                                             "出院日期填写有误，请核对"]))
                else:
                    services.claim_void(claim=claim, acting_user=user, reason="重复录入（演示）")
            except (ValidationError, PermissionDenied):
                pass
        elif state in ("approved", "paid") and claim.can_move_to(Claim.Status.APPROVED):
            claim.status = Claim.Status.APPROVED
            claim.approved_at, claim.approved_by = now, user
            approve.append(claim)
            if state == "paid":
                pay.append(claim)
    documents = list(ClaimDocument.objects.filter(claim__in=approve, received=False))
    by_claim = {c.pk: c for c in approve}
    for doc in documents:
        doc.received, doc.received_at = True, now
        doc.received_by = by_claim[doc.claim_id].approved_by
    update_rows(ClaimDocument, ["received", "received_at", "received_by_id"], documents)
    insert_history(ClaimDocument, documents, user=acting_user, reason="收取理赔资料", when=now,
                   created=False)
    update_rows(Claim, ["status", "approved_at", "approved_by_id"], approve)
    insert_history(Claim, approve, user=acting_user, reason="审核通过", when=now, created=False)
    ledger.journals_write(postings.payable_specs(approve, booked_on=today), acting_user=acting_user)
    for claim in pay:
        claim.status, claim.paid_at, claim.paid_by = Claim.Status.PAID, now, claim.approved_by
    update_rows(Claim, ["status", "paid_at", "paid_by_id"], pay)
    insert_history(Claim, pay, user=acting_user, reason="登记支付", when=now, created=False)
    ledger.journals_write(postings.paid_specs(pay, booked_on=today), acting_user=acting_user)
    counts: dict[str, int] = {}
    for status in Claim.objects.filter(pk__in=[c.pk for c in claims]).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def pick_state(rng) -> str:
    return demo_county.pick(rng, STATES[1:])


@transaction.atomic
def load(*, acting_user, stdout, persons: int = 0, **options):
    today = timezone.localdate()
    year = today.year
    _hospitals(HOSPITALS)
    if not persons:
        return
    everyone = demo_county.generate(persons, year=year, today=today)
    by_number = {p.number: p for p in everyone}
    coverage = {}
    for number, start in (Enrollment.objects.filter(person__document_number__in=list(by_number),
                                                    plan_year__year=year, coverage_start__isnull=False,
                                                    plan_year__scheme__kind__in=BASIC_KINDS)
                          .order_by("coverage_start").values_list("person__document_number", "coverage_start")):
        coverage.setdefault(number, start)
    rows = claim_rows(everyone, coverage, year=year, today=today)
    existing = set(Claim.objects.filter(settlement_no__in=[r["医院结算单号"] for r in rows])
                   .values_list("settlement_no", flat=True))
    rows = [r for r in rows if r["医院结算单号"] not in existing]
    with tempfile.TemporaryDirectory(prefix="medins-demo-") as tmp:
        demo_county.import_rows("claims", rows, acting_user=acting_user, directory=Path(tmp))
    numbers = [r["医院结算单号"] for r in rows]
    new = Claim.objects.filter(settlement_no__in=numbers)
    keep_draft = [n for n in numbers if random.Random(f"medins-demo-draft:{n}").randrange(100) < STATES[0][1]]
    report = claims_settle_batch(claims=new.exclude(settlement_no__in=keep_draft), acting_user=acting_user)
    settled = (new.filter(status=Claim.Status.SETTLED).select_related("region", "person")
               .order_by("pk"))
    counts = move(list(settled), acting_user=acting_user, today=today)
    stdout.write(f"{year} 年度演示理赔：新增 {len(rows)} 笔，批量结算 {report.settled} 笔"
                 f"（未能结算 {len(report.failed)} 笔，保持录入），"
                 + "，".join(f"{Claim.Status(k).label} {v}" for k, v in sorted(counts.items())))
