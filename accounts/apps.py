from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "登录安全"
    default_auto_field = "django.db.models.BigAutoField"
