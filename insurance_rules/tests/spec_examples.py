"""The spec's public worked examples (``shared/spec/examples/trial-calc-examples.json``),
copied verbatim into the repository so the suite runs in a clone that has no ``shared/``
beside it; ``test_spec_examples_copy_is_current`` checks the copy when the spec is there.

Kept with the kernel's tests (no Django here) because every app's tests read them: the
claims cases, and the contribution and registration cases of enrollment's trial.
"""
import json
from pathlib import Path

EXAMPLES = Path(__file__).parent / "data" / "trial-calc-examples.json"
REPOSITORY = Path(__file__).resolve().parents[2]
SHARED = REPOSITORY.parent / "shared" / "spec" / "examples" / "trial-calc-examples.json"


def load_examples() -> dict:
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))
