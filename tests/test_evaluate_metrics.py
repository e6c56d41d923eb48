"""Evaluation metrics on tiny hand-computed cases: exact expected values."""

from __future__ import annotations

import math

import pytest

from tandem.evaluate.metrics import (
    Statement,
    abstention_scores,
    alce_citation_scores,
    best_over_references,
    binary_scores,
    cohen_kappa,
    contains_reference,
    exact_match,
    first_relevant_rank,
    latency_summary,
    ndcg_at_k,
    normalize_answer,
    percentile,
    ranked_documents,
    recall_at_k,
    reciprocal_rank,
    retrieval_scores,
    route_matches,
    split_statements,
    token_f1,
)

# -- retrieval -------------------------------------------------------------------------------------


def test_chunks_are_deduplicated_to_documents_in_rank_order() -> None:
    assert ranked_documents(["b.md", "a.md", "b.md", "c.md", "a.md"]) == ["b.md", "a.md", "c.md"]


def test_retrieval_worked_example() -> None:
    # Relevant d1 and d2 at ranks 2 and 4.
    ranked, relevant = ["d3", "d1", "d7", "d2", "d9"], {"d1", "d2"}
    assert recall_at_k(ranked, relevant, 1) == 0.0
    assert recall_at_k(ranked, relevant, 2) == 0.5
    assert recall_at_k(ranked, relevant, 4) == 1.0
    assert first_relevant_rank(ranked, relevant) == 2
    assert reciprocal_rank(ranked, relevant) == 0.5
    # DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677; ideal = 1/log2(2) + 1/log2(3) = 1.630930
    assert ndcg_at_k(ranked, relevant) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    )
    assert ndcg_at_k(ranked, relevant) == pytest.approx(0.650921, abs=1e-6)
    assert retrieval_scores(ranked, relevant, (1, 5)) == pytest.approx(
        {"recall@1": 0.0, "recall@5": 1.0, "mrr@10": 0.5, "ndcg@10": 0.650921}, abs=1e-6
    )


def test_retrieval_cutoffs_and_misses() -> None:
    ranked = [f"d{i}" for i in range(1, 13)]
    assert reciprocal_rank(ranked, {"d11"}, 10) == 0.0  # beyond the cutoff
    assert ndcg_at_k(ranked, {"d11"}, 10) == 0.0
    assert first_relevant_rank(ranked, {"x"}) is None
    assert ndcg_at_k(["d1"], {"d1"}) == 1.0
    with pytest.raises(ValueError, match="relevant"):
        recall_at_k(ranked, set(), 5)


# -- answers ---------------------------------------------------------------------------------------


def test_squad_normalisation() -> None:
    assert normalize_answer("  The  Cat's HAT, a hat!") == "cats hat hat"
    assert normalize_answer("an apple: theory") == "apple theory"  # "theory" keeps its "the"


def test_token_f1_and_exact_match() -> None:
    assert token_f1("The Cat sat.", "cat  sat") == 1.0
    assert exact_match("The answer!", "answer") == 1.0
    assert exact_match("5 days", "five days") == 0.0
    # pred [5, business, days] vs gold [within, 5, days]: 2 common -> P = R = 2/3
    assert token_f1("5 business days", "within 5 days") == pytest.approx(2 / 3)
    # pred [refund, takes, 5, days] vs gold [5, business, days]: P 2/4, R 2/3 -> F1 4/7
    assert token_f1("The refund takes 5 days.", "5 business days") == pytest.approx(4 / 7)
    # repeated tokens count once per occurrence in the reference: P 1/3, R 1 -> 0.5
    assert token_f1("days days days", "days") == 0.5
    assert token_f1("no overlap here", "something else") == 0.0
    assert token_f1("a an the", "") == 1.0  # both empty after normalisation
    assert token_f1("", "30 days") == 0.0  # an abstention scores 0


def test_max_over_references_and_containment() -> None:
    references = ["30 days", "a month from delivery"]
    # "month" against "month from delivery": P 1, R 1/3 -> 0.5 (and 0 against "30 days")
    assert best_over_references(token_f1, "a month", references) == 0.5
    assert best_over_references(exact_match, "30 days.", references) == 1.0
    assert contains_reference("You have 30 days, from delivery.", references) == 1.0
    assert contains_reference("You have 130 days.", ["30 days"]) == 0.0
    with pytest.raises(ValueError):
        best_over_references(token_f1, "x", [])


# -- citations (ALCE) ------------------------------------------------------------------------------


def test_statements_split_at_citation_marks() -> None:
    text = "Refunds take 5 days. [1] PayPal is faster [2][3]. Thanks for asking."
    assert split_statements(text) == [
        Statement("Refunds take 5 days.", (1,)),
        Statement("PayPal is faster", (2, 3)),
        Statement("Thanks for asking.", ()),
    ]
    assert split_statements("A quoted passage. With two sentences. [1]") == [
        Statement("A quoted passage. With two sentences.", (1,))
    ]
    assert split_statements("The documentation doesn't cover this.") == [
        Statement("The documentation doesn't cover this.")
    ]
    assert split_statements("") == []


