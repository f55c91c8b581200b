"""finance.models: one module per subject (batches, reconciliation, year-end); re-exported here."""
from .year_end import COMMERCIAL_KINDS, YearEndExpense, YearEndLine, YearEndStatement  # noqa: F401
