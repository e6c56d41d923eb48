"""Follow-up turns of demo conversations: does search find an expected document first?

    python bench/conversations.py [--split dev|test|blind|blind2|blind3|all] [--conversations FILE]
        [--related 0.3]

Each conversation of `examples/demo-kb/conversations.jsonl` is replayed turn by turn over the demo
knowledge base. A turn with expected documents is searched three ways: the last message alone
(what Tandem did before), the previous user turn and this one joined (a naive baseline), and the
turn as `tandem.converse.followup.resolve` makes it standalone (the encoder's cosine to the
previous turn decides whether a short turn starts a new topic). Prints, per method, the share of
follow-up turns and of standalone turns whose top passage comes from an expected document, and how
often `resolve` called a turn a follow-up. Writes JSON (default bench/results/conversations.json).

`--latency` also times every turn of the follow-up conversations through `Tandem.ask` with the demo
router, twice, interleaved: asked alone, and as the next turn of a stored conversation (loading its
turns, resolving the follow-up, routing over the conversation, storing the turn). Prints both p50s
and the median of the per-turn differences (target, issue 19: at most 30 ms more); and, through
that real flow, the share of follow-up turns whose top passage is an expected document.
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


def add_set_arguments(parser: argparse.ArgumentParser) -> None:
    """--kb, --conversations and --split: which conversations to replay (shared with handoff.py)."""
    parser.add_argument("--kb", type=Path, default=ROOT / "examples" / "demo-kb")
    parser.add_argument(
        "--conversations",
        type=Path,
        help="a conversation file (default: KB/conversations.jsonl; the blind sets: "
        "KB/conversations_blind.jsonl and conversations_blind2.jsonl ... conversations_blind10.jsonl, "
        "splits 'blind' ... 'blind10'; 'mixed' conversations count for both benchmarks)",
    )
    parser.add_argument(
        "--split",
        choices=(
            "dev",
            "test",
            "blind",
            "blind2",
            "blind3",
            "blind4",
            "blind5",
            "blind6",
            "blind7",
            "blind8",
            "blind9",
            "blind10",
            "all",
        ),
        default="all",
    )


def demo_tandem(kb: Path, scratch: Path) -> Tandem:
    """A Tandem over the demo documents, indexed into `scratch` (no traces, no input guard)."""
    bot = Tandem(scratch / "index", Settings.load(None, trace=False, input_guard=False))
    bot.ingest([kb / "docs"])
    return bot


def load_conversations(args: argparse.Namespace, kinds: tuple[str, ...] = ()) -> list[dict]:
    """The conversations of the chosen file and split (and `kinds`, when given)."""
    lines = (args.conversations or args.kb / "conversations.jsonl").read_text().splitlines()
    conversations = [json.loads(x) for x in lines if x.strip()]
    return [
        c for c in conversations
        if (args.split == "all" or c["split"] == args.split) and (not kinds or c["kind"] in kinds)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_set_arguments(parser)
    parser.add_argument("--related", type=float, help="the new-topic cosine (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "conversations.json")
    parser.add_argument("--latency", action="store_true", help="also time stored-conversation turns")
    args = parser.parse_args()

    conversations = load_conversations(args)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        bot = demo_tandem(args.kb, Path(scratch))
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
        latency = turn_latency(bot, args.kb, conversations, Path(scratch)) if args.latency else None

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
        "turn_latency_ms": latency,
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
    if latency:
        print(f"turn latency: {latency}")


def turn_latency(bot: Tandem, kb: Path, conversations: list[dict], scratch: Path) -> dict:
    """p50 wall time of each follow-up conversation's turns asked alone and in a stored conversation."""
    routed = Tandem(
        bot.settings.index_dir,
        bot.settings.model_copy(update={"router": kb.parent / "router" / "router.toml", "data_dir": scratch}),
        encoder=bot.encoder,
    )
    routed.warm_up(generator=False)
    alone, stored, hits = [], [], []
    for conversation in [c for c in conversations if c["kind"] in ("follow_up", "mixed")]:
        cid = routed.start_conversation()
        for number, turn in enumerate(conversation["turns"]):
            timed = {}
            order = ("alone", "stored") if number % 2 else ("stored", "alone")
            for kind in order:
                routed.selector.units._cache.clear()  # both start cold: the units of a passage are cached
                started = time.perf_counter()
                answer = routed.ask(turn["user"], conversation_id=cid if kind == "stored" else None)
                timed[kind] = (time.perf_counter() - started) * 1000
                if kind == "stored" and turn.get("follow_up") and turn.get("expected_docs"):
                    top = answer.passages[0].chunk.doc_id if answer.passages else ""
                    hits.append(top in turn["expected_docs"])
            alone.append(timed["alone"])
            stored.append(timed["stored"])
    differences = np.array(stored) - np.array(alone)
    return {
        "turns": len(alone),
        "alone_p50": round(float(np.median(alone)), 1),
        "conversation_p50": round(float(np.median(stored)), 1),
        "median_difference": round(float(np.median(differences)), 1),
        "flow_follow_up_turns": len(hits),
        "flow_follow_up_expected_first": round(float(np.mean(hits)), 3) if hits else None,
    }


if __name__ == "__main__":
    main()
