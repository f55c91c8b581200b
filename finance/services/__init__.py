"""finance.services: one module per subject (batches, reconciliation, year-end); re-exported here."""
