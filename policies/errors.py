"""Errors of the policy services (messages in Simplified Chinese, naming file, table and row)."""
from django.core.exceptions import ValidationError


class PolicyFixtureError(ValidationError):
    """A policy fixture cannot be loaded; nothing was written (the load is atomic)."""


class PlanYearRolloverError(ValidationError):
    """A plan year cannot be rolled over; nothing was written."""
