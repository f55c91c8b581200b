"""``cache_of``: a cache kept on a frozen dataclass instance (a plan's rows never change
while the plan is cached: what is derived from them is found once per plan or row, not
at every settled claim)."""
from __future__ import annotations


def cache_of(obj, name: str) -> dict:
    """A dict kept on the frozen dataclass instance ``obj`` under ``name`` (created empty
    the first time): a cache of what is derived from its fields, not a field — equality,
    hash and ``dataclasses.replace`` ignore it (``params.Row.ref``, ``common.benefit_rows``)."""
    found = obj.__dict__.get(name)
    if found is None:
        found = {}
        object.__setattr__(obj, name, found)
    return found
