"""Hybrid retrieval: dense cosine and BM25 side by side, fused by rank."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from threadpoolctl import ThreadpoolController

from tandem.encode import Encoder
from tandem.index.filters import SearchFilters
from tandem.index.fusion import normalised_score_fusion, reciprocal_rank_fusion, top_rows
from tandem.index.snapshot import IndexSnapshot
from tandem.retrieve.passage import Passage

CANDIDATES = 100
RERANK_DEPTH = 20


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def single_threaded_blas():
    """Matrix-vector products are memory-bound: a second BLAS thread only adds contention (16 ms
    instead of 1 ms at p50 on a busy 2-core machine, see docs/benchmarks.md)."""
    return _blas_controller().limit(limits=1, user_api="blas")


@dataclass
class SearchResult:
    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)
    query_vector: np.ndarray | None = None


class HybridRetriever:
    """Searches one index snapshot with one encoder.

    >>> retriever = HybridRetriever(snapshot, encoder)  # doctest: +SKIP
    >>> retriever.search("how long do refunds take?", k=5).passages[0].chunk.doc_id  # doctest: +SKIP
    'billing/refunds.md'
    """

    def __init__(
        self,
        snapshot: IndexSnapshot,
        encoder: Encoder,
        mode: str = "hybrid",
        fusion: str = "rrf",
        dense_weight: float = 0.5,
        coverage_weight: float = 0.0,
    ) -> None:
        self.snapshot = snapshot
        self.encoder = encoder
        self.mode = mode
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.coverage_weight = coverage_weight

    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        mode: str | None = None,
        query_vector: np.ndarray | None = None,
    ) -> SearchResult:
        mode = mode or self.mode
        timings: dict[str, float] = {}
        docs = self.snapshot.allowed_docs(filters) if filters else None
        mask = docs[self.snapshot.row_doc] if docs is not None else None
        size = self.snapshot.size
        dense = lexical = np.zeros(size, dtype=np.float32)
        depth = max(CANDIDATES, k)
        dense_top = lexical_top = np.zeros(0, np.int64)
        if query_vector is None:
            started = time.perf_counter()
            query_vector = self.encoder.encode([query])[0]
            timings["encode_ms"] = (time.perf_counter() - started) * 1000
        with single_threaded_blas():
            if mode in ("hybrid", "bm25") and size:
                started = time.perf_counter()
                lexical = self.snapshot.lexical.scores(query)
                matched = (lexical > 0) if mask is None else mask & (lexical > 0)
                lexical_top = top_rows(lexical, depth, matched)
                timings["lexical_ms"] = (time.perf_counter() - started) * 1000
            if size:  # dense scores of the candidates are needed in every mode: the confidence signal
                started = time.perf_counter()
                hits = self.snapshot.store.search(
                    query_vector, depth if mode != "bm25" else 0, docs, lexical_top
                )
                dense, dense_top = hits.scores, hits.rows
                timings["dense_ms"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        if mode == "dense":
            fused = {int(r): float(dense[r]) for r in dense_top}
        elif mode == "bm25":
            fused = {int(r): float(lexical[r]) for r in lexical_top}
        elif self.fusion == "weighted":
            candidates = np.union1d(dense_top, lexical_top)
            fused = normalised_score_fusion(dense, lexical, candidates, self.dense_weight)
        else:
            weights = [2 * self.dense_weight, 2 * (1 - self.dense_weight)]
            fused = reciprocal_rank_fusion([dense_top, lexical_top], weights)
        best = sorted(fused.items(), key=lambda item: -item[1])[: max(k, RERANK_DEPTH)]
        if self.coverage_weight and mode != "dense" and best:
            rows = np.array([row for row, _ in best], dtype=np.int64)
            coverage = self.snapshot.lexical.coverage(query, rows)
            top = max(best[0][1], 1e-9)
            best = [
                (row, score / top + self.coverage_weight * float(c))
                for (row, score), c in zip(best, coverage, strict=True)
            ]
            best.sort(key=lambda item: -item[1])
        best = best[:k]
        dense_rank = {int(r): i + 1 for i, r in enumerate(dense_top)}
        lexical_rank = {int(r): i + 1 for i, r in enumerate(lexical_top)}
        chunks = self.snapshot.chunks([row for row, _ in best])
        passages = [
            Passage(
                chunk=chunk,
                rank=i + 1,
                score=score,
                dense_score=float(dense[row]),
                lexical_score=float(lexical[row]),
                dense_rank=dense_rank.get(row),
                lexical_rank=lexical_rank.get(row),
            )
            for i, ((row, score), chunk) in enumerate(zip(best, chunks, strict=True))
        ]
        timings["fusion_ms"] = (time.perf_counter() - started) * 1000
        return SearchResult(passages, timings, query_vector)