# What each statement needs: x <- A; y <- B; z <- B and C together; w <- nothing supports it.
NEEDS = {"x": [{"A"}], "y": [{"B"}], "z": [{"B", "C"}], "w": [], "v": [{"A"}], "u": [{"A"}]}


def fake_entails(statement: str, passages) -> bool:
    return any(need <= set(passages) for need in NEEDS[statement])


def test_alce_citation_recall_and_precision_worked_example() -> None:
    passages = {1: "A", 2: "B", 3: "C"}
    statements = [
        Statement("x", (1,)),  # supported; its one citation is precise
        Statement("y", (1, 2)),  # supported; [1] alone fails and [2] suffices -> [1] irrelevant
        Statement("z", (2, 3)),  # supported only jointly: both citations needed
        Statement("w", (3,)),  # unsupported: its citation is imprecise
        Statement("v", ()),  # no citation: unsupported, nothing counted for precision
    ]
    scores = alce_citation_scores(statements, passages, fake_entails)
    assert scores.recall == 3 / 5
    assert scores.citations == 6
    assert scores.precision == 4 / 6
    assert [c.precise for c in scores.checks] == [(True,), (False, True), (True, True), (False,), ()]
    assert [c.supported for c in scores.checks] == [True, True, True, False, False]


def test_alce_out_of_range_citation_and_limits() -> None:
    passages = {1: "A", 2: "B"}
    # [9] has no passage: the statement is unsupported and its citations are not counted (as ALCE)
    scores = alce_citation_scores([Statement("u", (1, 9)), Statement("x", (1,))], passages, fake_entails)
    assert (scores.recall, scores.precision, scores.citations) == (0.5, 1.0, 1)
    # only the first 3 citations count; repeats count once
    many = alce_citation_scores(
        [Statement("x", (1, 1, 2, 2))], {1: "A", 2: "B"}, fake_entails, max_citations=3
    )
    assert many.checks[0].cited == (1, 2) and many.precision == 0.5
    empty = alce_citation_scores([], passages, fake_entails)
    assert (empty.recall, empty.precision) == (None, None)
    assert alce_citation_scores([Statement("v")], passages, fake_entails).precision == 0.0


# -- abstention, routing, agreement ----------------------------------------------------------------


def test_abstention_precision_recall() -> None:
    should = [True, True, False, False, False]
    did = [True, False, True, False, False]
    scores = abstention_scores(should, did)
    assert (scores["tp"], scores["fn"], scores["fp"], scores["tn"]) == (1, 1, 1, 2)
    assert (scores["precision"], scores["recall"], scores["accuracy"]) == (0.5, 0.5, 0.6)
    never = abstention_scores([False, False], [False, False])
    assert never["precision"] is None and never["recall"] is None and never["accuracy"] == 1.0


def test_cohen_kappa() -> None:
    # n 50, observed 0.7; chance (25*30 + 25*20) / 2500 = 0.5 -> kappa 0.4
    assert cohen_kappa(20, 5, 10, 15) == pytest.approx(0.4)
    assert cohen_kappa(5, 0, 0, 5) == 1.0
    assert cohen_kappa(0, 0, 0, 0) is None
    scores = binary_scores([True, True, False, False], [True, False, False, False])
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5 and scores["kappa"] == pytest.approx(0.5)


def test_route_matching() -> None:
    assert route_matches("handoff:safety", "handoff:safety")
    assert route_matches("handoff", "handoff:billing")
    assert not route_matches("handoff:safety", "handoff:billing")
    assert not route_matches("answer", "answer_and_flag")
    assert route_matches("refund", "answer", {"intent": "refund"})
    assert route_matches("Intent=Refund", "answer", {"intent": "refund"})


# -- latency ---------------------------------------------------------------------------------------


def test_percentiles_interpolate_linearly() -> None:
    values = [40, 10, 30, 20]
    assert percentile(values, 0.5) == 25.0
    assert percentile(values, 0.9) == pytest.approx(37.0)
    assert percentile(values, 0.95) == pytest.approx(38.5)
    assert (percentile(values, 0.0), percentile(values, 1.0), percentile([7.0], 0.99)) == (10, 40, 7.0)
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_latency_summary_per_stage() -> None:
    summary = latency_summary([{"total_ms": 100.0, "generate_ms": 60.0}, {"total_ms": 200.0}])
    assert list(summary) == ["generate", "total"]
    assert summary["total"] == {
        "n": 2,
        "mean": 150.0,
        "p50": 150.0,
        "p90": 190.0,
        "p95": 195.0,
        "p99": 199.0,
        "max": 200.0,
    }
    assert summary["generate"]["n"] == 1 and summary["generate"]["p95"] == 60.0
