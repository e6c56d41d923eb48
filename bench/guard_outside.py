"""Injection guard on attack data written by others (`data/guard/outside/*.jsonl`), plus its false
positives on ordinary messages.

    python bench/guard_outside.py [--sources a,b] [--split all|test] [--out bench/results/guard_outside.json]

For each outside source: recall on its attacks, the false-positive rate on its benign rows (when it
has any), and recall by language and family. Then the false-positive rate on 1,000 Banking77
messages (the sample `bench/guard.py` uses) and on the demo question set, and the guard's latency.
`data/guard/outside/README.md` says which source the guard was never trained on (the blind one);
training reads at most half of each other source (chosen by a hash of the text), and `--split test`
scores only the other half.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import platform
import random
import statistics
import time
from collections import Counter
from pathlib import Path

from tandem.encode import load_encoder
from tandem.encode.model_files import BUNDLED_ENCODER
from tandem.evaluate.demo_kb import demo_questions
from tandem.guard.input_guard import InputGuard

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = ROOT / "data" / "guard" / "outside"
BANKING = ROOT.parent / "shared" / "data" / "banking77" / "train.csv"
BLIND = frozenset({"cyberseceval"})  # never trained or tuned on: scored whole


def rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def score_source(guard: InputGuard, rows: list[dict]) -> dict:
    """Recall on attacks, false-positive rate on benign rows, recall per language and family."""
    attacks = [r for r in rows if r["label"] == "injection"]
    benign = [r for r in rows if r["label"] == "benign"]
    caught_by: dict[str, Counter[str]] = {"lang": Counter(), "family": Counter()}
    seen_by: dict[str, Counter[str]] = {"lang": Counter(), "family": Counter()}
    missed: list[str] = []
    caught = 0
    for row in attacks:
        blocked = guard.check(row["text"]).blocked
        caught += blocked
        for key in ("lang", "family"):
            value = row.get(key) or "unknown"
            seen_by[key][value] += 1
            caught_by[key][value] += blocked
        if not blocked and len(missed) < 15:
            missed.append(row["text"][:160])
    flagged = sum(guard.check(row["text"]).blocked for row in benign)
    by = {
        key: {v: {"n": n, "recall": rate(caught_by[key][v], n)} for v, n in seen_by[key].most_common()}
        for key in ("lang", "family")
    }
    return {
        "attacks": len(attacks),
        "recall": rate(caught, len(attacks)),
        "benign": len(benign),
        "false_positive_rate": rate(flagged, len(benign)),
        "by": by,
        "missed_examples": missed,
    }


def ordinary_messages() -> dict[str, list[str]]:
    """The Banking77 sample of `bench/guard.py` and the demo questions."""
    sets: dict[str, list[str]] = {"demo questions": [q["question"] for q in demo_questions()]}
    if BANKING.is_file():
        with BANKING.open(newline="") as handle:
            texts = [row["text"] for row in csv.DictReader(handle)]
        sets["banking77 (1,000)"] = random.Random(0).sample(texts, 1000)
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=OUTSIDE, help="folder of outside JSONL files")
    parser.add_argument("--sources", default="", help="comma-separated file stems (default: all)")
    parser.add_argument("--split", choices=("all", "test"), default="all")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "guard_outside.json")
    args = parser.parse_args()
    files = sorted(args.data.glob("*.jsonl"))
    if args.sources:
        wanted = set(args.sources.split(","))
        files = [f for f in files if f.stem in wanted]
    if not files:
        raise SystemExit(f"no outside data in {args.data}: run scripts/build_outside_injection_sets.py")
    guard = InputGuard(load_encoder(BUNDLED_ENCODER, "onnx-int8", 1))
    guard.check("warm-up")
    results: dict[str, dict] = {"sources": {}, "ordinary": {}}
    print(f"{'source':32s} {'attacks':>7s} {'recall':>7s} {'benign':>7s} {'FPR':>7s}")
    for path in files:
        rows = [json.loads(line) for line in path.read_text().split("\n") if line.strip()]
        if args.split == "test" and path.stem not in BLIND:  # the half training never reads
            rows = [r for r in rows if hashlib.sha256(r["text"].encode("utf-8")).digest()[0] % 2 == 1]
        scored = score_source(guard, rows)
        results["sources"][path.stem] = scored
        print(
            f"{path.stem:32s} {scored['attacks']:7d} {scored['recall'] or 0:7.3f} "
            f"{scored['benign']:7d} {scored['false_positive_rate'] or 0:7.3f}"
        )
        for lang, row in scored["by"]["lang"].items():
            if lang not in ("en", "unknown"):
                print(f"    {lang:28s} {row['n']:7d} {row['recall']:7.3f}")
    timings: list[float] = []
    for name, texts in ordinary_messages().items():
        flagged = []
        for text in texts:
            started = time.perf_counter()
            if guard.check(text).blocked:
                flagged.append(text)
            timings.append((time.perf_counter() - started) * 1000)
        results["ordinary"][name] = {"n": len(texts), "false_positive_rate": rate(len(flagged), len(texts)),
                                     "flagged": flagged[:20]}  # fmt: skip
        print(f"{name:32s} {'':7s} {'':7s} {len(texts):7d} {len(flagged) / max(len(texts), 1):7.3f}")
    results["latency_ms"] = {
        "p50": round(statistics.median(timings), 3),
        "p95": round(statistics.quantiles(timings, n=20)[-1], 3),
    }
    print(f"guard latency on ordinary messages: p50 {results['latency_ms']['p50']} ms, "
          f"p95 {results['latency_ms']['p95']} ms")  # fmt: skip
    results["machine"] = {"platform": platform.platform(), "date": time.strftime("%Y-%m-%d")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
