"""The admin site: Django's, with each user's list of apps and models remembered.

Every admin page builds the navigation (the side bar, and the index's list) from
``AdminSite._build_app_dict``: for each of the 60-odd registered models it asks the model
admin's ``has_module_permission`` and ``get_model_perms`` and reverses two URLs — about a
sixth of a list page's time, the same on every page of the same user.

Those model-level answers (``obj=None``) depend on the user alone: active, staff and
superuser flags, permissions (with the groups' ones), bound regions and whether they are
every region (``policies.access``); no model admin of the project reads anything else of
the request for them (tests/test_admin_site.py compares the remembered list with a fresh one
for every role). So the built dictionary is remembered per process under exactly those
values and the language: a change of a user's groups, permissions or regions is a new key,
never a stale answer. The cache holds at most ``CACHE_SIZE`` entries (least recently used
dropped); each hit returns a copy the caller may sort or change.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils import translation

CACHE_SIZE = 512


class SiteAdminConfig(AdminConfig):
    """``django.contrib.admin`` (in INSTALLED_APPS) with the project's site as ``admin.site``."""

    default_site = "policies.admin_site.AppListCachingAdminSite"


class AppListCachingAdminSite(admin.AdminSite):
    """``admin.site`` of the project (``SiteAdminConfig``)."""

    def __init__(self, name="admin"):
        super().__init__(name)
        self._app_dicts: OrderedDict = OrderedDict()
        self._app_dicts_lock = threading.Lock()

    def app_list_key(self, request, label=None):
        """The values the model admins' model-level permission answers depend on."""
        from .access import user_has_national_scope, user_region_ids

        user = request.user
        if not getattr(user, "is_authenticated", False):
            return None
        perms = "*" if user.is_active and user.is_superuser else frozenset(user.get_all_permissions())
        return (label, translation.get_language(), user.pk, user.is_active, user.is_staff,
                user.is_superuser, perms, user_region_ids(user), user_has_national_scope(user))

    def _build_app_dict(self, request, label=None):
        key = self.app_list_key(request, label)
        if key is None:
            return super()._build_app_dict(request, label)
        with self._app_dicts_lock:
            cached = self._app_dicts.get(key)
            if cached is not None:
                self._app_dicts.move_to_end(key)
        if cached is None:
            cached = super()._build_app_dict(request, label)
            with self._app_dicts_lock:
                self._app_dicts[key] = cached
                while len(self._app_dicts) > CACHE_SIZE:
                    self._app_dicts.popitem(last=False)
        return _copy(cached)

    def clear_app_list_cache(self) -> None:
        with self._app_dicts_lock:
            self._app_dicts.clear()


def _copy(app_dict: dict) -> dict:
    """A copy deep enough for the callers: ``get_app_list`` sorts each app's models."""
    return {label: {**app, "models": [{**model, "perms": dict(model["perms"])} for model in app["models"]]}
            for label, app in app_dict.items()}
