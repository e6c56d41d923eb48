"""The embedded vector store: NumPy arrays in the version folder, scored by brute force.

    vectors.npy            one row per chunk (float32, unit length)
    sentence_vectors.npy   every chunk's sentences, chunk after chunk (optional)
    sentence_starts.npy    where each chunk's sentences start, plus the end (optional)

Exact, no server, and about 1 ms per query for a few thousand chunks on one core.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tandem.index.fusion import top_rows
from tandem.index.manifest import VectorsInfo
from tandem.index.vector_store import DenseHits


class EmbeddedVectorStore:
    """Memory-mapped vectors of one version.

    >>> store = EmbeddedVectorStore(folder, size=2067, dimension=384, row_doc=row_doc)  # doctest: +SKIP
    >>> store.search(query_vector, k=5, docs=None, rows=np.zeros(0, np.int64)).rows  # doctest: +SKIP
    array([ 812,  813, 1900,   17,  440])
    """

    backend = "embedded"

    def __init__(self, folder: Path, size: int, dimension: int, row_doc: np.ndarray) -> None:
        self.row_doc = row_doc
        self.vectors = (
            np.load(folder / "vectors.npy", mmap_mode="r")
            if size
            else np.zeros((0, dimension), dtype=np.float32)
        )
        self.sentence_vectors: np.ndarray | None = None
        self.sentence_starts: np.ndarray | None = None
        if size and (folder / "sentence_vectors.npy").is_file():
            self.sentence_vectors = np.load(folder / "sentence_vectors.npy", mmap_mode="r")
            self.sentence_starts = np.load(folder / "sentence_starts.npy")

    def scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of the query to every chunk; with sentence vectors, the mean of the cosine to the
        whole chunk and to its closest sentence (a question usually matches one sentence)."""
        scores = np.asarray(self.vectors @ query_vector, dtype=np.float32)
        if self.sentence_vectors is None or self.sentence_starts is None:
            return scores
        per_sentence = np.asarray(self.sentence_vectors @ query_vector, dtype=np.float32)
        closest = np.maximum.reduceat(per_sentence, self.sentence_starts[:-1])
        return (scores + closest) / 2

    def search(
        self, query_vector: np.ndarray, k: int, docs: np.ndarray | None, rows: np.ndarray
    ) -> DenseHits:
        """Scores every row (so `rows` are always covered), then takes the `k` best allowed ones."""
        scores = self.scores(query_vector)
        mask = docs[self.row_doc] if docs is not None else None
        top = top_rows(scores, k, mask) if k > 0 else np.zeros(0, dtype=np.int64)
        return DenseHits(top, scores)

    def vectors_of(self, rows: list[int]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        vectors = np.asarray(self.vectors[rows], dtype=np.float32)
        if self.sentence_vectors is None or self.sentence_starts is None:
            return vectors, None
        starts = self.sentence_starts
        return vectors, [np.asarray(self.sentence_vectors[starts[r] : starts[r + 1]]) for r in rows]

    def close(self) -> None:
        """Nothing to release: the arrays are memory-mapped."""


class EmbeddedVectorWriter:
    """Saves a version's vectors as .npy files in its build folder."""

    def write(
        self,
        folder: Path,
        vectors: np.ndarray,
        sentence_vectors: np.ndarray | None,
        sentence_starts: np.ndarray | None,
        row_doc: np.ndarray,
    ) -> VectorsInfo:
        np.save(folder / "vectors.npy", vectors)
        if sentence_vectors is not None and sentence_starts is not None:
            np.save(folder / "sentence_vectors.npy", sentence_vectors)
            np.save(folder / "sentence_starts.npy", sentence_starts)
        return VectorsInfo(backend="embedded")
