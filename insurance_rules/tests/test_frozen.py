"""``insurance_rules.frozen.quick_init``: the same objects as the dataclass's own
``__init__`` (values, defaults, default factories, frozen), for every class it is put on."""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from insurance_rules import context, facts, results
from insurance_rules.frozen import quick_init

QUICK = [facts.PersonFacts, facts.Period, facts.Coverage, facts.ClaimFacts, results.ItemResult,
         results.LayerResult, results.SettledClaim, context.LayerContext]


def test_the_classes_of_the_engine_use_it():
    for cls in QUICK:
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
        assert cls.__init__.__code__.co_filename == "<string>"


def _example() -> type:
    """A frozen dataclass with every kind of field ``quick_init`` handles (a new class each call)."""

    @dataclasses.dataclass(frozen=True)
    class Example:
        a: str
        b: int = 2
        c: dict = dataclasses.field(default_factory=dict)
        d: tuple = ()
        e: list = dataclasses.field(default_factory=list, init=False)
        f: str = dataclasses.field(default="f", init=False)

    return Example


Own, Quick = _example(), quick_init(_example())


@pytest.mark.parametrize("args,kwargs", [(("x",), {}), (("x", 3), {}), (("x",), {"c": {"k": 1}, "d": (1,)}),
                                         ((), {"a": "y", "b": 5})])
def test_same_values_as_the_dataclass_init(args, kwargs):
    own, quick = Own(*args, **kwargs), Quick(*args, **kwargs)
    assert own.__dict__ == quick.__dict__
    assert dataclasses.astuple(own) == dataclasses.astuple(quick)
    assert repr(quick) == repr(own)
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.a = "z"


def test_fresh_default_factories_and_argument_errors():
    one, two = Quick("x"), Quick("x")
    assert one.c == {} and one.c is not two.c and one.e is not two.e
    assert one == two
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    assert hash(facts.Coverage("resident_basic", start, end)) == hash(facts.Coverage("resident_basic", start, end, 0))
    with pytest.raises(TypeError):
        Quick()
    with pytest.raises(TypeError):
        Quick("x", e=[])  # not an argument of __init__, as with the dataclass's own
    with pytest.raises(TypeError):
        Own("x", e=[])


def test_engine_objects_equal_and_replace():
    claim = facts.ClaimFacts(type="inpatient", date=date(2024, 3, 1), total=Decimal("100.00"))
    assert claim.given == {} and claim.ref == "" and claim.compliant == Decimal("0")
    assert dataclasses.replace(claim, ref="R") == facts.ClaimFacts("inpatient", date(2024, 3, 1),
                                                                   Decimal("100.00"), ref="R")
    layer = results.LayerResult("resident_basic", Decimal("1.00"), explanation="e")
    assert layer.refs == () and layer.extra == () and not layer.given
    assert [f.name for f in dataclasses.fields(results.LayerResult)] == list(layer.__dict__)


def test_refused_where_it_would_differ():
    @dataclasses.dataclass
    class NotFrozen:
        a: int

    @dataclasses.dataclass(frozen=True)
    class PostInit:
        a: int

        def __post_init__(self):
            pass

    for cls in (NotFrozen, PostInit):
        with pytest.raises(TypeError):
            quick_init(cls)
