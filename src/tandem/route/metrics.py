"""Classification metrics: accuracy, macro-F1, per-label precision/recall, calibration error."""

from __future__ import annotations

import itertools

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def classification_report(
    truth: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, names: list[str]
) -> dict:
    """Accuracy, macro-F1, ECE and per-label precision/recall/F1/support (labels present in truth)."""
    per_label = {}
    f1s = []
    for index, name in enumerate(names):
        support = int((truth == index).sum())
        predicted_here = int((predicted == index).sum())
        hits = int(((truth == index) & (predicted == index)).sum())
        precision = hits / predicted_here if predicted_here else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if support:
            f1s.append(f1)
        if support or predicted_here:
            per_label[name] = {
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "f1": round(f1, 4),
                "support": support,
            }
    correct = truth == predicted
    return {
        "accuracy": round(float(correct.mean()) if len(truth) else 0.0, 4),
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
        "ece": round(expected_calibration_error(confidence, correct), 4),
        "count": len(truth),
        "per_label": per_label,
    }


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, n_labels: int) -> np.ndarray:
    matrix = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix
