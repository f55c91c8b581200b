"""Policy services (writes; spec README §5 "Parameters are rows").

``policies_load`` loads the seed systems' fixtures (``docs/policy-fixtures.md``);
``plan_year_rollover`` copies a plan year into the next year's draft;
``plan_year_import_sheets`` imports a plan-year workbook into a draft
(``docs/policy-sheets.md``). All are atomic: on any error nothing is written and a
Chinese message names what is wrong.
"""
from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction

from audit.models import Action
from audit.services import audit_record

from . import fixture_files, loading, rollover, rule_sheets
from .access import user_can_access
from .errors import PlanYearRolloverError, PolicyFixtureError
from .loading import LoadReport
from .models import PlanYear
from .rule_sheets import SheetImportResult

__all__ = ["policies_load", "plan_year_rollover", "plan_year_import_sheets", "PolicyFixtureError",
           "PlanYearRolloverError"]


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
        draft = rollover.copy_plan_year(region_code=str(region_code), kind=kind,
                                        from_year=int(from_year), to_year=int(to_year),
                                        acting_user=acting_user)
        audit_record(action=Action.PARAMETER_CHANGE, user=acting_user, obj=draft,
                     details={"operation": f"由 {from_year} 年度复制为新年度草稿"})
        return draft


def plan_year_import_sheets(*, plan_year: PlanYear, path, acting_user, dry_run: bool = False,
                            name: str | None = None) -> SheetImportResult:
    """Upsert a plan-year workbook (one sheet per rule table) into ``plan_year``, which
    must be a draft (spec README §2), all-or-nothing (§6): every bad row is reported in
    the result with sheet, row, column and a Chinese message, and nothing is written when
    there is any error or ``dry_run``. ``acting_user``: needs ``policies.change_planyear``
    and the plan year's region (``PermissionDenied`` otherwise), recorded in the history;
    ``None`` = a system job (no check)."""
    if acting_user is not None and (
            not acting_user.has_perm("policies.change_planyear")
            or not user_can_access(acting_user, plan_year, "scheme__region")):
        raise PermissionDenied(f"您无权导入年度方案“{plan_year}”的参数表")
    result = SheetImportResult(plan_year=plan_year, file_name=name or Path(path).name,
                               dry_run=dry_run)
    with transaction.atomic():
        locked = (PlanYear.objects.select_for_update(of=("self",)).select_related("scheme__region")
                  .get(pk=plan_year.pk))
        result.plan_year = locked
        rule_sheets.import_workbook(locked, path, acting_user=acting_user, result=result)
        if result.errors or dry_run:
            transaction.set_rollback(True)
        else:
            result.written = True
            audit_record(action=Action.IMPORT, user=acting_user, obj=locked,
                         details={"file": result.file_name, "result": result.summary()})
    return result
