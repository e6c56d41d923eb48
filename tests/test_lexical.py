"""BM25 analyser and query-term coverage used for reranking."""

from __future__ import annotations

import numpy as np

from tandem.index.fusion import normalised_score_fusion, reciprocal_rank_fusion, top_rows
from tandem.index.lexical import LexicalIndex

TEXTS = [
    "How long is the warranty on the frame? The frame has a 5-year warranty.",
    "The motor and battery are covered by a 2-year warranty from delivery.",
    "Shipping to Spain costs 49 euros.",
    "How long does delivery take? About 5 working days.",
    "How long does charging take? Four hours with the standard charger.",
]


def test_coverage_prefers_the_chunk_with_the_rare_query_words() -> None:
    index = LexicalIndex.build(TEXTS)
    coverage = index.coverage("How long is the motor warranty?", np.array([0, 1, 2]))
    assert coverage[1] > coverage[0] > coverage[2] == 0.0
    assert np.all((coverage >= 0) & (coverage <= 1))
    assert index.coverage("zzz unknown", np.array([0, 1])).tolist() == [0.0, 0.0]


def test_scores_ignore_words_outside_the_vocabulary() -> None:
    index = LexicalIndex.build(TEXTS)
    assert index.scores("qwerty").tolist() == [0.0] * len(TEXTS)
    assert int(np.argmax(index.scores("shipping Spain"))) == 2


def test_fusion_helpers() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.7])
    assert top_rows(scores, 2).tolist() == [1, 3]
    assert top_rows(scores, 3, mask=np.array([True, False, True, True])).tolist() == [3, 2, 0]
    fused = reciprocal_rank_fusion([np.array([1, 0]), np.array([0, 2])], [1.0, 1.0])
    assert fused[0] > fused[1] > 0 and fused[0] > fused[2]
    weighted = normalised_score_fusion(scores, scores[::-1].copy(), np.array([0, 1, 2, 3]), 1.0)
    assert weighted[1] == 1.0 and weighted[0] == 0.0
    assert normalised_score_fusion(scores, scores, np.array([], dtype=np.int64), 0.5) == {}
