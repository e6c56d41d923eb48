"""Router benchmark on Banking77: train with the CLI's defaults, evaluate on messages never trained on.

    python bench/route.py [--data ../shared/data/banking77/train.csv] [--test-share 0.15]
                          [--method lora] [--out bench/results/route.json] [--zero-shot-only]

The training file is split (stratified, seed 0) into a training part and a held-out test part;
`tandem route train` runs on the training part exactly as a user would (its own validation split
and early stopping inside), then `tandem route eval` runs on the test part. Also reports zero-shot
accuracy from the 77 label names alone. Data: Banking77 (PolyAI, CC BY 4.0).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tandem.route.config import Label, LabelSet, RouterConfig
from tandem.route.data import read_labelled, stratified_split
from tandem.route.evaluate import evaluate_router
from tandem.route.router import Router

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "banking77" / "train.csv"


def write_csv(path: Path, texts: list[str], labels: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(zip(texts, labels, strict=True))


def zero_shot(test_texts: list[str], test_labels: list[str]) -> dict:
    """Labels described only by their names ("card_arrival" -> "card arrival")."""
    names = sorted(set(test_labels))
    config = RouterConfig(label_sets={"intent": LabelSet(labels=[Label(name=n) for n in names])})
    router = Router(config)
    from tandem.route.data import LabelledData

    report = evaluate_router(router, LabelledData(test_texts, test_labels), "intent")
    return {k: report[k] for k in ("accuracy", "macro_f1", "ece", "latency_ms")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--test-share", type=float, default=0.15)
    parser.add_argument("--method", default="lora")
    parser.add_argument("--extra", default="", help='More flags for `tandem route train`, e.g. "--epochs 3".')
    parser.add_argument("--zero-shot-only", action="store_true")
    parser.add_argument("--keep", type=Path, help="Keep the trained router and the split CSVs here.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "route.json")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"no data at {args.data}: this benchmark needs ../shared/data/banking77")

    data = read_labelled(args.data, "text", "category")
    train_rows, test_rows = stratified_split(data.labels, args.test_share, seed=0)
    test = data.subset(test_rows)
    results: dict = {
        "data": str(args.data),
        "train_messages": len(train_rows),
        "test_messages": len(test_rows),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or 'unknown CPU'}",
        "date": time.strftime("%Y-%m-%d"),
    }
    results["zero_shot_label_names"] = zero_shot(test.texts, test.labels)
    print("zero-shot from label names:", json.dumps(results["zero_shot_label_names"]), flush=True)
    if not args.zero_shot_only:
        with tempfile.TemporaryDirectory() as scratch:
            folder = args.keep or Path(scratch)
            folder.mkdir(parents=True, exist_ok=True)
            train = data.subset(train_rows)
            write_csv(folder / "train.csv", train.texts, train.labels)
            write_csv(folder / "test.csv", test.texts, test.labels)
            started = time.perf_counter()
            trained = subprocess.run(
                [sys.executable, "-m", "tandem.cli", "route", "train", str(folder / "train.csv"),
                 "--text-column", "text", "--label-column", "category", "--out", str(folder / "router"),
                 "--method", args.method, "--json", *shlex.split(args.extra)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results["train_wall_seconds"] = round(time.perf_counter() - started, 1)
            results["training"] = json.loads(trained.stdout)
            evaluated = subprocess.run(
                [sys.executable, "-m", "tandem.cli", "route", "eval", str(folder / "test.csv"),
                 "--router", str(folder / "router"), "--text-column", "text", "--label-column", "category",
                 "--json", "--confusion", str(args.out.with_suffix(".confusion.png"))],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            report = json.loads(evaluated.stdout)
            results["test"] = {k: v for k, v in report.items() if k != "per_label"}
        print(
            f"{args.method}: test accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}, "
            f"ECE {report['ece']:.4f}; training {results['train_wall_seconds']} s (wall, incl. start-up); "
            f"latency p50 {report['latency_ms']['p50']} ms"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
