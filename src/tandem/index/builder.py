"""Builds a new index version: copies unchanged documents from the previous one, adds new ones."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from tandem.documents.models import Chunk, Document
from tandem.index.embedded_store import EmbeddedVectorWriter
from tandem.index.lexical import LexicalIndex
from tandem.index.manifest import Manifest
from tandem.index.snapshot import SCHEMA, IndexSnapshot, chunk_from_row
from tandem.index.vector_store import VectorWriter


class SpillFile:
    """Rows of float32 vectors appended to a raw file, read back as one memory-mapped array."""

    def __init__(self, path: Path, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self.rows = 0
        self._handle = open(path, "wb")  # noqa: SIM115 - closed in `array` or `discard`

    def append(self, vectors: np.ndarray) -> None:
        block = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        block.tofile(self._handle)
        self.rows += len(block)

    def array(self) -> np.ndarray:
        """Everything appended, as a (rows, dimension) array mapped from the file."""
        self._handle.close()
        if not self.rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.memmap(self.path, dtype=np.float32, mode="r", shape=(self.rows, self.dimension))

    def discard(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)


class VersionBuilder:
    """Writes chunks.sqlite, the vectors (vectors.npy, or Milvus) and bm25/ into a build folder,
    then the manifest."""

    def __init__(self, folder: Path, dimension: int, writer: VectorWriter | None = None) -> None:
        self.folder = folder
        self.dimension = dimension
        self.writer = writer or EmbeddedVectorWriter()
        self._db = sqlite3.connect(folder / "chunks.sqlite")
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        # Vectors go to raw files as they come (memory stays bounded on a big ingest) and become
        # the store's arrays in `finish`.
        self._vectors = SpillFile(folder / "vectors.f32.part", dimension)
        self._sentence_vectors = SpillFile(folder / "sentence_vectors.f32.part", dimension)
        self._sentence_counts: list[int] = []
        self._indexed_texts: list[str] = []
        self.passages: list[tuple[str, str]] = []  # (text, context line) per chunk, for unit vectors
        self.documents = 0

    @property
    def rows(self) -> int:
        return len(self._indexed_texts)

    def add(
        self,
        document: Document,
        chunks: list[Chunk],
        vectors: np.ndarray,
        sentence_vectors: list[np.ndarray] | None = None,
    ) -> None:
        """Add a freshly parsed document with its chunks, their vectors and (optionally) the
        vectors of each chunk's sentences."""
        self.add_document(document)
        self.add_chunks(chunks, vectors, sentence_vectors)

    def add_document(self, document: Document) -> None:
        """Add a document's row; its chunks follow with `add_chunks`, in one or several parts."""
        self._db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            (
                document.doc_id,
                document.source,
                document.title,
                document.kind,
                json.dumps(list(document.tags)),
                document.text,
            ),
        )
        self.documents += 1

    def copy(self, previous: IndexSnapshot, doc_id: str) -> None:
        """Carry a document over from the previous version unchanged (no re-embedding)."""
        document = previous.document_row(doc_id)
        if document is None:
            return
        self._db.execute("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)", document)
        rows = previous.chunk_rows_of(doc_id)
        chunks = [chunk_from_row(r) for r in rows]
        vectors, sentences = previous.store.vectors_of([r[0] for r in rows])
        self.add_chunks(chunks, vectors, sentences)
        self.documents += 1

    def add_chunks(
        self, chunks: list[Chunk], vectors: np.ndarray, sentences: list[np.ndarray] | None = None
    ) -> None:
        """Add the next chunks of the last document added, with their vectors (and sentences')."""
        if not chunks:
            return
        if vectors.shape != (len(chunks), self.dimension):
            raise ValueError(f"expected {len(chunks)} vectors of {self.dimension}, got {vectors.shape}")
        start = self.rows
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    start + i,
                    c.chunk_id,
                    c.doc_id,
                    c.text,
                    json.dumps(list(c.heading_path)),
                    c.page,
                    c.start,
                    c.end,
                    c.n_tokens,
                )
                for i, c in enumerate(chunks)
            ],
        )
        self._vectors.append(vectors)
        if sentences is not None:
            self._sentence_vectors.append(np.concatenate(sentences))  # one write per part
            self._sentence_counts.extend(len(s) for s in sentences)
        self._indexed_texts.extend(c.indexed_text() for c in chunks)
        self.passages.extend((c.text, c.context_line) for c in chunks)

    def close(self) -> None:
        """Abandon the build (the caller removes the folder)."""
        self._db.close()
        self._vectors.discard()
        self._sentence_vectors.discard()

    def finish(self, manifest: Manifest) -> None:
        """Write vectors (files or Milvus), the BM25 index and the manifest (last, so it marks a
        complete build)."""
        self._db.commit()
        doc_ids = [d for (d,) in self._db.execute("SELECT doc_id FROM documents ORDER BY doc_id")]
        index_of = {d: i for i, d in enumerate(doc_ids)}
        row_doc = np.array(
            [index_of[d] for (d,) in self._db.execute("SELECT doc_id FROM chunks ORDER BY row")],
            dtype=np.int64,
        )
        self._db.close()
        matrix = self._vectors.array()
        sentences = starts = None
        if self._sentence_counts:
            if len(self._sentence_counts) != self.rows:
                raise ValueError("sentence vectors must be given for every chunk or for none")
            starts = np.concatenate([[0], np.cumsum(self._sentence_counts)]).astype(np.int64)
            sentences = self._sentence_vectors.array()
        manifest.vectors = self.writer.write(self.folder, matrix, sentences, starts, row_doc)
        del matrix, sentences  # the memory maps, before their files go
        self._vectors.discard()
        self._sentence_vectors.discard()
        LexicalIndex.build(self._indexed_texts).save(self.folder / "bm25")
        manifest.documents = self.documents
        manifest.chunks = self.rows
        manifest.write(self.folder)
