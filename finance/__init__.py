"""基金财务: the money work above claims and enrollment — the ledger's agreement with the
claims and payments tables, and (docs/money.md) refunds, payment batches, reconciliation."""
