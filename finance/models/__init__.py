"""finance.models: one module per subject (batches, reconciliation, year-end); re-exported here."""
from .batches import PaymentBatch, PaymentLine  # noqa: F401
from .reconciliation import (  # noqa: F401
    DifferenceNote,
    HospitalReconciliation,
    ReconciliationDifference,
    ReconciliationLine,
    ReconciliationRun,
    ReconciliationStatus,
    TaxReconciliation,
)
from .year_end import COMMERCIAL_KINDS, YearEndExpense, YearEndLine, YearEndStatement  # noqa: F401
