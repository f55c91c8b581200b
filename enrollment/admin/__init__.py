"""Admin pages of the enrollment app: persons, enrollments and payments (``enrollments``) and
慢特病/两病 registrations (``registrations``). Importing the package registers both."""

from . import enrollments, registrations  # noqa: F401
