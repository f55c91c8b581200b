"""The vocabulary of the pure contribution rules agrees with ``policies.codes``."""
import pytest

from insurance_rules.enrollment import vocab
from policies import codes


@pytest.mark.parametrize("names, choices", [
    (vocab.CATEGORY_NAMES, codes.PersonCategory), (vocab.CHANNEL_NAMES, codes.Channel),
    (vocab.RELATION_NAMES, codes.Relation)])
def test_vocabulary_matches_the_code_tables(names, choices):
    assert names == {c.value: c.label for c in choices}
