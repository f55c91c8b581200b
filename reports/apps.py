"""App config of the management reports (统计报表) and the admin-index dashboard."""
from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "统计报表"
    name = "reports"
