"""Writes and checks of the audit log (docs/security.md §审计日志).

``audit_record`` appends an entry in the caller's transaction (an act rolled back leaves
no entry). It locks the chain head, so appends are serialised and the chain stays linear
on PostgreSQL; call it at the end of a transaction, not before long work. It works without
a request (commands, workers): the user is then the ``user`` given (or none: 系统).
Inside ``audit_command(name)`` (the commands that read or write personal data or accounts)
every entry also names the command and the operating-system user who ran it, and an entry
without a user is that OS user's (``root（命令行）``).
"""
from __future__ import annotations

import getpass
import ipaddress
import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import GENESIS_HASH, Action, AuditAnchor, AuditChainHead, AuditEntry

RETENTION_DAYS = 180  # 等保三级: audit records are kept at least 6 months
SECRET_PARAMETERS = {"csrfmiddlewaretoken", "password", "password1", "password2", "token", "otp_token"}


_command: ContextVar = ContextVar("audit_command", default=None)


def os_username() -> str:
    """The operating-system user running this process (empty when it has none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no such user in the password database, no login name
        return ""


def command_username(os_user: str | None = None) -> str:
    """How an entry names an OS user who ran a command without ``--user``."""
    name = os_username() if os_user is None else os_user
    return f"{name or '未知'}（命令行）"


@contextmanager
def audit_command(name: str):
    """Within the block (a management command's work), entries say which command ran
    (``name``: what it does, in Chinese, e.g. 命令行导出表格) and which OS user ran it
    (details ``command``, ``os_user``); an entry without a user is recorded under
    ``command_username()``."""
    token = _command.set(name)
    try:
        yield
    finally:
        _command.reset(token)


def _floats_as_text(value):
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _floats_as_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_floats_as_text(v) for v in value]
    return value


def _plain(details) -> dict:
    """``details`` as it reads back from the database (dates, decimals and floats → text,
    so that a stored jsonb value reads back exactly as it was hashed)."""
    return json.loads(json.dumps(_floats_as_text(details or {}), cls=DjangoJSONEncoder, ensure_ascii=False))


def request_filters(request) -> dict:
    """The query string of ``request`` (filters, search, ordering) without secrets."""
    if request is None:
        return {}
    return {key: (values[0] if len(values) == 1 else values) for key, values in request.GET.lists()
            if key.lower() not in SECRET_PARAMETERS}


def client_ip(request) -> str:
    """The client's address as django-axes resolved it (proxy settings), else REMOTE_ADDR."""
    if request is None:
        return ""
    candidate = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(str(candidate).strip()))
    except ValueError:
        return ""


def _user_of(user, request):
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        return None
    return user


def describe(obj) -> tuple[str, str, str]:
    """(model, id, text) of ``obj``: a model instance, a model class, or text."""
    if obj is None:
        return "", "", ""
    meta = getattr(obj, "_meta", None)
    if meta is None:
        return "", "", str(obj)[:200]
    model = f"{meta.app_label}.{meta.model_name}"
    if isinstance(obj, type):
        return model, "", str(meta.verbose_name_plural)[:200]
    return model, "" if obj.pk is None else str(obj.pk)[:64], str(obj)[:200]


def _head_for_update() -> AuditChainHead | None:
    """The chain head row locked (``SELECT … FOR UPDATE``; in a transaction, as every
    caller is), by a statement whose text is built once per process (a queryset's
    compilation cost more than the statement), or None when it is not there yet."""
    meta = AuditChainHead._meta
    sql = _HEAD_SQL.get(connection.alias)
    if sql is None:
        qn = connection.ops.quote_name
        sql = _HEAD_SQL[connection.alias] = (
            f"SELECT {', '.join(qn(f.column) for f in meta.concrete_fields)} FROM {qn(meta.db_table)} "
            f"WHERE {qn(meta.pk.column)} = 1" + (" FOR UPDATE" if connection.features.has_select_for_update else ""))
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return None if row is None else AuditChainHead.from_db(connection.alias, _HEAD_NAMES, row)


_HEAD_SQL: dict[str, str] = {}
_HEAD_NAMES = [f.attname for f in AuditChainHead._meta.concrete_fields]


def _locked_head() -> AuditChainHead:
    head = _head_for_update()
    if head is None:
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(pk=1)
        except IntegrityError:
            pass  # created by a concurrent append
        head = _head_for_update()
    return head


def audit_record(*, action: str, user=None, request=None, obj=None, details=None,
                 username: str = "") -> AuditEntry:
    """Append an entry: ``action`` (an ``Action``), who (``user``, else ``request.user``;
    ``username`` for a failed login's typed name), from where (``request``), on what
    (``obj``: a model instance or class, or text) and ``details`` (JSON: filters, row
    counts, file names…).

    In the caller's transaction without a savepoint of its own (three statements: lock
    the head, insert, move the head — a settlement's audit entry cost five with the
    savepoint's two): a failure here fails the caller's transaction, which is what an
    act that cannot be audited must do; outside a transaction it is its own."""
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    with transaction.atomic(savepoint=False):
        return _append(action=action, user=user, request=request, obj=obj, details=details,
                       username=username)


def _append(*, action: str, user, request, obj, details, username: str) -> AuditEntry:
    user = _user_of(user, request)
    command = _command.get() if request is None else None
    if command is not None:
        os_user = os_username()
        details = {**(details or {}), "command": command, "os_user": os_user}
        if user is None and not username:
            username = command_username(os_user)
    model, object_id, text = describe(obj)
    head = _locked_head()
    entry = AuditEntry(
        seq=head.last_seq + 1, at=timezone.now(), user_id=getattr(user, "pk", None),
        username=(user.get_username() if user is not None else username)[:150],
        ip_address=client_ip(request), action=action, object_type=model, object_id=object_id,
        object_repr=text, details=_plain(details), previous_hash=head.last_hash)
    entry.hash = entry.compute_hash()
    if connection.vendor == "postgresql":
        _insert_and_move_head(entry)
    else:  # SQLite: no INSERT inside a WITH
        entry.save()
        AuditChainHead.objects.filter(pk=1).update(last_seq=entry.seq, last_hash=entry.hash)
    return entry


