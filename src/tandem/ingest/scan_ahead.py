"""The corpus-guard scan in a worker thread, beside the embedding.

The scan encodes every sentence with the guard's own model, about a third of an ingest's work. It
starts as each document arrives and is collected only when that document's vectors are ready to
be written, so on a machine with a second core it costs little wall time (both stages spend their
time in ONNX Runtime, which releases the GIL). Quarantined chunks are dropped at that point.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from tandem.guard.corpus_guard import CorpusGuard
from tandem.guard.input_guard import GuardFinding
from tandem.ingest.prepare import PreparedDocument

Scan = Future[list[tuple[str, GuardFinding]]]


class ScanPool:
    """Scans documents in one worker thread; `findings` waits for a document's scan.

    Without a guard (scanning off, or done where the document was prepared) nothing is scanned.
    """

    def __init__(self, guard: CorpusGuard | None) -> None:
        self.guard = guard
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-ingest-scan") if guard else None
        )

    def submit(self, prepared: PreparedDocument) -> tuple[PreparedDocument, Scan | None]:
        """Start scanning `prepared`'s chunks; returns it with the scan to collect later."""
        if self._pool is None or self.guard is None:
            return prepared, None
        pairs = [(c.chunk_id, c.text) for c in prepared.chunks]
        return prepared, self._pool.submit(self.guard.scan_chunks, pairs)

    @staticmethod
    def findings(prepared: PreparedDocument, scan: Scan | None) -> list[tuple[str, GuardFinding]]:
        """The document's findings: its own (prepared elsewhere) or, once done, the worker's scan."""
        if scan is not None:
            prepared.findings = scan.result()
        return prepared.findings

    def __enter__(self) -> ScanPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
