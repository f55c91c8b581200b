"""The garbage collector of a process that serves requests (gunicorn's workers through
``config.wsgi``, ``manage.py runserver``, ``config.asgi``).

A change page of the admin builds tens of thousands of objects that live until the
response is written (forms, fields, widgets, bound fields: the 年度方案 page ≈ 230 rows ×
7 cells). With Python's default thresholds (700, 10, 10) they set off young collections
that promote them, and every few requests a full collection that walks the whole heap —
the ≈ 200 000 objects of Django, the apps and their modules, loaded once and never freed.
On the plan-year page that was about a third of the request's CPU time
(docs/benchmarks.md, "Tenth session: the plan-year page and the garbage collector").

``tune()``: the objects loaded at start-up are collected once and moved out of the
collector's sight (``gc.freeze``: they live as long as the process), and a young
collection waits for 10 000 new objects instead of 700, so a request's short-lived objects
are mostly freed by their reference counts before any collection sees them. Cycles are
still collected (the older generations' thresholds are Python's)."""
from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def tune() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
