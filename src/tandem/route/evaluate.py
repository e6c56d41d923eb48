"""Evaluate one label set of a router on labelled messages: quality, calibration and latency."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from tandem.errors import InputError
from tandem.route.data import LabelledData
from tandem.route.metrics import classification_report, confusion_matrix
from tandem.route.router import Router

LATENCY_SAMPLE = 200


def evaluate_router(
    router: Router, data: LabelledData, label_set: str, confusion_png: Path | None = None
) -> dict:
    """Accuracy, macro-F1, ECE, per-label precision/recall, and per-message latency (p50/p95)."""
    names, probabilities = router.predict(data.texts, label_set)
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({label for label in data.labels if label not in index})
    if unknown:
        raise InputError(
            f"the data has labels the router's {label_set!r} set does not know: {', '.join(unknown[:5])}"
            + (" ..." if len(unknown) > 5 else "")
        )
    truth = np.array([index[label] for label in data.labels])
    predicted = probabilities.argmax(1)
    report = classification_report(truth, predicted, probabilities.max(1), names)
    report["label_set"] = label_set
    report["method"] = router.classifiers()[label_set].method
    report["latency_ms"] = _latency(router, data.texts, label_set)
    if confusion_png is not None:
        save_confusion_png(confusion_matrix(truth, predicted, len(names)), names, confusion_png)
        report["confusion_png"] = str(confusion_png)
    return report


def _latency(router: Router, texts: list[str], label_set: str) -> dict:
    """One message at a time, as in serving."""
    sample = texts[:: max(len(texts) // LATENCY_SAMPLE, 1)][:LATENCY_SAMPLE]
    router.predict(sample[:2], label_set)  # warm-up
    timings = []
    for text in sample:
        started = time.perf_counter()
        router.predict([text], label_set)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "p50": round(statistics.median(timings), 2),
        "p95": round(timings[int(0.95 * (len(timings) - 1))], 2),
        "messages": len(timings),
    }


def save_confusion_png(matrix: np.ndarray, names: list[str], path: Path) -> None:
    """A row-normalised confusion matrix as a heat map (labels on both axes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, np.maximum(rows, 1))
    size = max(6.0, 0.16 * len(names) + 3)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(names)), names, rotation=90, fontsize=5 if len(names) > 30 else 8)
    axes.set_yticks(range(len(names)), names, fontsize=5 if len(names) > 30 else 8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix (share of each true label)")
    figure.colorbar(image, ax=axes, fraction=0.03)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150)
    plt.close(figure)
