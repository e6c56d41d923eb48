"""Reading the index: hybrid (dense + BM25) search and the passages it returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.lazy import lazy_attributes

if TYPE_CHECKING:
    from tandem.retrieve.hybrid import HybridRetriever, SearchResult
    from tandem.retrieve.passage import Passage

_NAMES = {
    "HybridRetriever": "tandem.retrieve.hybrid",
    "SearchResult": "tandem.retrieve.hybrid",
    "Passage": "tandem.retrieve.passage",
}
__all__ = ["HybridRetriever", "Passage", "SearchResult"]


__getattr__ = lazy_attributes(__name__, _NAMES)
