"""Reading the index: hybrid (dense + BM25) search and the passages it returns."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tandem.retrieve.hybrid import HybridRetriever, SearchResult
    from tandem.retrieve.passage import Passage

_NAMES = {
    "HybridRetriever": "tandem.retrieve.hybrid",
    "SearchResult": "tandem.retrieve.hybrid",
    "Passage": "tandem.retrieve.passage",
}
__all__ = ["HybridRetriever", "Passage", "SearchResult"]


def __getattr__(name: str) -> Any:
    """Load `Passage` without the retriever's numeric stack, and the retriever only when used."""
    if name not in _NAMES:
        raise AttributeError(f"module 'tandem.retrieve' has no attribute {name!r}")
    return getattr(importlib.import_module(_NAMES[name]), name)
