"""Staff roles as Django groups (docs/access.md §角色), created and synchronised by
``roles_sync()``.

Each role is a list of permission patterns ``"<app_label>.<codename glob>"`` matched
against the permissions that exist *now*. Apps whose models are written later
(enrollment, claims) are picked up by re-running ``roles_sync()`` — it is called by
``manage.py sync_roles`` and by ``manage.py load_demo``; it is idempotent and the
code is the source of truth: a group's permissions are *set* to the computed list
(a permission added by hand to a role group is removed at the next sync; give extra
rights to a user directly instead).

Simple-history's ``historical*`` models are never granted: history pages are guarded
by the permissions of the model itself.

Approval permissions: the enrollment and claims apps name their custom approval
permissions ``approve_*`` / ``review_*`` / ``reject_*`` / ``settle_*`` (e.g.
``claims.approve_claim``) so that 审核员 picks them up. Claims add ``claims.settle_claim``
(also granted to 经办员, who settles the claims they enter) and ``claims.reverse_claim``
(冲正; 审核员 only); ``claims.pay_claim`` (支付, 登记追回) is 基金财务's only: a claim is paid
by a success line of the bank's returned file.

Payment batches (docs/money.md §支付批次与银行回盘): 审核员 generates them from the claims
they approved (``finance.add_paymentbatch``); 基金财务 exports the bank file and imports
the bank's returned file — two roles, and the ``DutySeparation`` row refuses the import to
whoever generated the batch even if one person holds both.
"""
from __future__ import annotations

from collections import defaultdict
from fnmatch import fnmatchcase
from functools import lru_cache

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from audit.models import Action
from audit.services import audit_record

CLERK = "经办员"
REVIEWER = "审核员"
POLICY_OFFICER = "政策管理员"
SUPERVISOR = "只读/监管"
AUDITOR = "审计员"
FUND_FINANCE = "基金财务"

CASE_APPS = ("enrollment", "claims")
APPROVAL_VERBS = ("approve", "review", "reject", "settle")

# 对账 pages (finance: runs, differences and their notes, monthly status): read
RECONCILIATION = ("finance.view_*reconciliation*", "finance.view_differencenote")

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # 经办员: enters cases — persons, enrollments, payments, registrations, claims —
    # reads the parameters; sees full ID numbers (needs them to identify people).
    CLERK: [
        *(f"{app}.{verb}_*" for app in CASE_APPS for verb in ("add", "change", "view")),
        "claims.settle_*",  # the clerk who enters a claim settles it; 审核员 approves
        "enrollment.import_*",  # 表格导入 of persons and payments (docs/spreadsheets.md)
        "claims.import_*",  # 表格导入 of hospitals and settlement sheets (docs/spreadsheets.md)
        # 年度清算 (docs/money.md): the clerk prepares the statement, a reviewer signs it
        "finance.view_yearend*", "finance.prepare_yearendstatement",
        "policies.view_*",
        "policies.view_full_identity",
    ],
    # 审核员: approves — reads everything of the cases, changes claims and
    # registrations, holds the approval permissions; sees full ID numbers (checks the
    # evidence documents against the person).
    REVIEWER: [
        *(f"{app}.view_*" for app in CASE_APPS),
        "claims.change_*",
        "enrollment.change_*registration*",
        *(f"{app}.{verb}_*" for app in CASE_APPS for verb in APPROVAL_VERBS),
        "claims.reverse_claim",  # 冲正 of an approved or paid claim (docs/money.md)
        "ledger.view_*",  # 记账凭证, 基金余额表 (docs/money.md)
        "finance.view_yearend*", "finance.sign_yearendstatement",  # 签认年度清算表 (docs/money.md)
        # 对账 (docs/money.md §对账): imports the tax bureau's and hospitals' files and
        # resolves the differences — a checking act, not an entry: the corrections
        # themselves (a missing payment, a re-settlement) go through the clerk's pages
        *RECONCILIATION,
        "finance.import_reconciliation",
        "finance.resolve_reconciliation",
        "finance.add_paymentbatch",  # 生成支付批次 of the approved claims
        "finance.view_payment*",
        "jobs.view_job",  # 全部任务 of their regions (docs/jobs.md)
        "policies.view_*",
        "policies.view_full_identity",
    ],
    # 政策管理员: edits every parameter table of the policies app (not the regions nor
    # the staff profiles: region structure and binding staff to regions decide who sees
    # whom, the superuser's job); no personal data.
    POLICY_OFFICER: [
        *(f"policies.{verb}_*" for verb in ("add", "change", "delete", "view")),
        "finance.*_yearendexpense",  # 年度清算经营费用 rows (docs/money.md §年度清算)
        "reports.view_*",  # 统计报表 dashboard (docs/reports.md); freezes the participation rate
    ],
    # 只读/监管: views everything, masked identity numbers.
    SUPERVISOR: [
        *(f"{app}.view_*" for app in ("policies", *CASE_APPS)),
        "ledger.view_*",  # 记账凭证, 基金余额表 (docs/money.md)
        "finance.view_yearend*",  # 年度清算表 and its expense rows (docs/money.md)
        "reports.view_*",  # 统计报表 dashboard (docs/reports.md)
        *RECONCILIATION,  # reads the runs, differences and monthly status (masked numbers)
        "jobs.view_job",  # 全部任务 of their regions (docs/jobs.md)
    ],
    # 基金财务: sends the payment batches to the bank and imports the bank's returned
    # files (the success lines pay the claims: claims.pay_claim); reads the cases.
    FUND_FINANCE: [
        "finance.view_payment*",
        "finance.export_paymentbatch",
        "finance.import_bank_return",
        "finance.change_paymentbatch",  # 作废 a draft batch
        "claims.pay_claim",
        "ledger.view_*",  # 记账凭证, 基金余额表 (docs/money.md)
        *(f"{app}.view_*" for app in CASE_APPS),
        # no jobs.view_job: 全部任务 is for 审核员 and 只读/监管 (docs/jobs.md); 我的任务 is enough
        "policies.view_*",
    ],
    # 审计员: reads and exports the audit log (docs/security.md §审计日志), nothing else —
    # the only role that sees it (superusers too).
    AUDITOR: [
        "audit.view_auditentry",
        "audit.export_auditentry",
    ],
}

