"""finance.admin: one module per subject (batches, reconciliation, year-end); re-exported here."""
from . import (
    batches,  # noqa: F401
    reconciliation,  # noqa: F401
    year_end,  # noqa: F401  (registers the 年度清算 pages)
)
