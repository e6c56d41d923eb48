"""Generator speed: prefill and decode tokens/s of the bundled GGUF model for 1 and 2 threads.

    python bench/generator.py [--threads 1 2] [--runs 5] [--out bench/results/generator.json]

Uses a prompt shaped like Tandem's (system rules + one ~220-token passage + a question), greedy
decoding, with and without Tandem's answer grammar (which also stops the answer early).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from llama_cpp import LlamaGrammar

from tandem.generate.llamacpp import LlamaCppGenerator
from tandem.generate.prompt import ANSWER_GRAMMAR, SYSTEM

ROOT = Path(__file__).resolve().parents[1]
PASSAGE = (
    "Refunds are issued to the original payment method within 5 business days after the "
    "returned bike has been inspected at our warehouse. Card refunds then take 3 to 10 business "
    "days to appear on your statement, depending on your bank. Bank transfers arrive within 2 "
    "business days. If you paid with financing, the loan is cancelled and any instalments you "
    "already paid are refunded in the same way. Shipping costs are refunded only when the bike "
    "arrived damaged or was not what you ordered. "
) * 3


def measure(threads: int, runs: int, max_tokens: int, grammar: bool) -> dict:
    generator = LlamaCppGenerator("smollm2-135m", threads=threads)
    llm = generator.llm
    messages = [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": f'Passages:\n\n[1] Refunds\n"""\n{PASSAGE}\n"""\n\nQuestion: '
            "Explain every step of the refund process in detail.",
        },
    ]
    prompt_tokens = generator.count_tokens("".join(m["content"] for m in messages))
    prefill, decode = [], []
    for _ in range(runs + 1):
        llm.reset()
        started = time.perf_counter()
        first = None
        count = 0
        for chunk in llm.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=0.0,
            stream=True,
            grammar=LlamaGrammar.from_string(ANSWER_GRAMMAR, verbose=False) if grammar else None,
        ):
            if chunk["choices"][0]["delta"].get("content"):
                count += 1
                if first is None:
                    first = time.perf_counter()
        ended = time.perf_counter()
        if first is None or count < 2:
            continue
        prefill.append(prompt_tokens / (first - started))
        decode.append((count - 1) / (ended - first))
    prefill, decode = prefill[1:], decode[1:]  # first run warms caches
    return {
        "threads": threads,
        "grammar": grammar,
        "completion_tokens": count,
        "prompt_tokens": prompt_tokens,
        "prefill_tokens_per_s": round(statistics.median(prefill), 1),
        "decode_tokens_per_s": round(statistics.median(decode), 1),
        "runs": len(decode),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "generator.json")
    args = parser.parse_args()
    results = [measure(t, args.runs, args.max_tokens, g) for t in args.threads for g in (False, True)]
    print(f"{'threads':>7} {'grammar':>7} {'prompt tok':>10} {'prefill tok/s':>14} {'decode tok/s':>13}")
    for r in results:
        print(
            f"{r['threads']:>7} {r['grammar']!s:>7} {r['prompt_tokens']:>10} "
            f"{r['prefill_tokens_per_s']:>14} {r['decode_tokens_per_s']:>13}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "results": results}, indent=2))


if __name__ == "__main__":
    main()
