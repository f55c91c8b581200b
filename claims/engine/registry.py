"""Formula registry: ``Scheme.formula`` code -> function(LayerContext) -> LayerResult."""
from __future__ import annotations

from collections.abc import Callable

from .context import LayerContext
from .results import LayerResult

Formula = Callable[[LayerContext], LayerResult]
FORMULAS: dict[str, Formula] = {}


def formula(code: str):
    """Decorator registering a formula family implementation."""

    def register(fn: Formula) -> Formula:
        FORMULAS[code] = fn
        return fn

    return register
