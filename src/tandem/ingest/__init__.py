"""Writing the index: find, parse, chunk, scan and embed documents, then publish a new version.

`ingestor` runs it in this process; `prepare` is the per-file work (local or on Ray, `ray`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.lazy import lazy_attributes

if TYPE_CHECKING:
    from tandem.ingest.ingestor import Ingestor, IngestReport

_NAMES = {"Ingestor": "tandem.ingest.ingestor", "IngestReport": "tandem.ingest.ingestor"}
__all__ = ["IngestReport", "Ingestor"]


__getattr__ = lazy_attributes(__name__, _NAMES)
