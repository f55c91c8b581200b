"""The audit log's chain (docs/security.md §审计日志): entries linked by hashes, tampering
and deletion found by ``audit_verify`` (exit 1 naming the entry), append-only in the model
and — on PostgreSQL — in the database, pruning that keeps the chain verifiable, and a
linear chain under concurrent appends."""
import threading
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.test import RequestFactory
from django.utils import timezone

from audit.models import GENESIS_HASH, Action, AuditAnchor, AuditChainHead, AuditEntry
from audit.services import RETENTION_DAYS, audit_prune, audit_record, audit_verify

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
TABLE = AuditEntry._meta.db_table


def three(user=None):
    return [audit_record(action=Action.EXPORT, user=user, obj=f"报表{i}", details={"rows": i}) for i in (1, 2, 3)]


def raw(sql, params=()):
    """Change the table behind the model's back (the trigger switched off on PostgreSQL, as an
    attacker with the database owner's rights could)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER audit_entry_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER audit_entry_append_only")


def verify_command():
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, err.getvalue()
    return 0, out.getvalue()


def test_each_entry_carries_the_hash_of_the_one_before():
    user = get_user_model().objects.create_user("clerk", password="x")
    entries = three(user)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].previous_hash == GENESIS_HASH
    assert [e.previous_hash for e in entries[1:]] == [e.hash for e in entries[:2]]
    stored = AuditEntry.objects.get(seq=2)
    assert stored.compute_hash() == stored.hash and len(stored.hash) == 64
    assert (stored.username, stored.user_id, stored.object_repr) == ("clerk", user.pk, "报表2")
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (3, entries[2].hash)
    assert audit_verify().ok and audit_verify().checked == 3
    assert verify_command() == (0, "审计日志完整：共校验 3 条记录，哈希链无断裂\n")


def test_details_and_request_are_stored_as_read_back():
    request = RequestFactory().get("/admin/x/?q=1&status=2", REMOTE_ADDR="10.1.2.3")
    request.user = get_user_model().objects.create_user("viewer", password="x")
    audit_record(action=Action.DOWNLOAD, request=request, details={
        "amount": Decimal("12.50"), "day": date(2024, 3, 5), "ratio": 0.1, "big": 1e20, "n": 7})
    entry = AuditEntry.objects.get()
    assert entry.details == {"amount": "12.50", "day": "2024-03-05", "ratio": "0.1", "big": "1e+20", "n": 7}
    assert (entry.ip_address, entry.username) == ("10.1.2.3", "viewer")
    assert audit_verify().ok  # the database's JSON reads back exactly as it was hashed


def test_without_request_or_user_the_system_acts():
    entry = audit_record(action=Action.SETTLE, details={"claims": 3})
    assert (entry.user_id, entry.username, entry.ip_address) == (None, "", "")
    assert str(entry) == "第 1 条：结算（系统）"


def test_a_changed_entry_is_found_and_named():
    three()
    raw(f"UPDATE {TABLE} SET details = %s WHERE seq = 2", ['{"rows": 200}'])
    result = audit_verify()
    assert not result.ok and result.seq == 2 and result.checked == 1
    assert result.problem == "第 2 条记录的内容与其哈希值不符：记录被篡改"
    code, text = verify_command()
    assert code == 1 and "审计日志校验未通过：第 2 条记录的内容与其哈希值不符" in text


def test_a_rehashed_entry_breaks_the_next_link():
    entries = three()
    raw(f"UPDATE {TABLE} SET username = 'x', hash = %s WHERE seq = 2", ["f" * 64])
    assert audit_verify().problem == "第 2 条记录的内容与其哈希值不符：记录被篡改"
    # recomputing the changed entry's own hash still breaks the link of the next one
    changed = AuditEntry.objects.get(seq=2)
    raw(f"UPDATE {TABLE} SET hash = %s WHERE seq = 2", [changed.compute_hash()])
    result = audit_verify()
    assert result.seq == 3 and "第 3 条记录的“上一条的哈希值”与第 2 条不符" in result.problem
    assert entries[2].previous_hash == entries[1].hash


def test_a_deleted_entry_is_found():
    three()
    raw(f"DELETE FROM {TABLE} WHERE seq = 2")
    assert audit_verify().problem == "缺少第 2 条（下一条为第 3 条）：记录被删除"
    assert verify_command()[0] == 1


def test_a_deleted_last_entry_is_found_by_the_head():
    three()
    raw(f"DELETE FROM {TABLE} WHERE seq = 3")
    result = audit_verify()
    assert not result.ok and "链尾记录为第 3 条，但最后一条记录是第 2 条" in result.problem


def test_the_model_refuses_to_change_or_delete_an_entry():
    entry = three()[0]
    entry.details = {"rows": 99}
    with pytest.raises(PermissionDenied, match="只能追加"):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.filter(seq=1).update(username="x")
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(seq=1).details == {"rows": 1} and audit_verify().ok


@postgres_only
def test_the_database_refuses_update_and_delete():
    three()
    AuditAnchor(pruned_through_seq=0, hash=GENESIS_HASH).save()
    for sql in (f"UPDATE {TABLE} SET username = 'x' WHERE seq = 1", f"DELETE FROM {TABLE} WHERE seq = 1",
                "DELETE FROM audit_auditanchor"):
        with pytest.raises(DatabaseError, match="审计日志只能追加"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
    assert AuditEntry.objects.filter(username="x").count() == 0 and AuditAnchor.objects.count() == 1


def test_deleting_a_user_keeps_the_entries_and_the_name():
    user = get_user_model().objects.create_user("leaver", password="x")
    audit_record(action=Action.LOGIN, user=user)
    user.delete()
    entry = AuditEntry.objects.get()
    assert entry.username == "leaver" and audit_verify().ok


def old_entries(monkeypatch, days_ago: int, n: int):
    then = timezone.now() - timedelta(days=days_ago)
    monkeypatch.setattr(timezone, "now", lambda: then)
    entries = [audit_record(action=Action.LOGIN, username=f"u{i}") for i in range(n)]
    monkeypatch.undo()
    return entries


def test_prune_keeps_six_months_and_the_chain_verifiable(monkeypatch):
    old = old_entries(monkeypatch, 400, 3)
    recent = old_entries(monkeypatch, 100, 2)
    today = timezone.localdate()
    with pytest.raises(ValidationError, match=f"至少保存 {RETENTION_DAYS} 天"):
        audit_prune(before=today - timedelta(days=RETENTION_DAYS - 1))
    with pytest.raises(CommandError, match="清理日期不能晚于"):
        call_command("audit_prune", "--before", today.isoformat(), stdout=StringIO())
    out = StringIO()
    call_command("audit_prune", "--before", (today - timedelta(days=300)).isoformat(), stdout=out)
    assert "审计日志 3 条" in out.getvalue()
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == [4, 5, 6]
    anchor = AuditAnchor.objects.get()
    assert (anchor.pruned_through_seq, anchor.hash) == (3, old[2].hash) == (3, recent[0].previous_hash)
    pruned = AuditEntry.objects.get(seq=6)
    assert pruned.action == Action.AUDIT_PRUNE and pruned.details["deleted"] == 3
    result = audit_verify()
    assert result.ok and result.checked == 3
    # a forged anchor (to hide deleting the next entries) is found
    raw(f"DELETE FROM {TABLE} WHERE seq = 4")
    assert audit_verify().problem == "缺少第 4 条（下一条为第 5 条）：记录被删除"
    AuditAnchor(pruned_through_seq=4, hash=recent[0].hash).save()
    assert "没有对应的“清理审计日志”记录" in audit_verify().problem


def test_prune_with_nothing_old_deletes_nothing(monkeypatch):
    three()
    assert audit_prune(before=timezone.localdate() - timedelta(days=RETENTION_DAYS)) == 0
    assert AuditEntry.objects.count() == 3 and not AuditAnchor.objects.exists()


@postgres_only
def test_the_database_lets_only_the_prune_delete_and_only_old_entries(monkeypatch):
    old_entries(monkeypatch, 400, 1)
    three()
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = 1")  # old, but not in a prune
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.prune = 'on'")
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = 2")  # in a prune, but recent
    assert AuditEntry.objects.count() == 4


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_linear_chain():
    errors = []

    def append(name):
        try:
            for i in range(15):
                audit_record(action=Action.DOWNLOAD, username=name, details={"i": i})
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 46))
    assert audit_verify().ok
