"""One immutable index version on disk: chunks in SQLite, vectors in .npy, BM25 in bm25s files."""

from __future__ import annotations

import json
import sqlite3
import threading
from fnmatch import fnmatch
from pathlib import Path

import numpy as np

from tandem.documents.models import Chunk
from tandem.index.filters import SearchFilters
from tandem.index.lexical import LexicalIndex
from tandem.index.manifest import Manifest
from tandem.index.unit_vectors import StoredUnitVectors
from tandem.index.vector_store import VectorStore, VectorStoreConfig, open_vector_store

SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    tags TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    text TEXT NOT NULL,
    heading_path TEXT NOT NULL,
    page INTEGER,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    n_tokens INTEGER NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks(doc_id);
"""

_CHUNK_COLUMNS = (
    "c.row, c.chunk_id, c.doc_id, d.source, d.title, c.text, c.heading_path, c.page, "
    "c.start_char, c.end_char, c.n_tokens, d.tags"
)


def chunk_from_row(row: tuple) -> Chunk:
    _, chunk_id, doc_id, source, title, text, heading, page, start, end, tokens, tags = row
    return Chunk(
        chunk_id=chunk_id,
        doc_id=doc_id,
        source=source,
        title=title,
        text=text,
        heading_path=tuple(json.loads(heading)),
        page=page,
        start=start,
        end=end,
        n_tokens=tokens,
        tags=tuple(json.loads(tags)),
    )


class IndexSnapshot:
    """Read-only view of one version; safe to share between threads."""

    def __init__(self, folder: Path, vector_config: VectorStoreConfig | None = None) -> None:
        self.folder = folder
        self.manifest = Manifest.read(folder)
        uri = f"file:{folder / 'chunks.sqlite'}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        size = self.manifest.chunks
        self.lexical = LexicalIndex.load(folder / "bm25", size)
        documents = self._query("SELECT doc_id, source, tags, title FROM documents ORDER BY doc_id")
        self.doc_ids = [d for d, _, _, _ in documents]
        self.titles = tuple(title for _, _, _, title in documents)  # what the documents are about
        self._doc_meta = {d: (s, tuple(json.loads(t))) for d, s, t, _ in documents}
        index_of = {d: i for i, d in enumerate(self.doc_ids)}
        rows = self._query("SELECT row, doc_id FROM chunks ORDER BY row")
        self.row_doc = np.array([index_of[d] for _, d in rows], dtype=np.int64)
        try:
            self.store: VectorStore = open_vector_store(folder, self.manifest, self.row_doc, vector_config)
        except BaseException:
            self._db.close()
            raise
        # The embedded store's arrays (None with Milvus), for tools that read them directly.
        self.vectors: np.ndarray | None = getattr(self.store, "vectors", None)
        self.sentence_vectors: np.ndarray | None = getattr(self.store, "sentence_vectors", None)
        # The evidence units' vectors, when the version was built with them (None: embedded per question).
        self.unit_vectors = StoredUnitVectors.open(folder)

    @property
    def size(self) -> int:
        return self.manifest.chunks

    @property
    def version(self) -> int:
        return self.manifest.version

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def chunks(self, rows: list[int]) -> list[Chunk]:
        """Chunks for the given rows, in the order given."""
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        found = self._query(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d USING (doc_id) WHERE c.row IN ({marks})",
            tuple(int(r) for r in rows),
        )
        by_row = {r[0]: chunk_from_row(r) for r in found}
        return [by_row[int(r)] for r in rows]

    def chunk_rows_of(self, doc_id: str) -> list[tuple]:
        return self._query(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d USING (doc_id) "
            "WHERE c.doc_id = ? ORDER BY c.row",
            (doc_id,),
        )

    def document_row(self, doc_id: str) -> tuple | None:
        found = self._query(
            "SELECT doc_id, source, title, kind, tags, text FROM documents WHERE doc_id = ?",
            (doc_id,),
        )
        return found[0] if found else None

    def allowed_docs(self, filters: SearchFilters) -> np.ndarray | None:
        """Boolean mask over `doc_ids` for `filters`, or None when nothing is filtered."""
        if not filters:
            return None
        allowed = np.zeros(len(self.doc_ids), dtype=bool)
        for i, doc_id in enumerate(self.doc_ids):
            source, tags = self._doc_meta[doc_id]
            ok = True
            if filters.sources:
                ok = any(fnmatch(doc_id, p) or fnmatch(source, p) for p in filters.sources)
            if ok and filters.tags:
                ok = any(t in tags for t in filters.tags)
            if ok and filters.doc_ids:
                ok = doc_id in filters.doc_ids
            allowed[i] = ok
        return allowed

    def mask(self, filters: SearchFilters) -> np.ndarray | None:
        """Boolean mask over rows for `filters`, or None when nothing is filtered."""
        allowed = self.allowed_docs(filters)
        return None if allowed is None else allowed[self.row_doc]

    def close(self) -> None:
        self.store.close()
        if self.unit_vectors is not None:
            self.unit_vectors.close()
        with self._lock:
            self._db.close()
