"""App config."""
from django.apps import AppConfig, apps


class PoliciesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "政策参数"
    name = "policies"

    def ready(self):
        # django-axes (login lockout, docs/access.md) names its app "Axes"; its models'
        # and fields' names are translated in locale/zh_Hans.
        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = "登录安全"
