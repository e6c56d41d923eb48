"""The corpus-guard scan in a worker thread, beside the embedding.

The scan encodes every sentence with the guard's own model, about a third of an ingest's work. It
starts as each part of a document arrives and is collected only when that part's vectors are ready
to be written, so on a machine with a second core it costs little wall time (both stages spend their
time in ONNX Runtime, which releases the GIL). Quarantined chunks are dropped at that point.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from tandem.guard.corpus_guard import CorpusGuard
from tandem.ingest.parts import Part


class ScanPool:
    """Scans parts of documents in one worker thread; `Part.findings` waits for a part's scan.

    Without a guard (scanning off, or done where the document was prepared) nothing is scanned.
    """

    def __init__(self, guard: CorpusGuard | None) -> None:
        self.guard = guard
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-ingest-scan") if guard else None
        )

    def submit(self, part: Part) -> Part:
        """Start scanning the part's chunks; returns it with the scan to collect later."""
        if self._pool is not None and self.guard is not None and part.chunks:
            pairs = [(c.chunk_id, c.text) for c in part.chunks]
            part.scan = self._pool.submit(self.guard.scan_chunks, pairs)
        return part

    def __enter__(self) -> ScanPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
