"""finance.selectors: one module per subject (batches, reconciliation, year-end); re-exported here."""
