"""Settled claims of the bureau-scale database: one claim per ``every`` persons, its result
lines (one per layer: basic, then 大病保险 / the supplementary product when the person has
it) and, for the approved and paid ones, the ledger's 待遇核定 and 待遇支付 journals.
The hospitals are the demos' (``claims.demo`` and ``claims.demo_county``)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from claims import demo as claims_demo
from claims import demo_county
from claims.models import Claim, ClaimLayer
from ledger.models import Account, Entry, Journal, SourceKind

from .copying import copy_rows, reserve_ids

STATES = ["settled"] * 30 + ["approved"] * 25 + ["paid"] * 45
SECOND_LAYER = {"critical_illness", "employee_large", "employee_supplementary", "inclusive_commercial"}
CENT = Decimal("0.01")


def hospitals() -> dict[str, list[int]]:
    """The demo hospitals (created when missing), per pooling region code: their ids."""
    found = claims_demo._hospitals(claims_demo.HOSPITALS)
    found.update(claims_demo._hospitals(demo_county.HOSPITALS))
    return {region: [found[code].pk for code in codes if code in found]
            for region, codes in demo_county.REGION_HOSPITALS.items()}


def _claims(plan, every: int):
    """(claim fields, [(layer scheme plan year, paid)]) of every ``every``-th person."""
    by_region = hospitals()
    for p in plan.walk(count_only=True):
        if p.index % every:
            continue
        n = p.index // every
        inpatient = n % 5 < 2
        total = Decimal(3_000 + (n * 7_919) % 60_000 if inpatient else 50 + (n * 31) % 900).quantize(CENT)
        out_of_catalog = (total * Decimal("0.05")).quantize(CENT)
        compliant = total - out_of_catalog
        day = date(plan.year, 1, 1) + timedelta(days=(n * 13) % 340)
        status = STATES[n % len(STATES)]
        basic_py = p.plans[0][1]
        layers = [(basic_py, (compliant * Decimal("0.55" if inpatient else "0.5")).quantize(CENT))]
        for _pk, py in p.plans[1:]:
            if py.scheme.kind in SECOND_LAYER and inpatient and total > 10_000:
                layers.append((py, ((compliant - layers[0][1] - Decimal("8000")) * Decimal("0.6"))
                               .quantize(CENT).max(Decimal("0.00"))))
        fund = sum(paid for _py, paid in layers)
        region_id = basic_py.scheme.region_id
        hospital_ids = by_region[p.region]
        settled = datetime.combine(day + timedelta(days=12), time(10), tzinfo=UTC)
        yield dict(person_id=p.pk, region_id=region_id, year=plan.year,
                   claim_type="inpatient" if inpatient else "outpatient", service_date=day,
                   discharge_date=day + timedelta(days=3 + n % 9) if inpatient else None,
                   hospital_id=hospital_ids[n % len(hospital_ids)], settlement_no=f"JS{plan.year}{n:08d}",
                   location="in_region", total=total, out_of_catalog=out_of_catalog, compliant=compliant,
                   accepted_on=day + timedelta(days=10), status=status, settlement_version=1,
                   fund_total=fund, personal=total - fund, settled_at=settled,
                   approved_at=settled + timedelta(days=5) if status in ("approved", "paid") else None,
                   paid_at=settled + timedelta(days=20) if status == "paid" else None), layers


def copy_claims(cursor, plan, every: int) -> dict[str, int]:
    claims = list(_claims(plan, every))
    first_claim = reserve_ids(cursor, Claim, len(claims))
    with copy_rows(cursor, Claim) as table:
        for i, (fields, _layers) in enumerate(claims):
            table.write(id=first_claim + i, **fields)
    counts = {"claims": table.rows}
    with copy_rows(cursor, ClaimLayer, ids=False) as table:
        for i, (fields, layers) in enumerate(claims):
            for seq, (py, paid) in enumerate(layers, start=1):
                table.write(claim_id=first_claim + i, version=1, is_current=True, seq=seq,
                            scheme_kind=py.scheme.kind, scheme_name=py.scheme.name, paid=paid,
                            ratio=Decimal("55.000") if seq == 1 else Decimal("60.000"), basis=fields["compliant"],
                            explanation=f"{py.scheme.name}：合规费用 {fields['compliant']} 元，本层支付 {paid} 元",
                            settled_at=fields["settled_at"])
    counts["claim layers"] = table.rows
    # 待遇核定 (approved, paid) and 待遇支付 (paid): one journal per layer that pays
    journals = []
    for i, (fields, layers) in enumerate(claims):
        if fields["status"] not in ("approved", "paid"):
            continue
        for py, paid in layers:
            if not paid:
                continue
            journals.append((Journal.Kind.CLAIM_PAYABLE, first_claim + i, fields, py, paid,
                             Account.BENEFIT, Account.PAYABLE, fields["approved_at"].date(), "待遇核定"))
            if fields["status"] == "paid":
                journals.append((Journal.Kind.CLAIM_PAID, first_claim + i, fields, py, paid,
                                 Account.PAYABLE, Account.BANK, fields["paid_at"].date(), "待遇支付"))
    first_journal = reserve_ids(cursor, Journal, len(journals))
    with copy_rows(cursor, Journal) as table:
        for j, (kind, claim_id, fields, py, _paid, _d, _c, booked, memo) in enumerate(journals):
            table.write(id=first_journal + j, kind=kind, scheme_id=py.scheme_id, region_id=py.scheme.region_id,
                        year=plan.year, person_id=fields["person_id"], source_kind=SourceKind.CLAIM,
                        source_id=claim_id, booked_on=booked, memo=memo)
    counts["claim journals"] = table.rows
    with copy_rows(cursor, Entry, ids=False) as table:
        for j, (_k, _c, _f, _py, paid, debit, credit, _b, _m) in enumerate(journals):
            table.write(journal_id=first_journal + j, account=debit, amount=paid)
            table.write(journal_id=first_journal + j, account=credit, amount=-paid)
    counts["claim entries"] = table.rows
    return counts
