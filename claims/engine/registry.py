"""Formula registry: ``Scheme.formula`` code -> function(LayerContext) -> LayerResult,
and the optional given-result hooks: a formula family may limit a layer result carried
in from the hospital's system (spec README §4.7) by its own rows, e.g. the annual limit
of 长治 职工大额 (``given_handler``); and who a formula family's schemes admit besides
the region's basic insured (``admission``, e.g. 三明's 新市民)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .context import LayerContext
from .facts import GivenLayer, PersonFacts
from .results import LayerResult

Formula = Callable[[LayerContext], LayerResult]
FORMULAS: dict[str, Formula] = {}
GivenHandler = Callable[[LayerContext, GivenLayer], LayerResult]
GIVEN_HANDLERS: dict[str, GivenHandler] = {}


def formula(code: str):
    """Decorator registering a formula family implementation."""

    def register(fn: Formula) -> Formula:
        FORMULAS[code] = fn
        return fn

    return register


def given_handler(code: str):
    """Decorator registering how formula family ``code`` treats a given layer result."""

    def register(fn: GivenHandler) -> GivenHandler:
        GIVEN_HANDLERS[code] = fn
        return fn

    return register


@dataclass(frozen=True)
class Admission:
    """The persons a formula family's schemes admit although they do not hold the
    region's basic insurance: ``ground(person)`` names why one is admitted ("" = not);
    ``refusal`` is the family's own wording for everyone else, with ``{region}``,
    ``{province}`` and ``{scheme}`` filled from the plan year's scheme."""

    ground: Callable[[PersonFacts], str]
    refusal: str


ADMISSIONS: dict[str, Admission] = {}


def admission(code: str, *, refusal: str):
    """Decorator registering the admission rule of formula family ``code`` (one per family)."""

    def register(fn: Callable[[PersonFacts], str]) -> Callable[[PersonFacts], str]:
        if code in ADMISSIONS:
            raise ValueError(f"admission rule of formula family {code!r} registered twice")
        ADMISSIONS[code] = Admission(ground=fn, refusal=refusal)
        return fn

    return register
