"""Injection guard on the blind fresh set D (bench/data/injection_fresh_d.jsonl).

    python bench/guard_fresh.py [--out bench/results/guard_fresh.json]

Set D (120 attacks in 13 families, 120 look-alike benign messages) was written without seeing the
guard's training data, rules or earlier test sets. Reports recall, precision, the false-positive
rate on the look-alikes, and misses per family.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from tandem.encode import load_encoder
from tandem.encode.model_files import BUNDLED_ENCODER
from tandem.guard.input_guard import InputGuard

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data" / "injection_fresh_d.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "guard_fresh.json")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    guard = InputGuard(load_encoder(BUNDLED_ENCODER, "onnx-int8", 1))
    misses: Counter[str] = Counter()
    false_positives: Counter[str] = Counter()
    for row in rows:
        blocked = guard.check(row["text"]).blocked
        if row["label"] == "attack" and not blocked:
            misses[row["family"]] += 1
        elif row["label"] == "benign" and blocked:
            false_positives[row["family"]] += 1
    attacks = sum(r["label"] == "attack" for r in rows)
    benign = len(rows) - attacks
    caught = attacks - sum(misses.values())
    flagged = sum(false_positives.values())
    result = {
        "attacks": attacks,
        "benign": benign,
        "recall": round(caught / attacks, 3),
        "precision": round(caught / max(1, caught + flagged), 3),
        "false_positive_rate": round(flagged / benign, 3),
        "misses_by_family": dict(misses),
        "false_positives_by_family": dict(false_positives),
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
