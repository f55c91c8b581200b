"""``quick_init``: a faster ``__init__`` for the frozen dataclasses built once or more per
settled claim (facts, layer results, the layer context).

A frozen dataclass's own ``__init__`` sets each field by ``object.__setattr__`` (its
``__setattr__`` refuses): ≈ 0.1 µs a field, ≈ 3 µs for a ``ClaimFacts`` of 22 fields, about
a tenth of the engine's time per claim (docs/benchmarks.md, h-batch). The ``__init__``
written here takes the same arguments with the same defaults and default factories and
stores the same values in the instance's ``__dict__`` at once (what the frozen
``__init__`` does field by field): the objects are the same — equality, hash, repr,
``dataclasses.replace`` and ``fields`` unchanged. Classes with ``__post_init__``,
``InitVar``s or ``ClassVar``s, keyword-only fields or ``__slots__`` are refused (not
needed here).
"""
from __future__ import annotations

import dataclasses

_MISSING = dataclasses.MISSING


def quick_init(cls: type) -> type:
    """Replace the ``__init__`` of the frozen dataclass ``cls`` (module docstring)."""
    params = cls.__dataclass_params__
    if not params.frozen or not params.init:
        raise TypeError(f"quick_init: {cls.__name__} is not a frozen dataclass with __init__")
    if hasattr(cls, "__post_init__") or "__slots__" in cls.__dict__:
        raise TypeError(f"quick_init: {cls.__name__} has __post_init__ or __slots__")
    names = {"_MISSING": _MISSING}
    args, before, stored = ["self"], [], []
    for f in dataclasses.fields(cls):
        if f.kw_only:
            raise TypeError(f"quick_init: {cls.__name__}.{f.name} is keyword-only")
        if f.default is not _MISSING:
            names[f"_default_{f.name}"] = f.default
        if f.default_factory is not _MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
        if f.init:
            if f.default is not _MISSING:
                args.append(f"{f.name}=_default_{f.name}")
            elif f.default_factory is not _MISSING:
                args.append(f"{f.name}=_MISSING")
                before.append(f"    if {f.name} is _MISSING:\n        {f.name} = _factory_{f.name}()\n")
            else:
                args.append(f.name)
            stored.append(f"{f.name}={f.name}")
        elif f.default_factory is not _MISSING:  # (a plain default stays the class's attribute)
            stored.append(f"{f.name}=_factory_{f.name}()")
    if len(cls.__dataclass_fields__) != len(dataclasses.fields(cls)):
        raise TypeError(f"quick_init: {cls.__name__} has an InitVar or a ClassVar")
    source = (f"def __init__({', '.join(args)}):\n{''.join(before)}"
              f"    self.__dict__.update({', '.join(stored)})\n")
    exec(source, names)  # noqa: S102 - the source is built above from the class's own fields
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init
    return cls


def cache_of(obj, name: str) -> dict:
    """A dict kept on the frozen dataclass instance ``obj`` under ``name`` (created empty
    the first time): a cache of what is derived from its fields, not a field — equality,
    hash and ``dataclasses.replace`` ignore it (``params.Row.ref``, ``common.benefit_rows``)."""
    found = obj.__dict__.get(name)
    if found is None:
        found = {}
        object.__setattr__(obj, name, found)
    return found
