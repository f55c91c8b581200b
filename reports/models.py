"""The reports app stores nothing: figures are computed from policies and enrollment rows
(docs/reports.md). ``Report`` is an unmanaged model (no table) whose only purpose is the
permission ``reports.view_report`` — "may see the dashboard and export its figures"."""
from django.db import models


class Report(models.Model):
    """Permission holder of the 统计报表 dashboard (no database table)."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = verbose_name_plural = "统计报表"

    def __str__(self):
        return "统计报表"
