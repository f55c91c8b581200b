"""App config."""
from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "理赔结算"
    name = "claims"

    def ready(self):
        from . import system_checks  # noqa: F401  (registers the checks)
