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
"""
from __future__ import annotations

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
