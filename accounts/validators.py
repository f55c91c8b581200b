"""Password validators of AUTH_PASSWORD_VALIDATORS with Chinese messages (等保三级 身份鉴别).

- ``CharacterClassesValidator``: at least ``min_classes`` of the four character classes
  (大写字母, 小写字母, 数字, 符号; any other character counts as a 符号).
- ``PasswordHistoryValidator``: not one of the user's last ``count`` passwords (the current
  one included); its ``password_changed`` hook keeps the history and restarts the expiry
  clock (Django calls it from ``User.save()`` after every ``set_password``).
"""
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError


def character_classes(password: str) -> set[str]:
    found = set()
    for ch in password:
        if ch.isascii() and ch.isalpha():
            found.add("大写字母" if ch.isupper() else "小写字母")
        elif ch.isascii() and ch.isdigit():
            found.add("数字")
        else:
            found.add("符号")
    return found


class CharacterClassesValidator:
    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        found = character_classes(password)
        if len(found) < self.min_classes:
            missing = [name for name in ("大写字母", "小写字母", "数字", "符号") if name not in found]
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、符号四类中的至少 {self.min_classes} 类，"
                f"当前只有 {len(found)} 类（缺少{'、'.join(missing)}）。",
                code="password_too_few_classes")

    def get_help_text(self):
        return f"密码须包含大写字母、小写字母、数字、符号四类中的至少 {self.min_classes} 类。"


class PasswordHistoryValidator:
    def __init__(self, count=5):
        self.count = count

    def _recent_hashes(self, user):
        from .models import PasswordHistory

        hashes = list(PasswordHistory.objects.filter(user=user)
                      .values_list("password", flat=True)[:self.count])
        if user.password and user.password not in hashes:
            hashes.insert(0, user.password)  # a password set before the history existed
        return hashes[:self.count]

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        if any(check_password(password, encoded) for encoded in self._recent_hashes(user)):
            raise ValidationError(
                f"新密码不能与最近 {self.count} 次使用过的密码相同，请换一个密码。",
                code="password_reused")

    def password_changed(self, password, user=None):
        if user is None:
            return
        from .services import password_record_change

        password_record_change(user=user, history_size=self.count)

    def get_help_text(self):
        return f"新密码不能与最近 {self.count} 次使用过的密码相同。"


def validators_for_reset():
    """The configured validators without the reuse rule: for a password an administrator
    sets back by command (``load_demo --reset-passwords`` restores the demo password); the
    reuse rule is about the passwords a user chooses."""
    from django.contrib.auth.password_validation import get_default_password_validators

    return [v for v in get_default_password_validators() if not isinstance(v, PasswordHistoryValidator)]
