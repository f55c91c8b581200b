"""The ``--user USERNAME`` option of the import/export commands: the acting user (their
permissions and regions are checked, and they are recorded in the history), or None for a
system job. Shared by ``run_job``, ``import_sheet``/``export_sheet`` and the plan-year
commands of ``policies`` (here, in the lowest app that has commands)."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def find_user(username):
    if not username:
        return None
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"用户“{username}”不存在") from None
