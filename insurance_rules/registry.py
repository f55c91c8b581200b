"""Formula registry: ``Scheme.formula`` code -> function(LayerContext) -> LayerResult,
and the optional given-result hooks: a formula family may limit a layer result carried
in from the hospital's system (spec README §4.7) by its own rows, e.g. the annual limit
of 长治 职工大额 (``given_handler``); and who a formula family's schemes admit besides
the region's basic insured (``admission``, e.g. 三明's 新市民).

A formula declares the rule tables it cannot work without (``needs``: names of
``PlanParams`` fields, e.g. ``"benefits"``); the claims app's system checks report a plan
year whose scheme names a formula that is not implemented or that lacks one of them.
Registering a code twice with another function is refused (``DuplicateRegistration``):
two modules claiming one formula would otherwise settle with whichever loaded last.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .context import LayerContext
from .facts import GivenLayer, PersonFacts
from .results import LayerResult

Formula = Callable[[LayerContext], LayerResult]
FORMULAS: dict[str, Formula] = {}
FORMULA_NEEDS: dict[str, tuple[str, ...]] = {}
GivenHandler = Callable[[LayerContext, GivenLayer], LayerResult]
GIVEN_HANDLERS: dict[str, GivenHandler] = {}


class DuplicateRegistration(ValueError):
    """A second function registered under a code that another one already holds."""


def _same_function(a: Callable, b: Callable) -> bool:
    # the same definition imported again (a module reloaded) is not a duplicate
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def refuse_duplicate(registry: dict, code: str, fn: Callable, what: str) -> None:
    """Raise when ``code`` is already registered in ``registry`` by another function."""
    existing = registry.get(code)
    if existing is not None and not _same_function(existing, fn):
        raise DuplicateRegistration(
            f"{what}“{code}”被重复注册：{existing.__module__}.{existing.__qualname__} 与 "
            f"{fn.__module__}.{fn.__qualname__}")


def formula(code: str, *, needs: tuple[str, ...] = ()):
    """Decorator registering a formula family implementation and the rule tables it needs."""

    def register(fn: Formula) -> Formula:
        refuse_duplicate(FORMULAS, code, fn, "计算规则族")
        FORMULAS[code] = fn
        FORMULA_NEEDS[code] = tuple(needs)
        return fn

    return register


def given_handler(code: str):
    """Decorator registering how formula family ``code`` treats a given layer result."""

    def register(fn: GivenHandler) -> GivenHandler:
        refuse_duplicate(GIVEN_HANDLERS, code, fn, "带入结果处理")
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
        refuse_duplicate({k: a.ground for k, a in ADMISSIONS.items()}, code, fn, "参保准入规则")
        ADMISSIONS[code] = Admission(ground=fn, refusal=refusal)
        return fn

    return register
