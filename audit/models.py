"""The audit log's tables (docs/security.md §审计日志).

- ``AuditEntry``: one entry per audited act, numbered without gaps (``seq``); each entry
  carries the hash of the one before it (``previous_hash``) and its own ``hash`` =
  SHA-256(previous hash + the entry's canonical JSON, ``canonical_json``). Rows are only
  ever inserted: ``save`` of an existing row and ``delete`` raise, and on PostgreSQL a
  trigger (migration 0001) refuses UPDATE and DELETE — a DELETE only passes for entries
  older than 180 days inside ``audit_prune`` (which sets ``audit.prune`` for its
  transaction).
- ``AuditChainHead``: one row, the last entry's number and hash; an append locks it
  (``SELECT … FOR UPDATE``), so concurrent appends form one linear chain.
- ``AuditAnchor``: where the kept chain starts after a prune (the hash of the last
  deleted entry); append-only as well.

The user is kept twice: ``user`` (a plain id, no database constraint, so that deleting a
user never updates an entry) and ``username`` (text kept when the user is gone).
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64
APPEND_ONLY_MESSAGE = "审计日志只能追加，不能修改或删除"


class Action(models.TextChoices):
    LOGIN = "login", "登录"
    LOGOUT = "logout", "退出"
    LOGIN_FAILED = "login_failed", "登录失败"
    EXPORT = "export", "导出"
    DOWNLOAD = "download", "下载"
    VIEW_FULL_ID = "view_full_id", "查看完整证件号"
    IMPORT = "import", "导入"
    SETTLE = "settle", "结算"
    REVIEW = "review", "审核"
    PARAMETER_CHANGE = "parameter_change", "参数修改"
    PERMISSION_CHANGE = "permission_change", "权限修改"
    CREDENTIAL_CHANGE = "credential_change", "认证方式变更"
    AUDIT_PRUNE = "audit_prune", "清理审计日志"


class AppendOnly(models.Model):
    """Refuses to save an existing row again or to delete one (the database refuses too)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise PermissionDenied(APPEND_ONLY_MESSAGE)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied(APPEND_ONLY_MESSAGE)


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied(APPEND_ONLY_MESSAGE)

    def delete(self):
        raise PermissionDenied(APPEND_ONLY_MESSAGE)


class AuditEntry(AppendOnly):
    seq = models.BigIntegerField("序号", unique=True, editable=False)
    at = models.DateTimeField("时间", default=timezone.now, db_index=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="用户", null=True, blank=True,
                             on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                             editable=False)
    username = models.CharField("用户名", max_length=150, blank=True, db_index=True, editable=False)
    ip_address = models.CharField("IP 地址", max_length=45, blank=True, editable=False)
    action = models.CharField("操作", max_length=30, choices=Action.choices, db_index=True, editable=False)
    object_type = models.CharField("对象类型", max_length=100, blank=True, editable=False)
    object_id = models.CharField("对象编号", max_length=64, blank=True, editable=False)
    object_repr = models.CharField("对象", max_length=200, blank=True, editable=False)
    details = models.JSONField("详情", default=dict, blank=True, editable=False)
    previous_hash = models.CharField("上一条的哈希值", max_length=64, editable=False)
    hash = models.CharField("哈希值", max_length=64, unique=True, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-seq"]
        default_permissions = ("view",)  # nobody may be given add, change or delete
        permissions = [("export_auditentry", "可导出审计日志")]
        indexes = [models.Index(fields=["action", "-at"], name="audit_action_at"),
                   # the list filtered by one user, in its ordering
                   models.Index(fields=["username", "-seq"], name="audit_username_seq")]

    def __str__(self):
        return f"第 {self.seq} 条：{self.get_action_display()}（{self.username or '系统'}）"

    def canonical_json(self) -> str:
        """What the hash covers: every recorded field, keys sorted, UTC time."""
        at = self.at.astimezone(UTC).isoformat(timespec="microseconds")
        return json.dumps({
            "seq": self.seq, "at": at, "user_id": self.user_id, "username": self.username,
            "ip_address": self.ip_address, "action": self.action, "object_type": self.object_type,
            "object_id": self.object_id, "object_repr": self.object_repr, "details": self.details,
        }, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def compute_hash(self) -> str:
        return hashlib.sha256((self.previous_hash + self.canonical_json()).encode()).hexdigest()


class AuditChainHead(models.Model):
    """The chain's last entry (one row, id 1): appends lock it in turn."""

    last_seq = models.BigIntegerField("最后序号", default=0)
    last_hash = models.CharField("最后哈希值", max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = "审计日志链尾"
        verbose_name_plural = verbose_name
        default_permissions = ()

    def __str__(self):
        return f"第 {self.last_seq} 条"


class AuditAnchor(AppendOnly):
    """After a prune: the kept chain starts after entry ``pruned_through_seq``, whose hash
    is ``hash``."""

    at = models.DateTimeField("清理时间", default=timezone.now, editable=False)
    pruned_through_seq = models.BigIntegerField("已清理至序号", editable=False)
    hash = models.CharField("该条的哈希值", max_length=64, editable=False)
    username = models.CharField("操作人", max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = "审计日志清理记录"
        verbose_name_plural = verbose_name
        ordering = ["-pruned_through_seq"]
        default_permissions = ()

    def __str__(self):
        return f"已清理至第 {self.pruned_through_seq} 条"
