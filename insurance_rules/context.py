"""What a formula sees when it settles one layer of one claim (spec README §4)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .facts import ClaimFacts, Coverage, PersonFacts
from .money import ZERO
from .params import PlanParams
from .results import LayerResult, SettledClaim


@dataclass(frozen=True)
class LayerContext:
    plan: PlanParams  # the scheme's plan year for the claim's service year
    person: PersonFacts
    coverage: Coverage  # the person's coverage in this scheme (in force on the date)
    claim: ClaimFacts
    upstream: tuple[LayerResult, ...]  # earlier layers of this claim, in settlement order
    history: tuple[SettledClaim, ...]  # earlier claims of the person in this plan year
    participation_rate: Decimal | None = None  # trial override of the official rate (%)

    @property
    def upstream_paid(self) -> Decimal:
        return sum((lr.paid for lr in self.upstream), ZERO)

    def upstream_layer(self, scheme: str) -> LayerResult | None:
        for lr in self.upstream:
            if lr.scheme == scheme:
                return lr
        return None

    def ytd_layers(self, scheme: str | None = None):
        """(claim, layer result) of earlier claims for this (or another) scheme."""
        kind = scheme or self.plan.kind
        for sc in self.history:
            lr = sc.layer(kind)
            if lr is not None:
                yield sc.claim, lr
