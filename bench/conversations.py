"""Follow-up turns of demo conversations: does search find an expected document first?

    python bench/conversations.py [--split dev|test|all] [--related 0.3]

Each conversation of `examples/demo-kb/conversations.jsonl` is replayed turn by turn over the demo
knowledge base. A turn with expected documents is searched three ways: the last message alone
(what Tandem did before), the previous user turn and this one joined (a naive baseline), and the
turn as `tandem.converse.followup.resolve` makes it standalone (the encoder's cosine to the
previous turn decides whether a short turn starts a new topic). Prints, per method, the share of
follow-up turns and of standalone turns whose top passage comes from an expected document, and how
often `resolve` called a turn a follow-up. Writes JSON (default bench/results/conversations.json).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from tandem.config import Settings
from tandem.converse.followup import resolve
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kb", type=Path, default=ROOT / "examples" / "demo-kb")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--related", type=float, help="the new-topic cosine (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "conversations.json")
    args = parser.parse_args()

    lines = (args.kb / "conversations.jsonl").read_text().splitlines()
    conversations = [json.loads(x) for x in lines if x.strip()]
    conversations = [c for c in conversations if args.split == "all" or c["split"] == args.split]
    settings = Settings.load(None, trace=False, input_guard=False)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        bot = Tandem(Path(scratch) / "index", settings)
        bot.ingest([args.kb / "docs"])
        encoder = bot.encoder

        def related(a: str, b: str) -> float:
            vectors = encoder.encode([a, b])
            return float(np.dot(vectors[0], vectors[1]))

        if args.related is not None:
            import tandem.converse.followup as followup

            followup.RELATED = args.related

        def top_doc(text: str) -> str:
            passages = bot.retriever().search(text, 1).passages
            return passages[0].chunk.doc_id if passages else ""

        resolve_ms: list[float] = []
        for conversation in conversations:
            history: list[str] = []
            for turn in conversation["turns"]:
                text = turn["user"]
                started = time.perf_counter()
                resolution = resolve(text, history, related)
                resolve_ms.append((time.perf_counter() - started) * 1000)
                expected = set(turn.get("expected_docs") or [])
                if expected:
                    joined = f"{history[-1]} {text}" if history else text
                    rows.append(
                        {
                            "conversation": conversation["id"],
                            "split": conversation["split"],
                            "turn": text,
                            "follow_up": bool(turn.get("follow_up")),
                            "resolved": resolution.question,
                            "method": resolution.method,
                            "last_message": top_doc(text) in expected,
                            "joined": top_doc(joined) in expected,
                            "resolve": top_doc(resolution.question) in expected,
                        }
                    )
                history.append(text)

    def rate(subset: list[dict], key: str) -> float | None:
        return round(sum(r[key] for r in subset) / len(subset), 3) if subset else None

    follow_ups = [r for r in rows if r["follow_up"]]
    standalone = [r for r in rows if not r["follow_up"] and r["turn"] != ""]
    figures = {
        method: {"follow_up_turns": rate(follow_ups, method), "standalone_turns": rate(standalone, method)}
        for method in ("last_message", "joined", "resolve")
    }
    detected = {
        "follow_ups_called_follow_up": rate([{"x": r["method"] != "standalone"} for r in follow_ups], "x"),
        "standalone_called_follow_up": rate([{"x": r["method"] != "standalone"} for r in standalone], "x"),
    }
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "split": args.split,
        "follow_up_turns": len(follow_ups),
        "standalone_turns": len(standalone),
        "expected_document_first": figures,
        "detection": detected,
        "resolve_ms_p50_p95": [round(float(np.percentile(resolve_ms, q)), 2) for q in (50, 95)],
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{args.split} split: {len(follow_ups)} follow-up turns, {len(standalone)} standalone turns")
    print(f"{'search with':<14} {'follow-ups':>10} {'standalone':>10}")
    for method, values in figures.items():
        print(f"{method:<14} {values['follow_up_turns']!s:>10} {values['standalone_turns']!s:>10}")
    print(f"resolve took p50 {result['resolve_ms_p50_p95'][0]} ms, p95 {result['resolve_ms_p50_p95'][1]} ms")
    print(
        f"resolve called {detected['follow_ups_called_follow_up']} of follow-ups and "
        f"{detected['standalone_called_follow_up']} of standalone turns follow-ups"
    )


if __name__ == "__main__":
    main()
