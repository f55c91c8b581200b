"""Policy services (writes; spec README §5 "Parameters are rows").

``policies_load`` loads the seed systems' fixtures (``docs/policy-fixtures.md``);
``plan_year_rollover`` copies a plan year into the next year's draft. Both are atomic:
on any error nothing is written and a Chinese message names what is wrong.
"""
from __future__ import annotations

from django.db import transaction

from . import fixture_files, loading, rollover
from .errors import PlanYearRolloverError, PolicyFixtureError
from .loading import LoadReport
from .models import PlanYear

__all__ = ["policies_load", "plan_year_rollover", "PolicyFixtureError", "PlanYearRolloverError"]


def policies_load(*, path_or_data=None, region_code: str | None = None,
                  acting_user=None) -> LoadReport:
    """Upsert the policy fixtures by natural keys and report what changed.

    ``path_or_data``: ``None`` for the project's ``fixtures/`` directory, another
    directory laid out the same way, one JSON file, or parsed document(s) (dict / list).
    ``region_code`` loads the code tables and that region's system only. Re-running
    with the same files changes nothing (every row is reported unchanged).
    Raises ``PolicyFixtureError`` (naming file, table and row) and writes nothing.
    """
    documents = fixture_files.collect_documents(path_or_data, region_code=region_code)
    with transaction.atomic():
        return loading.load_documents(documents, acting_user=acting_user)


def plan_year_rollover(*, region_code: str, kind: str, from_year: int, to_year: int,
                       acting_user=None) -> PlanYear:
    """Copy a scheme's ``from_year`` plan year with all its rows into a new ``to_year``
    draft (dates shifted by the difference in years). Refuses an existing target.
    Raises ``PlanYearRolloverError`` and writes nothing on failure."""
    with transaction.atomic():
        return rollover.copy_plan_year(region_code=str(region_code), kind=kind,
                                       from_year=int(from_year), to_year=int(to_year),
                                       acting_user=acting_user)
