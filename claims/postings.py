"""The ledger journals of claims (docs/money.md §理赔): on 审核通过 each fund's current
computed layer is booked as 待遇核定 (待遇支出 / 应付待遇); on payment the fund's
outstanding 应付待遇 of the claim is paid out of 基金存款; a 退回 after approval reverses
the 待遇核定, as does a 冲正 (also of a paid claim: its 应付待遇 then shows a debit
balance, 应收回, netted against the re-settlement or received back as 待遇追回). Layers given by the hospital's settlement system (``ClaimLayer.given``)
were paid by that system and are not booked here."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Sum

from ledger import postings
from ledger.models import Account, Journal, SourceKind
from ledger.postings import JournalSpec
from policies.models import Scheme

from .models import Claim, ClaimLayer


def _schemes(region_ids) -> dict[tuple[int, str], int]:
    return {(r, k): pk for pk, r, k in
            Scheme.objects.filter(region_id__in=set(region_ids)).values_list("pk", "region_id", "kind")}


def payable_specs(claims: Iterable[Claim], *, booked_on) -> list[JournalSpec]:
    """待遇核定 of ``claims`` (just approved): one journal per claim and fund with a
    non-zero computed layer of the current settlement."""
    claims = {c.pk: c for c in claims}
    if not claims:
        return []
    paid: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for claim_id, kind, amount in (ClaimLayer.objects
                                   .filter(claim_id__in=claims, is_current=True, given=False)
                                   .exclude(paid=0).values_list("claim_id", "scheme_kind", "paid")):
        paid[(claim_id, kind)] += amount
    schemes = _schemes(c.region_id for c in claims.values())
    specs = []
    for (claim_id, kind), amount in sorted(paid.items()):
        claim = claims[claim_id]
        specs.append(postings.claim_payable(
            claim_id=claim_id, scheme_id=schemes[(claim.region_id, kind)],
            region_id=claim.region_id, year=claim.year, person_id=claim.person_id,
            paid=amount, booked_on=booked_on, memo=f"待遇核定（结算版本{claim.settlement_version}）"))
    return specs


def outstanding(claim_ids) -> dict[tuple[int, int], Decimal]:
    """``{(claim id, scheme id): 应付待遇 still owed}`` (credit balance, shown positive)."""
    rows = (Journal.objects.filter(source_kind=SourceKind.CLAIM, source_id__in=list(claim_ids),
                                   entries__account=Account.PAYABLE)
            .values_list("source_id", "scheme_id").annotate(total=Sum("entries__amount")))
    return {(claim_id, scheme_id): -postings.money(total) for claim_id, scheme_id, total in rows if total}


def paid_specs(claims: Iterable[Claim], *, booked_on, reference: str = "") -> list[JournalSpec]:
    """待遇支付 of ``claims``: each fund's outstanding 应付待遇 of the claim paid out."""
    claims = {c.pk: c for c in claims}
    specs = []
    for (claim_id, scheme_id), amount in sorted(outstanding(claims).items()):
        if amount <= 0:
            continue
        claim = claims[claim_id]
        specs.append(postings.claim_paid(
            claim_id=claim_id, scheme_id=scheme_id, region_id=claim.region_id, year=claim.year,
            person_id=claim.person_id, amount=amount, booked_on=booked_on, reference=reference))
    return specs


def recoverable(claim_ids) -> dict[tuple[int, int], Decimal]:
    """``{(claim id, scheme id): 应收回}``: a debit balance of the claim's 应付待遇 — money
    paid that is no longer owed (after a 冲正 or a lower re-settlement), shown positive."""
    return {key: -amount for key, amount in outstanding(claim_ids).items() if amount < 0}


def recovered_specs(claims: Iterable[Claim], *, booked_on, reference: str = "") -> list[JournalSpec]:
    """待遇追回 of ``claims``: each fund's 应收回 received back into 基金存款."""
    claims = {c.pk: c for c in claims}
    specs = []
    for (claim_id, scheme_id), amount in sorted(recoverable(claims).items()):
        claim = claims[claim_id]
        specs.append(postings.claim_recovered(
            claim_id=claim_id, scheme_id=scheme_id, region_id=claim.region_id, year=claim.year,
            person_id=claim.person_id, amount=amount, booked_on=booked_on, reference=reference))
    return specs


def money_of(spec: JournalSpec) -> Decimal:
    """The amount a one-debit journal moves (its debit line)."""
    return sum((amount for _account, amount in spec.balanced_lines() if amount > 0), Decimal("0"))
