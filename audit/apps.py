"""App config: connects the login, logout and login-failure signals (``audit.signals``)."""
from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "安全审计"

    def ready(self):
        from . import signals

        signals.connect()
