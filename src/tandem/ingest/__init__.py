"""Writing the index: find, parse, chunk, scan and embed documents, then publish a new version.

`ingestor` runs it in this process; `prepare` is the per-file work (local or on Ray, `ray`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tandem.ingest.ingestor import Ingestor, IngestReport

_NAMES = {"Ingestor": "tandem.ingest.ingestor", "IngestReport": "tandem.ingest.ingestor"}
__all__ = ["IngestReport", "Ingestor"]


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'tandem.ingest' has no attribute {name!r}")
    return getattr(importlib.import_module(_NAMES[name]), name)
