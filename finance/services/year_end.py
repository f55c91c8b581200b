"""Writes of 年度清算 (docs/money.md §年度清算): ``statement_prepare`` (编制: the draft of a
commercial fund's year, computed from the ledger, the claims and the rows — recomputed at
each call while it is a draft), ``statement_sign`` (签认 by someone other than who
prepared it; the figures must still be what the ledger says; then frozen) and
``statement_reopen`` (重新清算: a signed year gets a new draft version, the signed one
stays as it was).

The signer ≠ preparer rule is checked here and by a database constraint; it is not a
``policies.DutySeparation`` row (adding that act would need a policies migration) and
cannot be relaxed. On PostgreSQL a trigger refuses any change to a signed statement or
its lines (migration ``finance`` year_end); on SQLite only these services and the
read-only admin keep it.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from policies.access import user_can_access
from policies.models import Scheme

from ..models.year_end import COMMERCIAL_KINDS, YearEndLine, YearEndStatement
from ..selectors import year_end as selectors

PREPARE = "finance.prepare_yearendstatement"
SIGN = "finance.sign_yearendstatement"


def _check(acting_user, perm: str, scheme: Scheme) -> None:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionDenied("年度清算须由登录的工作人员办理")
    if not acting_user.has_perm(perm):
        raise PermissionDenied("您没有执行此操作的权限")
    if not user_can_access(acting_user, scheme, "region"):
        raise PermissionDenied("该险种不属于您负责的统筹区")


def _valid_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": "清算年度须为四位年份"}) from None
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "清算年度须在 2000–2100 之间"})
    return year


def _fill(statement: YearEndStatement, figures: selectors.Figures, acting_user) -> YearEndStatement:
    for name, value in figures.stored_values().items():
        setattr(statement, name, value)
    statement.prepared_by = acting_user
    statement.prepared_at = timezone.now()
    statement.full_clean(validate_unique=False, validate_constraints=False)
    statement.save()
    statement.lines.all().delete()
    YearEndLine.objects.bulk_create(
        YearEndLine(statement=statement, seq=seq, section=line.section, code=line.code,
                    label=line.label, amount=line.amount, count=line.count, note=line.note,
                    total=line.total)
        for seq, line in enumerate(figures.lines, 1))
    return statement


@transaction.atomic
def statement_prepare(*, scheme: Scheme, year, acting_user) -> YearEndStatement:
    """编制 (or re-编制) the draft statement of a commercial ``scheme`` and ``year``;
    refused once the year's latest version is signed (re-open it instead)."""
    if scheme.kind not in COMMERCIAL_KINDS:
        raise ValidationError({"scheme": f"“{scheme}”不是商业保险险种，不做年度清算"})
    year = _valid_year(year)
    _check(acting_user, PREPARE, scheme)
    Scheme.objects.select_for_update().filter(pk=scheme.pk).first()  # one 编制 of a fund at a time
    latest = selectors.latest_statement(scheme, year)
    if latest is not None and latest.is_signed:
        raise ValidationError(
            f"{scheme}{year}年度清算表（第{latest.version}版）已签认，数字已冻结；"
            "如需重新清算，请在该清算表上办理“重新清算”生成新版本", code="signed")
    statement = latest or YearEndStatement(scheme=scheme, year=year, version=1)
    return _fill(statement, selectors.statement_figures(scheme, year), acting_user)


@transaction.atomic
def statement_sign(*, statement: YearEndStatement, acting_user) -> YearEndStatement:
    """签认 a draft: by someone other than who prepared it, only while its figures are what
    the ledger and the rows say now, with the expenses entered and the claims agreeing
    with the ledger. Its figures are then frozen."""
    _check(acting_user, SIGN, statement.scheme)
    locked = (YearEndStatement.objects.select_for_update().select_related("scheme__region")
              .get(pk=statement.pk))
    if locked.is_signed:
        raise ValidationError("该清算表已签认，不能再次签认", code="signed")
    if locked.prepared_by_id == acting_user.pk:
        raise ValidationError("岗位分离：年度清算表的签认不能由编制该表的同一人员办理，请由其他人员签认",
                              code="duty_separation")
    figures = selectors.statement_figures(locked.scheme, locked.year)
    if selectors.differs_from_now(locked, figures):
        raise ValidationError("清算表编制后基金账务、理赔或参数已有变动，数字与当前不符；"
                              "请重新编制并核对后再签认", code="stale")
    if locked.expenses is None:
        raise ValidationError("经营费用未录入，不能签认：请在“年度清算经营费用”中录入后重新编制",
                              code="no_expenses")
    if not locked.check_agrees:
        raise ValidationError("赔付支出合计与基金账务待遇支出不一致，不能签认：请先运行基金账务核对查明原因",
                              code="ledger_differs")
    locked.status = YearEndStatement.Status.SIGNED
    locked.signed_by = acting_user
    locked.signed_at = timezone.now()
    locked.save(update_fields=["status", "signed_by", "signed_at"])
    audit_record(action=Action.REVIEW, user=acting_user, obj=locked,
                 details={"operation": "签认年度清算表", "版本": locked.version})
    return locked


@transaction.atomic
def statement_reopen(*, statement: YearEndStatement, acting_user, reason: str) -> YearEndStatement:
    """重新清算: a new draft version of a signed year (the latest version), computed now;
    the signed version stays unchanged."""
    _check(acting_user, PREPARE, statement.scheme)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reopen_reason": "请填写重新清算原因"})
    Scheme.objects.select_for_update().filter(pk=statement.scheme_id).first()
    latest = selectors.latest_statement(statement.scheme, statement.year)
    if latest.pk != statement.pk or not statement.is_signed:
        raise ValidationError("只能对该年度最新一版已签认的清算表办理重新清算", code="not_latest")
    new = YearEndStatement(scheme=statement.scheme, year=statement.year, version=statement.version + 1,
                           previous=statement, reopen_reason=reason[:200])
    return _fill(new, selectors.statement_figures(statement.scheme, statement.year), acting_user)