# The masking rows each role starts with (policies.MaskingRule; created by roles_sync when
# missing, never overwritten: superusers edit them in the admin). (mode, keep head, tail)
_MASKED = {"document_number": ("partial", 6, 4), "phone": ("partial", 3, 4),
           "bank_account": ("partial", 6, 4), "birth_date": ("partial", 4, 0)}  # birth: the year
_FULL = dict.fromkeys(_MASKED, ("full", 0, 0))
# 姓名: every role sees names in full (staff need them to work); a bureau may set a role to
# 部分遮盖 (keep_head 1: 张三 → 张*, policies.masking.mask_name) or 完全隐藏
_NAME = {"name": ("full", 1, 0)}
ROLE_MASKING = {CLERK: {**_FULL, **_NAME}, REVIEWER: {**_FULL, **_NAME}, POLICY_OFFICER: {**_MASKED, **_NAME},
                SUPERVISOR: {**_MASKED, **_NAME}, AUDITOR: {**_MASKED, **_NAME},
                FUND_FINANCE: {**_MASKED, **_NAME}, None: {**_MASKED, **_NAME}}  # None: users without a role row

# Never granted to a role, whatever the pattern.
EXCLUDED_PATTERNS = [
    "*.*_historical*",
    "policies.*_staffprofile",  # binding staff to regions: superusers only
    # region structure (a region's parent widens every scope under it): superusers only
    "policies.add_region", "policies.change_region", "policies.delete_region",
    # who sees which personal data in full: superusers only
    "policies.add_maskingrule", "policies.change_maskingrule", "policies.delete_maskingrule",
    # which duties one person may combine (岗位分离): superusers only
    "policies.add_dutyseparation", "policies.change_dutyseparation",
    "policies.delete_dutyseparation",
]
# view_full_identity and the audit log only where a role names them explicitly.
EXPLICIT_ONLY = {"policies.view_full_identity", "audit.view_auditentry", "audit.export_auditentry"}


