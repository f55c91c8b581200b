"""The amounts of a settlement sheet and their checks, once (spec README §3 “settlement-sheet
amounts”, §6 bad input; trial-calc.md claim defaults; changzhi.md class-B first pay).

``check_claim_amounts`` takes the amounts of one claim and returns them with the derived
``compliant = total − out_of_catalog − class_b_copay`` (``ClaimAmounts``), or raises
``InvalidAmounts`` (an ``invalid_input`` ``CaseError``) listing every refusal by field.
``class_b_copay_of`` is the class-B first pay derived from the class-B items. Used by
``claims.services`` (claim create/update and the claims sheet import, which runs the
service's checks), ``claims.trial.claims.parse_claim`` and the 长治 outpatient layer.
Pure: no Django import.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .errors import InvalidInput
from .money import AMOUNT_PLACES, ZERO, amount_refusal, fmt, pct

AMOUNT_FIELDS = ("total", "out_of_catalog", "class_b_copay", "tcm_compliant", "special_drug",
                 "drug_class_a", "drug_class_b", "out_of_catalog_controlled")
"""The amounts that default to 0 and may not be negative (``class_b_items`` and
``compliant`` may be absent)."""


@dataclass(frozen=True)
class AmountRefusal:
    """One refused amount: ``field`` is the claim field the message belongs to; ``message``
    (Chinese) does not repeat the field's name where a form shows it beside the field."""

    field: str
    message: str


class InvalidAmounts(InvalidInput):
    """The amounts of a claim do not hold: ``refusals`` lists all of them, in the order of
    the checks; ``message`` and ``field`` are the first one's. ``negative``: refused at the
    first stage (amounts out of bounds or negative, nothing derived); else ``derived`` is the computed
    compliant cost (None when negative)."""

    def __init__(self, refusals: list[AmountRefusal] | tuple[AmountRefusal, ...], *,
                 negative: bool = False, derived: Decimal | None = None):
        self.refusals = tuple(refusals)
        self.field = self.refusals[0].field
        self.negative = negative
        self.derived = derived
        super().__init__(self.refusals[0].message)


@dataclass(frozen=True)
class ClaimAmounts:
    total: Decimal
    out_of_catalog: Decimal
    class_b_copay: Decimal
    compliant: Decimal
    tcm_compliant: Decimal
    special_drug: Decimal
    drug_class_a: Decimal
    drug_class_b: Decimal
    class_b_items: Decimal | None
    out_of_catalog_controlled: Decimal


def class_b_copay_of(class_b_items: Decimal, rate_percent: Decimal) -> Decimal:
    """乙类先行自付 = 乙类项目费用 × 先行自付比例 (plan figure ``class_b_copay_rate``, in
    percent); unrounded — a caller storing it rounds it to the cent."""
    return class_b_items * pct(rate_percent)


def compliant_of(total: Decimal, out_of_catalog: Decimal, class_b_copay: Decimal) -> Decimal:
    """政策范围内（合规）费用 = 医疗总费用 − 全自费 − 乙类先行自付 (may be negative: the caller
    checks it with ``check_claim_amounts``)."""
    return total - out_of_catalog - class_b_copay


def sum_exceeds_total(total: Decimal, out_of_catalog: Decimal, class_b_copay: Decimal) -> str:
    """The message when out of catalogue + class-B first pay exceed the total."""
    return f"全自费 {fmt(out_of_catalog)} 与乙类先行自付 {fmt(class_b_copay)} 之和超过医疗总费用 {fmt(total)}"


def check_claim_amounts(*, total: Decimal, out_of_catalog: Decimal | None = ZERO,
                        class_b_copay: Decimal | None = ZERO, compliant: Decimal | None = None,
                        tcm_compliant: Decimal | None = ZERO, special_drug: Decimal | None = ZERO,
                        drug_class_a: Decimal | None = ZERO, drug_class_b: Decimal | None = ZERO,
                        class_b_items: Decimal | None = None,
                        out_of_catalog_controlled: Decimal | None = ZERO,
                        labels: Mapping[str, str] | None = None,
                        places: int | None = AMOUNT_PLACES) -> ClaimAmounts:
    """Check the amounts of one claim (README §3, §6) and derive ``compliant``.

    ``None`` for an amount of ``AMOUNT_FIELDS`` means 0; ``compliant`` None means “derive
    it”, given it must equal ``total − out_of_catalog − class_b_copay``. First every amount
    must be within the bound of amounts (``money.amount_refusal``: less than 10^12 元, at
    most ``places`` decimals — None for the trial's inputs, rounded per layer); then no amount
    may be negative (``labels``: the field names shown in those messages, default the
    field itself); then the parts may not exceed what contains them: out of catalogue +
    class-B first pay ≤ total, TCM compliant ≤ compliant, special drugs ≤ total, class-A +
    class-B drugs ≤ compliant. Where the computed compliant is refused the given one (if
    any) is the one the later checks compare with. Raises ``InvalidAmounts`` with every
    refusal of the failing stage."""
    labels = labels or {}
    values = {"total": total, "out_of_catalog": out_of_catalog, "class_b_copay": class_b_copay,
              "tcm_compliant": tcm_compliant, "special_drug": special_drug,
              "drug_class_a": drug_class_a, "drug_class_b": drug_class_b,
              "out_of_catalog_controlled": out_of_catalog_controlled}
    values = {name: ZERO if value is None else value for name, value in values.items()}
    refusals = []
    for name, value in {**values, "compliant": compliant, "class_b_items": class_b_items}.items():
        if value is None:
            continue
        refusal = amount_refusal(value, places=places)
        if refusal is not None:
            refusals.append(AmountRefusal(name, f"“{labels.get(name, name)}”{refusal}"))
    if refusals:  # out of bounds: not compared with anything (1e30 cannot be rounded)
        raise InvalidAmounts(refusals, negative=True)
    refusals = [AmountRefusal(name, f"“{labels.get(name, name)}”不能为负数：{fmt(value)}")
                for name, value in values.items() if value < 0]
    if class_b_items is not None and class_b_items < 0:
        refusals.append(AmountRefusal(
            "class_b_items", f"“{labels.get('class_b_items', 'class_b_items')}”不能为负数"))
    if refusals:
        raise InvalidAmounts(refusals, negative=True)
    total = values["total"]
    derived = compliant_of(total, values["out_of_catalog"], values["class_b_copay"])
    if derived < 0:
        refusals.append(AmountRefusal("out_of_catalog", sum_exceeds_total(
            total, values["out_of_catalog"], values["class_b_copay"])))
    elif compliant is not None and compliant != derived:
        refusals.append(AmountRefusal("compliant", f"合规费用 {fmt(compliant)} 不等于 医疗总费用 − 全自费 − "
                                                   f"乙类先行自付 = {fmt(derived)}"))
    basis = compliant if compliant is not None else (derived if derived >= 0 else None)
    if basis is not None and values["tcm_compliant"] > basis:
        refusals.append(AmountRefusal("tcm_compliant", f"中医药合规费用不能超过合规费用 {fmt(basis)}"))
    if values["special_drug"] > total:
        refusals.append(AmountRefusal("special_drug", f"特药费用不能超过医疗总费用 {fmt(total)}"))
    if basis is not None and values["drug_class_a"] + values["drug_class_b"] > basis:
        refusals.append(AmountRefusal("drug_class_b", f"甲乙类药品费用之和不能超过合规费用 {fmt(basis)}"))
    if refusals:
        raise InvalidAmounts(refusals, derived=derived if derived >= 0 else None)
    return ClaimAmounts(compliant=derived, class_b_items=class_b_items, **values)
