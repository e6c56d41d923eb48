"""Rank fusion of dense and lexical results."""

from __future__ import annotations

import numpy as np


def top_rows(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Row numbers of the `k` best scores, best first; rows outside `mask` never appear."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    picked = np.argpartition(-scores, k - 1)[:k]
    return picked[np.argsort(-scores[picked], kind="stable")]


def reciprocal_rank_fusion(rankings: list[np.ndarray], weights: list[float], k: int = 60) -> dict[int, float]:
    """Weighted RRF: sum of weight / (k + rank) over the rankings each row appears in."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, row in enumerate(ranking.tolist(), start=1):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    return fused


def normalised_score_fusion(
    dense: np.ndarray, lexical: np.ndarray, candidates: np.ndarray, dense_weight: float
) -> dict[int, float]:
    """Convex combination of min-max normalised scores over the candidate rows."""
    if candidates.size == 0:
        return {}

    def scaled(values: np.ndarray) -> np.ndarray:
        low, high = float(values.min()), float(values.max())
        return (values - low) / (high - low) if high > low else np.zeros_like(values)

    combined = dense_weight * scaled(dense[candidates]) + (1 - dense_weight) * scaled(lexical[candidates])
    return dict(zip(candidates.tolist(), combined.tolist(), strict=True))
