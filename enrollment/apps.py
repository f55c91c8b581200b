"""App config."""
from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "参保登记与缴费"
    name = "enrollment"

    def ready(self):
        from enrollment import signals  # noqa: F401  (the person → region visibility rows)
