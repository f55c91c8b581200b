"""``gc_paused()``: Python's cyclic garbage collector paused while batch settlement settles a
chunk and while the simulation runs (docs/benchmarks.md, h-batch).

Both build tens of thousands of small objects (rows, facts, results) and keep them until
the chunk or the run ends; the collector, triggered every few hundred allocations, scans
them again and again: ≈ 25 µs of a settled claim's ≈ 145 µs of CPU in the batch, ≈ 50 µs
in the simulation. They create almost no reference cycles (a 20 000-claim run leaves
20–70 objects for the collector), so nothing accumulates while it is paused: every
object is freed by its reference count as before, and the collector runs again as soon
as the last paused block ends. Nested and concurrent blocks (the batch's threads) share
one count; the collector is enabled again only if it was enabled before the first."""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
