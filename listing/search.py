"""Admin search that the indexes serve (issue 17).

Django's ``ModelAdmin.get_search_results`` turns ``"=document_number"`` into
``UPPER(document_number) = UPPER(…)`` and ``"name"`` into ``UPPER(name) LIKE '%…%'``,
OR-ed across joined tables: no index serves either, and a million rows are scanned.
``IndexedSearchMixin.get_search_results`` instead:

- a **key** (``search_key(term)`` returns it normalised, e.g. a full, checksum-valid
  身份证号 with x → X) is searched in ``key_search_fields`` exactly and nothing else:
  ``document_number = '…'`` on its unique index;
- otherwise each word of the term must match one of ``get_search_fields(request)``, as in
  Django, but: ``=field`` is ``field = …`` (exact, case-sensitive: an index), ``^field``
  is ``field LIKE '…%'`` (a prefix: a ``varchar_pattern_ops`` / C-collation btree on
  PostgreSQL), a plain ``field`` keeps Django's ``icontains`` (small catalogues only);
- fields across a foreign key are searched in a subquery of the related table
  (``enrollment__person__in (SELECT id FROM person WHERE name LIKE '张%')``), so the
  planner starts from the related table's index instead of joining every row first.

Search fields through a reverse or many-to-many relation fall back to Django's search.
"""
from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

LOOKUP_OF_PREFIX = {"=": "exact", "^": "startswith"}


def _split(name: str) -> tuple[str, str]:
    """(lookup, path) of a search field (``"^person__name"`` → ``("startswith", "person__name")``)."""
    lookup = LOOKUP_OF_PREFIX.get(name[:1])
    if lookup is not None:
        return lookup, name[1:]
    if name.startswith("@"):
        return "search", name[1:]
    return "icontains", name


def _forward_model(model, prefix: str):
    """The model at the end of ``prefix`` (forward foreign keys only), else None."""
    for part in prefix.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if not (field.many_to_one or field.one_to_one) or not field.concrete:
            return None
        model = field.related_model
    return model


def grouped_q(model, lookups) -> Q | None:
    """OR of ``(path, lookup, value)``: conditions on this model's own fields directly, on a
    related model's fields as ``prefix__in`` a subquery of that model (one per prefix).
    None when a path goes through a reverse or many-to-many relation."""
    own, related = Q(), defaultdict(Q)
    for path, lookup, value in lookups:
        prefix, _, field = path.rpartition("__")
        if prefix:
            related[prefix] |= Q(**{f"{field}__{lookup}": value})
        else:
            own |= Q(**{f"{field}__{lookup}": value})
    q = own
    for prefix, inner in related.items():
        target = _forward_model(model, prefix)
        if target is None:
            return None
        q |= Q(**{f"{prefix}__in": target._default_manager.filter(inner).values("pk")})
    return q


def _words(term: str):
    for bit in smart_split(term):
        if bit[:1] in "\"'" and bit[-1:] == bit[:1]:
            bit = unescape_string_literal(bit)
        if bit:
            yield bit


class IndexedSearchMixin:
    """``get_search_results`` for large lists (see the module). Declare
    ``key_search_fields`` and override ``search_key`` for an exact key search."""

    key_search_fields: tuple[str, ...] = ()

    def search_key(self, term: str) -> str | None:
        """The normalised key ``term`` is (searched in ``key_search_fields`` only), or None."""
        return None

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        fields = list(self.get_search_fields(request) or ())
        if not term or not fields:
            return queryset, False
        key = self.search_key(term) if self.key_search_fields else None
        if key is not None:
            q = grouped_q(self.model, [(path, "exact", key) for path in self.key_search_fields])
            if q is not None:
                return queryset.filter(q), False
        condition = Q()
        for word in _words(term):
            lookups = []
            for name in fields:
                lookup, path = _split(name)
                lookups.append((path, lookup, word))
            q = grouped_q(self.model, lookups)
            if q is None:
                return super().get_search_results(request, queryset, search_term)
            condition &= q
        return queryset.filter(condition), False
