"""Tracing overhead: ask latency on the demo questions with tracing on vs off (target <= 3% p50).

    python bench/tracing.py [--rounds 2] [--out bench/results/tracing.json]

Each question is asked with tracing off and on, alternating which goes first, so drift in machine
load hits both sides alike. Also times the trace write itself (build + SQLite insert), which is
the whole of the overhead: spans are recorded either way; only building and storing the trace is
switched off.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from tandem.config import Settings
from tandem.evaluate.demo_kb import demo_index_dir, demo_kb_root, demo_questions
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--questions", type=int, default=None, help="first N demo questions (default all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tracing.json")
    args = parser.parse_args()
    settings = Settings.load(None)
    traced = Tandem(demo_index_dir(), settings)
    traced.ingest([demo_kb_root() / "docs"])
    untraced = Tandem(  # the same loaded models
        demo_index_dir(),
        settings.model_copy(update={"trace": False}),
        encoder=traced.encoder,
        generator=traced.generator,
    )
    questions = [q["question"] for q in demo_questions()][: args.questions]
    traced.ask(questions[0])  # warm-up
    timings: dict[str, list[float]] = {"off": [], "on": []}
    after_answer: dict[str, list[float]] = {"off": [], "on": []}  # wall time past the answer's own total
    for round_number in range(args.rounds):
        for i, question in enumerate(questions):
            order = [("off", untraced), ("on", traced)]
            if (i + round_number) % 2:
                order.reverse()
            for name, bot in order:
                started = time.perf_counter()
                answer = bot.ask(question)
                wall_ms = (time.perf_counter() - started) * 1000
                timings[name].append(wall_ms)
                after_answer[name].append(wall_ms - answer.timings["total_ms"])
    p50 = {k: statistics.median(v) for k, v in timings.items()}
    result = {
        "asks_per_side": len(timings["on"]),
        "p50_ms_off": round(p50["off"], 1),
        "p50_ms_on": round(p50["on"], 1),
        "p50_overhead_pct": round(100 * (p50["on"] - p50["off"]) / p50["off"], 2),
        "mean_ms_off": round(statistics.fmean(timings["off"]), 1),
        "mean_ms_on": round(statistics.fmean(timings["on"]), 1),
        "store_trace_p50_ms": round(
            statistics.median(after_answer["on"]) - statistics.median(after_answer["off"]), 2
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
