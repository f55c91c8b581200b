"""finance.services: one module per subject (batches, reconciliation, year-end); re-exported here."""
from . import reconciliation  # noqa: F401
from .batches import batch_cancel, batch_create, batch_export, batch_return_import  # noqa: F401
from .year_end import statement_prepare, statement_reopen, statement_sign  # noqa: F401
