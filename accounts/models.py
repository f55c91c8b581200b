"""Login security state of a staff account (docs/security.md §等保三级 身份鉴别).

- ``AccountSecurity``: one row per user, created on first need: when the password was last
  changed (expiry after ``PASSWORD_MAX_AGE_DAYS``), whether a change is due at the next
  login (an account created, or a password set, by an administrator), and whether the
  account is a demo account of ``load_demo`` (no forced change, no expiry, no required
  second factor).
- ``PasswordHistory``: the hashes of a user's last passwords (``PasswordHistoryValidator``
  refuses reusing one of the last N); never the passwords themselves.

The second factor itself lives in django-otp's tables (``otp_totp.TOTPDevice``: the
authenticator; ``otp_static.StaticDevice``: the recovery codes).
"""
from django.conf import settings
from django.db import models


class AccountSecurity(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="account_security", verbose_name="用户")
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    must_change_password = models.BooleanField(
        "下次登录须修改密码", default=False,
        help_text="管理员创建账户或重设密码后为是；用户自己修改密码后为否")
    demo_account = models.BooleanField(
        "演示账户", default=False,
        help_text="load_demo 创建的演示账户：不强制首次登录改密、不过期、不要求两步验证")

    class Meta:
        verbose_name = "账户安全状态"
        verbose_name_plural = "账户安全状态"

    def __str__(self):
        return str(self.user)


class PasswordHistory(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="password_history", verbose_name="用户")
    password = models.CharField("密码哈希", max_length=128)
    created_at = models.DateTimeField("启用时间", auto_now_add=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"

