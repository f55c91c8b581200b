"""The regions a user may see, as the generic layers ask for them (docs/spreadsheets.md
§范围, docs/jobs.md). ``jobs`` and ``sheets`` know nothing of regions' models or staff
profiles: the app that owns them registers a provider at start-up (``policies``:
``PoliciesConfig.ready`` registers ``policies.access.RegionScope``); the job lists, the
import context, the export titles and ``export_sheet --region`` ask it:

``sees_all(user)``
    True when ``user`` is not restricted at all (a superuser);
``region_ids(user)``
    the ids of the regions ``user`` may see (with their sub-regions);
``describe(user)``
    the regions of ``user``'s exports in words (垫江县; 全部统筹区 for ``None``);
``region(code)``
    the region of a code (``export_sheet --region``), or None.

The personal data a user reads in full comes the same way: ``policies`` registers its
masking rule (``register_full_view_check(policies.masking.shows_full)``) and the job
pages ask ``reads_in_full(user, fields)`` before showing another user's job's files and
preview (docs/jobs.md §个人信息).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured


class Scope(Protocol):
    def sees_all(self, user) -> bool: ...

    def region_ids(self, user) -> frozenset: ...

    def describe(self, user) -> str: ...

    def region(self, code: str) -> Any | None: ...


_provider: Scope | None = None


def register_scope(provider: Scope) -> None:
    """Make ``provider`` the scope of every import and export (one per project)."""
    global _provider
    _provider = provider


def current_scope() -> Scope:
    if _provider is None:
        raise ImproperlyConfigured("没有登记数据范围（jobs.scope.register_scope）")
    return _provider


# until ``policies`` registers its rule: only a superuser reads personal data in full
_full_view: Callable = lambda user, field: bool(user.is_active and user.is_superuser)  # noqa: E731


def register_full_view_check(check: Callable) -> None:
    """``check(user, field)``: whether ``user`` reads ``field`` (证件号码 ``document_number``,
    ``phone``, ``bank_account``, ``birth_date``, ``name``) in full."""
    global _full_view
    _full_view = check


def reads_in_full(user, fields: Iterable[str]) -> bool:
    """Whether ``user`` reads every one of ``fields`` in full."""
    return all(_full_view(user, field) for field in fields)
