"""App config of the management reports (统计报表) and the admin-index dashboard."""
from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "统计报表"
    name = "reports"

    def ready(self):
        from policies.dashboard import figures_changed

        figures_changed.connect(_refresh_after_commit, dispatch_uid="reports.refresh_dashboard")


def _refresh_after_commit(sender, *, pairs, plan_year_ids, **kwargs):
    """The services changed figures (policies.dashboard, sent after their commit): the
    summaries of those pooling-region years are refreshed on a worker (at once in the tests,
    whose Celery is eager). The nightly job ``dashboard_refresh`` catches anything missed."""
    from django.utils import timezone

    from .services import refresh_dashboard_task

    refresh_dashboard_task.delay(sorted(pairs), sorted(plan_year_ids), timezone.now().isoformat())
