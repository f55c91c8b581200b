"""Shared pytest fixtures."""
import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the Django ORM calls made
# by the test itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def loaded_policies(db):
    """The five seed systems' 2024 plan years, loaded with ``load_policies``."""
    from django.core.management import call_command

    call_command("load_policies", verbosity=0)
