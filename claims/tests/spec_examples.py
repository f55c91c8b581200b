"""The spec's public worked examples (``shared/spec/examples/trial-calc-examples.json``),
copied verbatim into the repository so the suite runs in a clone that has no ``shared/``
beside it; ``test_spec_examples_copy_is_current`` checks the copy when the spec is there."""
import json
from pathlib import Path

from django.conf import settings

EXAMPLES = Path(__file__).parent / "data" / "trial-calc-examples.json"
SHARED = Path(settings.BASE_DIR).parent / "shared" / "spec" / "examples" / "trial-calc-examples.json"


def load_examples() -> dict:
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))
