"""finance.selectors: one module per subject (batches, reconciliation, year-end); re-exported here."""
from .year_end import commercial_schemes, latest_statement, statement_figures, statements  # noqa: F401
