"""Formula registry: ``Scheme.formula`` code -> function(LayerContext) -> LayerResult,
and the optional given-result hooks: a formula family may limit a layer result carried
in from the hospital's system (spec README §4.7) by its own rows, e.g. the annual limit
of 长治 职工大额 (``given_handler``)."""
from __future__ import annotations

from collections.abc import Callable

from .context import LayerContext
from .facts import GivenLayer
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
