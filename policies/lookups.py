"""The region column of the sheet kinds (``sheets``): regions by GB/T 2260 code or Chinese
name (codes.md), with their pooling region, loaded once per import (a few hundred rows at
most); on export a region is written as its name."""
from __future__ import annotations

from sheets.parsing import CellError, normalise_text, text

from .access import scope_queryset
from .models import Region


class RegionLookup:
    """``lookup(cell)`` → ``Region`` (code ``500231`` or name ``垫江县``); every region's
    ``parent`` is the cached object, so ``region.pooling_region`` runs no query. The
    regions are read once per lookup object (one import), so the answer for a value
    does not change during the import: ``cacheable`` (``sheets.parsing.cacheable``).
    ``label(region)`` is the exported cell (the name)."""

    cacheable = True

    def __init__(self):
        self._loaded = False

    def _load(self):
        regions = list(Region.objects.all())
        self.by_id = {r.pk: r for r in regions}
        for region in regions:
            if region.parent_id:
                region.parent = self.by_id[region.parent_id]
        self.by_code = {r.code: r for r in regions}
        self.by_name: dict[str, list[Region]] = {}
        for region in regions:
            self.by_name.setdefault(normalise_text(region.name), []).append(region)
        self._loaded = True

    def __call__(self, value) -> Region:
        if not self._loaded:
            self._load()
        raw = normalise_text(text(value))
        if raw in self.by_code:
            return self.by_code[raw]
        found = self.by_name.get(raw, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            codes = "、".join(r.code for r in found)
            raise CellError(f"名称“{text(value)}”对应多个统筹区（{codes}），请填写行政区划代码")
        raise CellError(f"未知的统筹区“{text(value)}”（填 6 位行政区划代码或名称，如 500231 或 垫江县）")

    @staticmethod
    def label(region) -> str:
        """The exported cell of a region (``sheets.resources``): its name."""
        return region.name if region is not None else ""

    def get(self, pk):
        if not self._loaded:
            self._load()
        return self.by_id.get(pk)

    def pooling_id(self, pk):
        region = self.get(pk)
        return region.pooling_region.pk if region is not None else None

    def with_descendants(self, region: Region) -> set[int]:
        if not self._loaded:
            self._load()
        result, todo = set(), [region.pk]
        while todo:
            pk = todo.pop()
            result.add(pk)
            todo.extend(r.pk for r in self.by_id.values() if r.parent_id == pk)
        return result

    def exported(self, qs, user, region_field: str, region=None, *, include_shared: bool = False):
        """``qs`` as an export sees it: restricted to ``user``'s regions (all for ``None``, a
        system export) and, with ``region``, to that region and the regions below it —
        ``region_field`` is the path from ``qs``'s model to its region."""
        if user is not None:
            qs = scope_queryset(qs, user, region_field, include_shared=include_shared)
        if region is not None:
            qs = qs.filter(**{f"{region_field}__in": self.with_descendants(region)})
        return qs
