"""Decoding speed of the in-process generator when other processes hold cores.

    python bench/decode_contention.py [--busy 0 1] [--runs 4] [--out bench/results/decode_contention.json]

For each number of busy processes (each spins one core in pure Python) and each thread policy
(1 thread, 2 threads, adaptive: 2 threads less the cores others hold right now, `generate/threads.py`),
the bundled SmolLM2-135M answers the same prompt `--runs` times through `LlamaCppGenerator.stream`
(greedy, up to 96 tokens, no grammar); prints the median decode tokens/s and the threads the
adaptive policy chose. The first run of each configuration is a warm-up and not counted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from pathlib import Path

from tandem.generate.base import GenerationStats
from tandem.generate.llamacpp import LlamaCppGenerator

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = [
    {"role": "system", "content": "Answer from the passage only."},
    {
        "role": "user",
        "content": "Passage: Refunds go back to the original payment method within 5 business days after "
        "the returned bike is inspected; card refunds take 3 to 10 more days.\n\n"
        "Question: Explain every step of the refund process in detail.",
    },
]


def spin() -> None:
    while True:
        pass


def measure(policy: str, runs: int) -> dict:
    threads = 1 if policy == "1" else 2
    generator = LlamaCppGenerator("smollm2-135m", threads=threads, adaptive_threads=policy == "adaptive")
    rates, chosen = [], []
    for run in range(runs + 1):
        stats = GenerationStats()
        for _ in generator.stream(MESSAGES, max_tokens=96, stats=stats):
            pass
        if run:
            rates.append(stats.decode_tokens_per_s)
            chosen.append(stats.threads)
    return {
        "policy": policy,
        "decode_tokens_per_s": round(statistics.median(rates), 1),
        "min_tokens_per_s": round(min(rates), 1),
        "threads_chosen": chosen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1], help="busy processes to run beside")
    parser.add_argument("--policies", nargs="+", default=["1", "2", "adaptive"])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "decode_contention.json")
    args = parser.parse_args()
    results = []
    for busy in args.busy:
        spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(busy)]
        for p in spinners:
            p.start()
        time.sleep(1.0)
        try:
            for policy in args.policies:
                results.append({"busy_processes": busy, **measure(policy, args.runs)})
                r = results[-1]
                print(
                    f"busy {busy}  policy {policy:>8}  decode {r['decode_tokens_per_s']:6.1f} tok/s "
                    f"(min {r['min_tokens_per_s']:5.1f})  threads {r['threads_chosen']}",
                    flush=True,
                )
        finally:
            for p in spinners:
                p.terminate()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "results": results}
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