def _key(permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def role_permissions(role: str) -> list[Permission]:
    """The existing permissions that ``role`` is granted."""
    available = list(Permission.objects.select_related("content_type"))
    keys = [_key(perm) for perm in available]
    chosen = _chosen_keys(role, frozenset(keys))
    return [perm for perm, key in zip(available, keys, strict=True) if key in chosen]


@lru_cache(maxsize=32)
def _chosen_keys(role: str, keys: frozenset[str]) -> frozenset[str]:
    """The ``app_label.codename`` keys among ``keys`` that ``role``'s patterns grant
    (the same keys give the same answer: computed once per process)."""
    patterns = ROLE_PERMISSIONS[role]
    chosen = set()
    for key in keys:
        if any(fnmatchcase(key, p) for p in EXCLUDED_PATTERNS):
            continue
        if key in EXPLICIT_ONLY:
            if key in patterns:
                chosen.add(key)
            continue
        if any(fnmatchcase(key, p) for p in patterns):
            chosen.add(key)
    return frozenset(chosen)


@transaction.atomic
def roles_sync(*, acting_user=None) -> dict[str, int]:
    """Create the role groups if missing and set their permissions (a change is audited).

    Returns ``{group name: number of permissions}``. ``acting_user`` (None from the
    commands) is the user of the audit entry written when a role was created or its
    permissions changed (group changes are not history-tracked). Each kind of row is
    read once and written in one statement (a test creating a staff account runs this
    on an empty database: 6 groups, ≈ 700 permission links, 35 masking rows).
    """
    available = [(pk, f"{app}.{codename}") for pk, app, codename
                 in Permission.objects.values_list("pk", "content_type__app_label", "codename")]
    keys = frozenset(key for _pk, key in available)
    groups = _role_groups()
    held = defaultdict(set)  # what each role group holds now, read in one query
    links = Group.permissions.through.objects
    for group_id, permission_id in links.filter(group__in=groups.values()).values_list("group_id", "permission_id"):
        held[group_id].add(permission_id)
    report, changed, to_set = {}, [], {}
    for role, group in groups.items():
        chosen = _chosen_keys(role, keys)
        wanted = {pk for pk, key in available if key in chosen}
        if held[group.pk] != wanted:
            changed.append(role)
            to_set[group.pk] = wanted
        report[role] = len(wanted)
    _set_permissions(to_set, held)
    if changed:
        audit_record(action=Action.PERMISSION_CHANGE, user=acting_user, obj=Group,
                     details={"operation": "角色同步", "roles": {r: report[r] for r in changed}})
    _ensure_masking_rules()
    from .duties import ensure_default_rows

    ensure_default_rows()
    return report


def _role_groups() -> dict[str, Group]:
    """The role groups in ``ROLE_PERMISSIONS`` order, the missing ones created (in that order)."""
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_PERMISSIONS)}
    missing = [Group(name=role) for role in ROLE_PERMISSIONS if role not in groups]
    if missing:
        Group.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent sync may create them too
        groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_PERMISSIONS)}
    return {role: groups[role] for role in ROLE_PERMISSIONS}


def _set_permissions(wanted: dict[int, set[int]], held: dict[int, set[int]]) -> None:
    """Each group of ``wanted`` (group id → permission ids) left holding exactly those:
    what ``group.permissions.set`` does for each, in one delete and one insert."""
    through = Group.permissions.through
    stale = Q()
    for group_id, permission_ids in wanted.items():
        if held[group_id] - permission_ids:
            stale |= Q(group_id=group_id, permission_id__in=held[group_id] - permission_ids)
    if stale:
        through.objects.filter(stale).delete()
    through.objects.bulk_create([through(group_id=group_id, permission_id=pk)
                                 for group_id, permission_ids in wanted.items()
                                 for pk in sorted(permission_ids - held[group_id])])


def _ensure_masking_rules() -> None:
    from .history import create_with_history
    from .models import MaskingRule

    groups = {g.name: g for g in Group.objects.filter(name__in=[r for r in ROLE_MASKING if r])}
    present = set(MaskingRule.objects.values_list("group_id", "field"))  # one read, then only what is missing
    missing = []
    for role, fields in ROLE_MASKING.items():
        group = groups.get(role) if role else None
        for field, (mode, head, tail) in fields.items():
            if (getattr(group, "pk", None), field) not in present:
                missing.append(MaskingRule(group=group, field=field, mode=mode, keep_head=head, keep_tail=tail))
    create_with_history(MaskingRule, missing)
