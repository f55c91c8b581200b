"""The kinds of job (docs/jobs.md §种类). An app declares its kinds in its ``job_kinds``
module (found at start-up, like ``sheet_kinds``) with ``@job_kind``:

``run(job_run)``
    the work, in a worker: reads ``job_run.params``/``job_run.input_path()``, reports
    ``job_run.progress(...)``, writes its result files, returns the summary shown to the
    user — or ``SPLIT`` after ``job_run.split(parts)`` handed the work to part tasks;
``part(job_run, payload)``
    one part of a split job, run in one transaction with its ``JobPart`` row: returns
    ``(done, counts)``;
``finish(job_run)``
    the summary of a split job once every part is done (``job.done``/``job.counts`` hold
    the parts' sums).

``unit`` names what its progress counts (行, 件; default 项), read in the rate the job's
page shows while it runs (每秒 N 行).

A kind whose files or page panel hold personal data declares it (docs/jobs.md §个人信息):
``personal_data(job)`` names the masking-rule fields they hold as the job's author reads
them (``{"document_number", "phone"}``); ``mask_details(job, request)`` gives the panel's
``job.details`` as another viewer may read them. A viewer who does not read those fields
in full downloads none of the job's files and sees the masked details (no panel when the
kind has no ``mask_details``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

SPLIT = object()  # returned by ``run`` when part tasks carry on the work


@dataclass(frozen=True)
class JobKind:
    code: str
    label: str
    run: Callable
    part: Callable | None = None
    finish: Callable | None = None
    count_labels: dict[str, str] = field(default_factory=dict)  # counts key → 中文
    panel: str = ""  # template of the kind's own part of the job page (e.g. an import's preview)
    # the masking-rule fields the job's files and panel hold (None: no personal data)
    personal_data: Callable | None = None
    # (job, request) → the panel's details masked for the request's user (None: no panel)
    mask_details: Callable | None = None
    unit: str = "项"  # what ``done`` counts, read in the rate (每秒 N 行)

    def count_label(self, key: str) -> str:
        return self.count_labels.get(key, key)


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    taken = _KINDS.get(kind.code)
    if taken is not None and taken.run is not kind.run:
        raise ImproperlyConfigured(f"任务类型 {kind.code} 已由 {taken.run.__module__} 登记，"
                                   f"{kind.run.__module__} 不能再登记")
    _KINDS[kind.code] = kind
    return kind


def job_kind(code: str, label: str, *, count_labels: dict[str, str] | None = None, panel: str = "",
             personal_data: Callable | None = None, mask_details: Callable | None = None, unit: str = "项"):
    """Register the decorated function as the ``run`` of the kind ``code``; ``part`` and
    ``finish`` are attached with ``@<function>.part`` / ``@<function>.finish``."""

    def decorate(run: Callable) -> Callable:
        state = {"part": None, "finish": None}

        def kind() -> JobKind:
            return JobKind(code, label, run, state["part"], state["finish"], dict(count_labels or {}), panel,
                           personal_data, mask_details, unit)

        def attach(name):
            def setter(function):
                state[name] = function
                register(kind())
                return function
            return setter

        run.part = attach("part")
        run.finish = attach("finish")
        register(kind())
        return run

    return decorate


def get_kind(code: str) -> JobKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise ImproperlyConfigured(f"未登记的任务类型：{code}") from None


def kind_label(code: str) -> str:
    kind = _KINDS.get(code)
    return kind.label if kind is not None else "（已停用的任务类型）"


def all_kinds() -> list[JobKind]:
    return sorted(_KINDS.values(), key=lambda k: k.label)
