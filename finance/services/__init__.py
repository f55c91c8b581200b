"""finance.services: one module per subject (batches, reconciliation, year-end); re-exported here."""
from .batches import batch_cancel, batch_create, batch_export, batch_return_import  # noqa: F401
