"""The compiled modules (``setup.py``: ``_scan``, ``_ngrams``, ``_products``, ``_merging``,
``_sketch_index``), each optional at install. Where one was not built its callers do the
same work by its definitions, the regular expressions, NumPy steps, SciPy and Python beside
them, which the tests compare it with: the same results, slower."""
from __future__ import annotations

from importlib import import_module
from types import ModuleType


def optional(name: str) -> ModuleType | None:
    """The compiled module ``triage.<name>``, or None where it was not built."""
    try:
        return import_module(f"{__package__}.{name}")
    except ImportError:  # pragma: no cover - the equality tests run the definitions instead
        return None
