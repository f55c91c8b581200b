"""What the audit page needs from apps above it. The audit app sits below ``sheets`` and
``policies`` in the import layers, so they register these at start-up (as ``policies``
registers the regions' scope with ``jobs``):

``register_table_writer(writer)`` — ``sheets`` (``SheetsConfig.ready``)
    ``writer(target, headers, rows, *, fmt, title)``: the one writer of every workbook the
    product writes (``sheets.writers.write_table``: typed cells, formulas escaped), used by
    the page's export;
``register_full_numbers_check(check)`` — ``policies`` (``PoliciesConfig.ready``)
    ``check(user)``: whether ``user`` reads identity numbers in full (the masking rules);
    the page shows searched numbers in full only to them. Until registered: superusers.
"""
from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_writer: Callable | None = None
_full_numbers: Callable = lambda user: bool(user.is_active and user.is_superuser)  # noqa: E731


def register_table_writer(writer: Callable) -> None:
    global _writer
    _writer = writer


def table_writer() -> Callable:
    if _writer is None:
        raise ImproperlyConfigured("No table writer registered: is the sheets app installed?")
    return _writer


def register_full_numbers_check(check: Callable) -> None:
    global _full_numbers
    _full_numbers = check


def reads_full_numbers(user) -> bool:
    return bool(_full_numbers(user))
