"""Money helpers: Decimal only, rounded once per layer to 0.01 元 half-up (README §4.1)."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


def q2(value: Decimal) -> Decimal:
    """Round to 0.01 half-up (only at the end of a layer)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def pct(ratio_percent: Decimal) -> Decimal:
    """55.00 (percent) -> 0.55, exact."""
    return ratio_percent / HUNDRED


def clamp_ratio(ratio_percent: Decimal) -> Decimal:
    return min(max(ratio_percent, ZERO), HUNDRED)


def to_decimal(value, field: str) -> Decimal:
    """Parse an amount given as a string or a number (never via float for strings)."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise ValueError(field)
    try:
        if isinstance(value, float):
            d = Decimal(repr(value))
        else:
            d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(field) from exc
    if not d.is_finite():
        raise ValueError(field)
    return d


def fmt(value: Decimal) -> str:
    """Two-decimal string for output."""
    return str(q2(value))
