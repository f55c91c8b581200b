"""Results of the calculation: one line per layer, with explanation and the parameter
rows used (README §3, §4.8)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from .facts import ClaimFacts
from .money import ZERO


@dataclass(frozen=True)
class ParamRef:
    """A parameter row used by a formula: table, row id and the values read."""

    table: str
    id: int | None
    values: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        return {"table": self.table, "id": self.id, "values": dict(self.values)}

    @cached_property
    def json(self) -> str:
        """``as_dict`` as JSON text (``json.dumps``' default form), encoded once per
        reference (a row's references are reused: ``params.Row.ref``)."""
        return json.dumps(self.as_dict())


@dataclass(frozen=True)
class ItemResult:
    """A responsibility of a commercial scheme (R1…R4, R4A/R4B, FLOOR), or an internal
    part of a layer (乐山 band/high)."""

    code: str
    paid: Decimal
    deductible: Decimal = ZERO
    ratio: Decimal | None = None
    basis: Decimal | None = None
    capped: Decimal = ZERO
    reason: str = ""
    explanation: str = ""


@dataclass(frozen=True)
class LayerResult:
    scheme: str  # scheme kind code
    paid: Decimal
    deductible: Decimal = ZERO
    ratio: Decimal | None = None  # percent
    capped: Decimal = ZERO
    basis: Decimal | None = None
    reason: str = ""  # not_covered, not_applicable, level_not_covered, not_registered, ...
    explanation: str = ""
    refs: tuple[ParamRef, ...] = ()
    items: tuple[ItemResult, ...] = ()
    given: bool = False
    extra: tuple[tuple[str, str], ...] = ()  # formula-specific figures kept for YTD (e.g. over_cap)

    def extra_value(self, key: str, default: Decimal = ZERO) -> Decimal:
        for k, v in self.extra:
            if k == key:
                return Decimal(v)
        return default

    def extra_text(self, key: str, default: str = "") -> str:
        """A non-numeric ``extra`` entry (e.g. the limit pool the paid amount counts in)."""
        for k, v in self.extra:
            if k == key:
                return v
        return default

    def item(self, code: str) -> ItemResult | None:
        for it in self.items:
            if it.code == code:
                return it
        return None


@dataclass(frozen=True)
class SettledClaim:
    """A claim with its layer results: the unit of the year-to-date history."""

    claim: ClaimFacts
    layers: tuple[LayerResult, ...] = field(default_factory=tuple)

    def layer(self, scheme: str) -> LayerResult | None:
        for lr in self.layers:
            if lr.scheme == scheme:
                return lr
        return None

    def paid_by_scheme(self) -> dict[str, Decimal]:
        """Scheme kind → amount the layer paid."""
        return {lr.scheme: lr.paid for lr in self.layers}

    @property
    def fund_total(self) -> Decimal:
        return sum((lr.paid for lr in self.layers), ZERO)
