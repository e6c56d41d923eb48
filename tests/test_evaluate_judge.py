"""The citation support judge (the output guard's test) against the hand-labelled pairs."""

from __future__ import annotations

import collections

import pytest

from tandem.evaluate.judge import CitationJudge, agreement, load_labels


@pytest.fixture(scope="module")
def judge(encoder, settings) -> CitationJudge:
    return CitationJudge.from_settings(encoder, settings)


def test_the_shipped_label_set_is_large_balanced_and_well_formed() -> None:
    pairs = load_labels()
    assert len(pairs) >= 100 and len({p.id for p in pairs}) == len(pairs)
    labels = collections.Counter(p.supported for p in pairs)
    assert min(labels.values()) >= 0.4 * len(pairs)
    kinds = collections.Counter(p.kind for p in pairs if not p.supported)
    assert {"wrong_number", "wrong_product", "missing_condition", "unrelated", "contradiction"} <= set(kinds)
    assert all(p.sentence and len(p.passage) > len(p.sentence) / 2 and p.source for p in pairs)


def test_judge_uses_the_verifier_thresholds(judge: CitationJudge, settings) -> None:
    assert judge.min_support == settings.min_support
    supported, score = judge.supports(
        "Refunds are issued within 5 business days.",
        "We issue the refund within 5 business days after your return has passed inspection.",
    )
    assert supported and score >= settings.min_support
    invented, _ = judge.supports(
        "Refunds are issued within 7 business days.", "We refund within 5 business days."
    )
    assert not invented  # a number the passage lacks is never supported
    joint, _ = judge.supports(
        "The Fold F1 weighs 17.8 kg and costs EUR 1,690.",
        ["The Fold F1 weighs 17.8 kg.", "The Fold F1 costs EUR 1,690."],
    )
    alone, _ = judge.supports(
        "The Fold F1 weighs 17.8 kg and costs EUR 1,690.", "The Fold F1 weighs 17.8 kg."
    )
    assert joint and not alone  # several passages are judged together (ALCE's concatenation)


@pytest.mark.slow
def test_agreement_with_the_hand_labels(judge: CitationJudge) -> None:
    result = agreement(judge, load_labels())
    assert result["pairs"] == result["tp"] + result["fp"] + result["fn"] + result["tn"]
    # Measured 2026-11-24 (docs/evaluation.md): accuracy 0.659, kappa 0.295, recall of "supported" 0.865.
    # A floor, not a target: the judge misses contradictions, which these figures document.
    assert result["accuracy"] >= 0.6 and result["kappa"] >= 0.2 and result["recall"] >= 0.8
    assert result["by_kind"]["unrelated"]["agree"] == result["by_kind"]["unrelated"]["n"]
