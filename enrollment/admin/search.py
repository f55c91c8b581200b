"""Search of the person-side lists (issue 17; ``listing.search.IndexedSearchMixin``): a
whole, checksum-valid 18-character ID number (x or X) is looked up exactly on the
persons' document-number index and nothing else; a name by its beginning (``^name``:
``LIKE '张%'`` on the ``person_name_prefix`` index), or — for a user who sees names
masked — by the whole name only (``policies.masking.MaskedLookupsMixin`` makes it ``=``);
never ``LIKE '%…%'`` over the persons."""
from __future__ import annotations

from enrollment import documents
from listing.search import IndexedSearchMixin


class PersonSearchMixin(IndexedSearchMixin):
    """Declare ``person_path``: the ORM path from the listed model to the person
    (``""`` for the person list itself, ``"person__"``, ``"enrollment__person__"``, …)."""

    person_path = ""

    @property
    def key_search_fields(self):
        return (f"{self.person_path}document_number",)

    def search_key(self, term: str) -> str | None:
        return documents.full_id_number(term)