_ENTRY_FIELDS = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
_APPEND_SQL: dict[str, str] = {}


def _insert_and_move_head(entry: AuditEntry) -> None:
    """PostgreSQL: the entry's INSERT and the move of the chain head (locked by
    ``_locked_head``) in one statement — a data-modifying ``WITH`` — instead of two; the
    entry is then a saved instance as ``save()`` leaves it. Its text is built once per
    process (and database)."""
    sql = _APPEND_SQL.get(connection.alias)
    if sql is None:
        qn = connection.ops.quote_name
        head = AuditChainHead._meta
        sql = _APPEND_SQL[connection.alias] = (
            f"WITH entry AS (INSERT INTO {qn(AuditEntry._meta.db_table)} "
            f"({', '.join(qn(f.column) for f in _ENTRY_FIELDS)}) "
            f"VALUES ({', '.join(['%s'] * len(_ENTRY_FIELDS))}) "
            f"RETURNING {qn(AuditEntry._meta.pk.column)} AS id, seq, hash) "
            f"UPDATE {qn(head.db_table)} SET {qn(head.get_field('last_seq').column)} = entry.seq, "
            f"{qn(head.get_field('last_hash').column)} = entry.hash FROM entry "
            f"WHERE {qn(head.db_table)}.{qn(head.pk.column)} = 1 RETURNING entry.id")
    params = [f.get_db_prep_save(f.pre_save(entry, True), connection) for f in _ENTRY_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # the head row is always there (``_locked_head`` created it)
        raise IntegrityError("audit chain head missing")
    entry.pk = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Verification:
    checked: int
    problem: str = ""  # empty: the chain is intact
    seq: int | None = None  # the first entry found broken

    @property
    def ok(self) -> bool:
        return not self.problem


def audit_verify() -> Verification:
    """Walk the chain from its anchor: every entry's hash is recomputed and must link to
    the one before it, numbers run without gaps, and the head names the last entry."""
    anchor = AuditAnchor.objects.order_by("-pruned_through_seq").first()
    expected_hash = anchor.hash if anchor else GENESIS_HASH
    expected_seq = anchor.pruned_through_seq + 1 if anchor else 1
    checked = 0
    anchor_recorded = anchor is None
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return Verification(checked, f"缺少第 {expected_seq} 条（下一条为第 {entry.seq} 条）：记录被删除",
                                expected_seq)
        if entry.previous_hash != expected_hash:
            return Verification(checked, f"第 {entry.seq} 条记录的“上一条的哈希值”与第 {entry.seq - 1} 条不符："
                                         "链条断开", entry.seq)
        if entry.compute_hash() != entry.hash:
            return Verification(checked, f"第 {entry.seq} 条记录的内容与其哈希值不符：记录被篡改", entry.seq)
        if (not anchor_recorded and entry.action == Action.AUDIT_PRUNE
                and entry.details.get("anchor_hash") == anchor.hash):
            anchor_recorded = True
        expected_hash, expected_seq = entry.hash, entry.seq + 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is not None and (head.last_seq, head.last_hash) != (last_seq, expected_hash):
        return Verification(checked, f"链尾记录为第 {head.last_seq} 条，但最后一条记录是第 {last_seq} 条：记录被删除或篡改",
                            last_seq + 1)
    if not anchor_recorded:
        return Verification(checked, f"清理记录（已清理至第 {anchor.pruned_through_seq} 条）在日志中没有对应的"
                                     "“清理审计日志”记录：清理记录被篡改", anchor.pruned_through_seq + 1)
    return Verification(checked)


# --------------------------------------------------------------------------- prune


@transaction.atomic
def audit_prune(*, before, acting_user=None) -> int:
    """Delete the entries recorded before ``before`` (a date), never one younger than
    ``RETENTION_DAYS``; the hash of the last deleted entry becomes the anchor of the kept
    chain, and the prune itself is recorded. Returns the number of deleted entries."""
    today = timezone.localdate()
    limit = today - timedelta(days=RETENTION_DAYS)
    if before > limit:
        raise ValidationError(f"审计日志至少保存 {RETENTION_DAYS} 天：清理日期不能晚于 {limit.isoformat()}"
                              f"（您输入的是 {before.isoformat()}）")
    _locked_head()  # no append while the chain is cut
    cutoff = timezone.make_aware(datetime.combine(before, time.min))
    old = AuditEntry.objects.filter(at__lt=cutoff).order_by("-seq")
    last = old.first()
    if last is None:
        return 0
    # entries are numbered in time order: delete the chain's start up to ``last``
    doomed = AuditEntry.objects.filter(seq__lte=last.seq)
    if doomed.filter(at__gte=cutoff).exists():
        raise ValidationError(f"第 {last.seq} 条之前有晚于 {before.isoformat()} 的记录，不能只清理链条的一部分")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL audit.prune = 'on'")
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq <= %s", [last.seq])  # noqa: S608
        deleted = cursor.rowcount
    AuditAnchor(pruned_through_seq=last.seq, hash=last.hash,
                username=acting_user.get_username() if acting_user is not None else "").save()
    audit_record(action=Action.AUDIT_PRUNE, user=acting_user,
                 details={"before": before.isoformat(), "deleted": deleted, "pruned_through_seq": last.seq,
                          "anchor_hash": last.hash})
    return deleted
