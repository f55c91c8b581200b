"""App config."""
from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "政策参数"
    name = "policies"
