"""finance.models: one module per subject (batches, reconciliation, year-end); re-exported here."""
from .batches import PaymentBatch, PaymentLine  # noqa: F401
