"""The parallel part of ingestion: parse, tag, chunk and scan files; embed batches of texts.

`Ingestor` stays the single writer of an index: it hands this pure work to a `DocumentProcessor`
and writes what comes back, in the order it asked. `LocalProcessor` does the work in this process;
`tandem.ingest.ray.RayProcessor` does it on a pool of Ray actors that each load the same encoder.
Since the writer batches the texts to embed itself, both give the same vectors.

>>> processor = LocalProcessor(encoder, Chunker(encoder))  # doctest: +SKIP
>>> [prepared] = processor.prepare([(Path("docs/faq.md"), "faq.md")], tags=("support",))  # doctest: +SKIP
>>> prepared.documents[0].chunks[0].tags  # doctest: +SKIP
('support',)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from tandem.documents.chunking import Chunker
from tandem.documents.loaders import load_documents
from tandem.documents.models import Chunk, Document
from tandem.encode import Encoder
from tandem.errors import DocumentError
from tandem.guard.corpus_guard import CorpusGuard
from tandem.guard.input_guard import GuardFinding

T = TypeVar("T")


@dataclass
class PreparedDocument:
    """A parsed, tagged document with its chunks and the corpus guard's findings on them."""

    document: Document
    chunks: list[Chunk]
    findings: list[tuple[str, GuardFinding]] = field(default_factory=list)


@dataclass
class PreparedFile:
    """The documents of one file, or why it could not be read (`problem`, as in a DocumentError)."""

    documents: list[PreparedDocument] = field(default_factory=list)
    problem: str | None = None

    def unwrap(self, path: Path) -> list[PreparedDocument]:
        """The documents, or the DocumentError that parsing `path` raised."""
        if self.problem is not None:
            raise DocumentError(str(path), self.problem)
        return self.documents


class DocumentProcessor(Protocol):
    """Does the pure, parallelisable work of an ingest; results come back in the order given."""

    def prepare(self, files: list[tuple[Path, str]], tags: tuple[str, ...]) -> Iterator[PreparedFile]:
        """Parse each (path, document id) file, add `tags`, chunk and scan its documents."""
        ...

    def encode(self, batches: Iterable[tuple[T, list[str]]]) -> Iterator[tuple[T, np.ndarray]]:
        """Vectors for each (key, texts) batch as (key, vectors): one encoder call per batch."""
        ...


def prepare_file(
    path: Path,
    doc_id: str,
    tags: tuple[str, ...],
    chunker: Chunker,
    guard: CorpusGuard | None,
    source: str | None = None,
) -> PreparedFile:
    """Parse, tag, chunk and scan one file. `source` replaces the documents' source (a worker
    parses a copy of the file under another path)."""
    try:
        documents = load_documents(path, doc_id)
    except DocumentError as exc:
        return PreparedFile(problem=exc.problem)
    except OSError as exc:
        return PreparedFile(problem=f"cannot be read: {exc}")
    prepared = []
    for document in documents:
        if source is not None:
            document.source = source
        document.tags = tuple(dict.fromkeys((*document.tags, *tags)))
        chunks = chunker.chunk(document)
        findings = guard.scan_chunks([(c.chunk_id, c.text) for c in chunks]) if guard else []
        prepared.append(PreparedDocument(document, chunks, findings))
    return PreparedFile(prepared)


class LocalProcessor:
    """Does the work in this process, one file and one batch at a time."""

    def __init__(
        self,
        encoder: Encoder,
        chunker: Chunker,
        corpus_guard: CorpusGuard | None = None,
        batch_size: int = 32,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1. Currently it is {batch_size}.")
        self.encoder = encoder
        self.chunker = chunker
        self.corpus_guard = corpus_guard
        self.batch_size = batch_size

    def prepare(self, files: list[tuple[Path, str]], tags: tuple[str, ...]) -> Iterator[PreparedFile]:
        for path, doc_id in files:
            yield prepare_file(path, doc_id, tags, self.chunker, self.corpus_guard)

    def encode(self, batches: Iterable[tuple[T, list[str]]]) -> Iterator[tuple[T, np.ndarray]]:
        for key, texts in batches:
            yield key, self.encoder.encode(texts, batch_size=self.batch_size)
