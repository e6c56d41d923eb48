"""Train the encoder-based injection classifier on the `train` split and write its head.

    python scripts/train_injection_guard.py [--encoder all-MiniLM-L6-v2] [--backend onnx-int8]
                                            [--target-fpr 0.01] [--out PATH.npz]

Each training message becomes the pieces the classifier will score at run time
(`injection_views`): an ordinary message is one piece; for an attack hidden in base64, hex or
rot13 the decoded payload is the injection piece, since the classifier takes the highest score
over pieces. The regularisation strength and the thresholds are chosen by repeated stratified
cross-validation on the train split: C by out-of-fold recall averaged over low false-positive
rates (one-standard-error rule), the message threshold as the lowest that keeps out-of-fold false
positives on the (deliberately hard) benign messages at or below --target-fpr, and the strict
threshold (used for documents) as the lowest with none. The test split is never read.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from tandem.encode import load_encoder
from tandem.guard import INJECTION_DATASET, decoded_payloads, injection_examples
from tandem.guard.injection_model import InjectionHead, injection_views

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "tandem" / "guard" / "data" / "injection_head.npz"
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)


def training_pieces(text: str, label: str) -> list[str]:
    """The pieces that carry the label: for an encoded attack, only its decoded payloads."""
    pieces = injection_views(text)
    if label == "injection" and decoded_payloads(text):
        decoded = pieces[1:]
        return decoded or pieces
    return pieces


def fit(vectors: np.ndarray, labels: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    return model.fit(vectors, labels)


def example_scores(model: LogisticRegression, vectors: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    """Highest piece probability per example (pieces are grouped by `owners`)."""
    scores = np.zeros(n)
    np.maximum.at(scores, owners, model.predict_proba(vectors)[:, 1])
    return scores


def threshold_for(benign_scores: np.ndarray, target_fpr: float) -> float:
    """Just above the benign score that must not pass, so at most target_fpr of them do."""
    allowed = int(np.floor(target_fpr * len(benign_scores)))
    ranked = np.sort(benign_scores)[::-1]
    return float(min(0.99, ranked[allowed] + 1e-3)) if allowed < len(ranked) else 0.5


def cross_validate(
    vectors: np.ndarray, piece_labels: np.ndarray, owners: np.ndarray, labels: np.ndarray, c: float,
    folds: int, repeats: int,
) -> np.ndarray:  # fmt: skip
    """Out-of-fold probability per example, averaged over `repeats` shuffled k-fold splits."""
    total = np.zeros(len(labels))
    for repeat in range(repeats):
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=repeat)
        for train_rows, held_rows in splitter.split(np.zeros(len(labels)), labels):
            train_mask = np.isin(owners, train_rows)
            model = fit(vectors[train_mask], piece_labels[train_mask], c)
            held_mask = np.isin(owners, held_rows)
            scores = example_scores(model, vectors[held_mask], owners[held_mask], len(labels))
            total[held_rows] += scores[held_rows]
    return total / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default="all-MiniLM-L6-v2")
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    rows = injection_examples("train")
    labels = np.array([row["label"] == "injection" for row in rows], dtype=int)
    encoder = load_encoder(args.encoder, args.backend, args.threads)
    pieces, piece_labels, owners, blocks = [], [], [], []
    for i, row in enumerate(rows):
        mine = training_pieces(row["text"], row["label"])
        blocks.append(encoder.encode(mine))  # one message per batch, as InjectionClassifier.score does
        pieces += mine
        piece_labels += [labels[i]] * len(mine)
        owners += [i] * len(mine)
    vectors = np.vstack(blocks)
    piece_labels_arr, owners_arr = np.array(piece_labels), np.array(owners)
    print(f"{len(rows)} train messages ({labels.sum()} injection), {len(pieces)} pieces", file=sys.stderr)

    trials = []
    for c in C_GRID:
        oof = cross_validate(vectors, piece_labels_arr, owners_arr, labels, c, args.folds, args.repeats)
        benign, attacks = oof[labels == 0], oof[labels == 1]
        threshold = threshold_for(benign, args.target_fpr)
        # Recall averaged over a band of low false-positive rates: a single point at 1% rests on two
        # or three benign messages and jumps between neighbouring values of C.
        band = [threshold_for(benign, share * args.target_fpr) for share in (0.5, 1, 2, 3, 5)]
        trials.append(
            {
                "c": c,
                "band_recall": float(np.mean([(attacks >= t).mean() for t in band])),
                "threshold": threshold,
                "recall": float((attacks >= threshold).mean()),
                "fpr": float((benign >= threshold).mean()),
                "strict_threshold": threshold_for(benign, 0.0),
            }
        )
        t = trials[-1]
        print(
            f"C={c:<5} threshold {threshold:.3f}  cv recall {t['recall']:.3f}  cv FPR {t['fpr']:.3f}  "
            f"low-FPR band recall {t['band_recall']:.3f}  strict threshold {t['strict_threshold']:.3f}",
            file=sys.stderr,
        )
    # One-standard-error rule: the strongest regularisation whose band recall is within one standard
    # error of the best (the curve is flat across C, so the best point is mostly noise).
    top = max(t["band_recall"] for t in trials)
    margin = float(np.sqrt(top * (1 - top) / labels.sum()))
    chosen = next(t for t in trials if t["band_recall"] >= top - margin)
    model = fit(vectors, piece_labels_arr, chosen["c"])
    threshold, recall, fpr = chosen["threshold"], chosen["recall"], chosen["fpr"]
    head = InjectionHead(
        weights=model.coef_[0].astype(np.float32),
        bias=float(model.intercept_[0]),
        threshold=threshold,
        strict_threshold=max(threshold, chosen["strict_threshold"]),
        model_id=encoder.model_id,
        backend=encoder.backend,
        dataset_sha256=hashlib.sha256(INJECTION_DATASET.read_bytes()).hexdigest(),
        train_counts={"injection": int(labels.sum()), "benign": int(len(labels) - labels.sum())},
        regularisation=chosen["c"],
        cv_recall=recall,
        cv_false_positive_rate=fpr,
    )
    head.save(args.out)
    print(
        f"wrote {args.out}: C={chosen['c']}, threshold {threshold:.3f} (strict {head.strict_threshold:.3f}), "
        f"cv recall {recall:.3f}, cv FPR {fpr:.3f}"
    )


if __name__ == "__main__":
    main()
