"""App config."""
from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "理赔结算"
    name = "claims"
