"""finance.admin: one module per subject (batches, reconciliation, year-end); re-exported here."""
from . import batches  # noqa: F401
