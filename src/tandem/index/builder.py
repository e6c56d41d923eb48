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


class VersionBuilder:
    """Writes chunks.sqlite, the vectors (vectors.npy, or Milvus) and bm25/ into a build folder,
    then the manifest."""

    def __init__(self, folder: Path, dimension: int, writer: VectorWriter | None = None) -> None:
        self.folder = folder
        self.dimension = dimension
        self.writer = writer or EmbeddedVectorWriter()
        self._db = sqlite3.connect(folder / "chunks.sqlite")
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        self._vectors: list[np.ndarray] = []
        self._sentence_vectors: list[np.ndarray] = []
        self._sentence_counts: list[int] = []
        self._indexed_texts: list[str] = []
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
        self._add_chunks(chunks, vectors, sentence_vectors)
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
        self._add_chunks(chunks, vectors, sentences)
        self.documents += 1

    def _add_chunks(
        self, chunks: list[Chunk], vectors: np.ndarray, sentences: list[np.ndarray] | None
    ) -> None:
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
        self._vectors.append(vectors.astype(np.float32))
        if sentences is not None:
            self._sentence_vectors.extend(s.astype(np.float32) for s in sentences)
            self._sentence_counts.extend(len(s) for s in sentences)
        self._indexed_texts.extend(c.indexed_text() for c in chunks)

    def close(self) -> None:
        """Abandon the build (the caller removes the folder)."""
        self._db.close()

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
        matrix = (
            np.concatenate(self._vectors)
            if self._vectors
            else np.zeros((0, self.dimension), dtype=np.float32)
        )
        sentences = starts = None
        if self._sentence_counts:
            if len(self._sentence_counts) != self.rows:
                raise ValueError("sentence vectors must be given for every chunk or for none")
            starts = np.concatenate([[0], np.cumsum(self._sentence_counts)]).astype(np.int64)
            sentences = np.concatenate(self._sentence_vectors)
        manifest.vectors = self.writer.write(self.folder, matrix, sentences, starts, row_doc)
        LexicalIndex.build(self._indexed_texts).save(self.folder / "bm25")
        manifest.documents = self.documents
        manifest.chunks = self.rows
        manifest.write(self.folder)
