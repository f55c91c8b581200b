"""Admin pages of the enrollment app: persons, enrollments and payments (``enrollments``),
refunds (``refunds``, 退费) and 慢特病/两病 registrations (``registrations``). Importing the
package registers them."""

from . import enrollments, refunds, registrations  # noqa: F401
