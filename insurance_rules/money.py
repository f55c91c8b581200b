"""Money helpers: Decimal only, rounded once per layer to 0.01 元 half-up (README §4.1)."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
AMOUNT_DIGITS = 12
"""Every amount is less than 10^12 元 (一万亿元) in magnitude: far above any real figure, and
small enough that 0.01-rounding never exceeds the 28 digits of Decimal's context (a larger
amount made ``quantize`` raise ``InvalidOperation``: HTTP 500, trial ``internal_error``)."""
AMOUNT_PLACES = 2
"""An amount a person enters or a sheet carries has at most 2 decimals (分)."""


def q2(value: Decimal) -> Decimal:
    """Round to 0.01 half-up (only at the end of a layer)."""
    return value.quantize(CENT, ROUND_HALF_UP)  # positional: a keyword costs twice the rounding


def pct(ratio_percent: Decimal) -> Decimal:
    """55.00 (percent) -> 0.55, exact."""
    return ratio_percent / HUNDRED


def clamp_ratio(ratio_percent: Decimal) -> Decimal:
    return min(max(ratio_percent, ZERO), HUNDRED)


def amount_refusal(value: Decimal, *, places: int | None = AMOUNT_PLACES) -> str | None:
    """Why ``value`` cannot be taken as an amount (the one bound of every amount: sheets,
    services, trial calculation), as a Chinese phrase the caller prefixes with the field
    (and row), or None when it can: not a finite number; 10^12 元 or more in magnitude;
    more than ``places`` decimals (None: any number of decimals, for the trial's inputs).
    Never raises and never rounds (no Decimal context is used: ``1e999999999`` is safe)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return "不是有效的金额"
    if not value.is_zero() and value.adjusted() >= AMOUNT_DIGITS:
        return "超出金额上限（须小于 1 000 000 000 000 元，即一万亿元）"
    if places is not None:
        sign, digits, exponent = value.as_tuple()
        extra = -exponent - places  # decimals beyond ``places`` (must all be zero)
        if extra > 0 and any(digits[-extra:]):
            return f"最多 {places} 位小数"
    return None


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
