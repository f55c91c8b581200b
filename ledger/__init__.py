"""The fund ledger (基金账务): immutable double-entry journals per fund (docs/money.md)."""
