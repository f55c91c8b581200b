"""finance.selectors: one module per subject (batches, reconciliation, year-end); re-exported here."""
from .batches import batch_totals, batches_visible_to  # noqa: F401
