"""finance.selectors: one module per subject (batches, reconciliation, year-end); re-exported here."""
from . import reconciliation  # noqa: F401
from .batches import batch_totals, batches_visible_to  # noqa: F401
from .year_end import commercial_schemes, latest_statement, statement_figures, statements  # noqa: F401
