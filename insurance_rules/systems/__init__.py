"""Formula families, one module per seed system (spec dianjiang.md, changzhi.md, leshan.md,
sanming.md, liaocheng.md). Each module registers its formulas with
``insurance_rules.registry.formula``; ``load_systems`` imports them all.

``load_systems`` lives here, below ``settle`` and ``admission`` (both call it), so that
neither has to import the other to get the families registered.
"""
from __future__ import annotations

import importlib
import pkgutil

_loaded = False


def load_systems() -> None:
    """Import every module of ``insurance_rules.systems`` so its formulas register."""
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        # a module that cannot be imported is a programming error: it fails loudly here
        importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True
