"""A document's chunks in bounded parts, so that a 2,000-page manual or a 50 MB text file is
scanned, embedded and written a few hundred chunks at a time: the progress bar moves, the
encoder's batch stays small, and the guard's findings for the first part do not wait for the
whole document's scan.

>>> [len(p.chunks) for p in split_parts([prepared_with_600_chunks], size=256)]  # doctest: +SKIP
[256, 256, 88]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass

from tandem.documents.models import Chunk
from tandem.guard.input_guard import GuardFinding
from tandem.ingest.prepare import PreparedDocument

Scan = Future[list[tuple[str, GuardFinding]]]


@dataclass
class Part:
    """Consecutive chunks of one document; `first` marks the part its document row goes with."""

    prepared: PreparedDocument
    chunks: list[Chunk]
    first: bool
    scan: Scan | None = None

    def findings(self) -> list[tuple[str, GuardFinding]]:
        """The corpus guard's findings on these chunks: from this part's scan once it is done, or
        (scanned where the document was prepared) the document's findings on these chunks."""
        if self.scan is not None:
            return self.scan.result()
        ids = {c.chunk_id for c in self.chunks}
        return [(chunk_id, finding) for chunk_id, finding in self.prepared.findings if chunk_id in ids]


def split_parts(documents: Iterable[PreparedDocument], size: int) -> Iterator[Part]:
    """Each document as parts of at most `size` chunks, in order (one empty part for a document
    without chunks, so that its row is still written)."""
    if size < 1:
        raise ValueError(f"part size must be at least 1. Currently it is {size}.")
    for prepared in documents:
        chunks = prepared.chunks
        if not chunks:
            yield Part(prepared, [], first=True)
            continue
        for start in range(0, len(chunks), size):
            yield Part(prepared, chunks[start : start + size], first=start == 0)


def grouped(parts: Iterable[Part], chunks_per_group: int) -> Iterator[list[Part]]:
    """Consecutive parts in groups of at least `chunks_per_group` chunks (the last may hold fewer):
    many small documents share one encoder call, a big one fills its own."""
    group: list[Part] = []
    count = 0
    for part in parts:
        group.append(part)
        count += len(part.chunks)
        if count >= chunks_per_group:
            yield group
            group, count = [], 0
    if group:
        yield group
