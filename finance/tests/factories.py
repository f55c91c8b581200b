"""Builders of the finance tests (also used by tests/browser/test_browser_batches.py)."""
from __future__ import annotations

from claims import services as claims
from claims.models import Claim
from claims.tests.factories import dianjiang_person, outpatient
from ledger.models import Journal, SourceKind
from policies.models import Scheme


def payee_fields(n: int) -> dict:
    return {"bank_account_name": f"收款人{n}", "bank_account_number": f"62284800000000{n:05d}",
            "bank_name": "中国农业银行垫江支行营业部"}


def approved_claim(reviewer, *, payee: dict | None = None, total="1000.00") -> Claim:
    person = dianjiang_person(**(payee or {}))
    claim = claims.claim_settle(claim=outpatient(person, total, level=2), acting_user=None)
    claims.claim_documents_receive(claim=claim, acting_user=None,
                                   received={d.pk: True for d in claim.documents.all()})
    return claims.claim_approve(claim=claim, acting_user=reviewer)


def fund_of(claim) -> Scheme:
    journal = Journal.objects.filter(source_kind=SourceKind.CLAIM, source_id=claim.pk).first()
    return journal.scheme


