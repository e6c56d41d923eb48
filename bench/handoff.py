"""Handoff over whole conversations: how often does routing each turn alone hand off the right ones?

    python bench/handoff.py [--router examples/router/router.toml] [--split dev|test|all]

Every turn of the handoff and no-handoff conversations in `examples/demo-kb/conversations.jsonl` is
routed on its own by the demo router (zero-shot label sets and policy), as Tandem routes today. A
conversation counts as handed off when any turn's action is a handoff. A second, conversation-level
rule is replayed on the same labels: also hand off when two or more turns were labelled
`complaint` (frustration that persists). Prints the handoff rate of the conversations that should
be handed off (target issue 19: >= 0.9) and of those that should not (<= 0.1), per rule, and each
conversation's turn labels. Writes JSON (default bench/results/handoff.json).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tandem.encode import load_encoder
from tandem.route.router import Router

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kb", type=Path, default=ROOT / "examples" / "demo-kb")
    parser.add_argument("--router", type=Path, default=ROOT / "examples" / "router" / "router.toml")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "handoff.json")
    args = parser.parse_args()

    lines = (args.kb / "conversations.jsonl").read_text().splitlines()
    conversations = [json.loads(x) for x in lines if x.strip()]
    conversations = [
        c for c in conversations
        if c["kind"] in ("handoff", "no_handoff") and (args.split == "all" or c["split"] == args.split)
    ]  # fmt: skip
    router = Router.from_config(args.router, load_encoder("all-MiniLM-L6-v2", "onnx-int8", 1))
    rows = []
    for conversation in conversations:
        turns = [router.classify(turn["user"]) for turn in conversation["turns"]]
        any_turn = any(d.action.startswith("handoff") for d in turns)
        complaints = sum(d.labels().get("intent") == "complaint" for d in turns)
        rows.append(
            {
                "id": conversation["id"],
                "split": conversation["split"],
                "expected": bool(conversation["handoff_expected"]),
                "turn_rule": any_turn,
                "conversation_rule": any_turn or complaints >= 2,
                "turns": [{"action": d.action, **d.labels()} for d in turns],
            }
        )

    def rates(key: str) -> dict[str, float | None]:
        wanted = [r for r in rows if r["expected"]]
        unwanted = [r for r in rows if not r["expected"]]
        return {
            "handoff_conversations_handed_off": round(sum(r[key] for r in wanted) / len(wanted), 3)
            if wanted
            else None,
            "other_conversations_handed_off": round(sum(r[key] for r in unwanted) / len(unwanted), 3)
            if unwanted
            else None,
        }

    result = {
        "date": time.strftime("%Y-%m-%d"),
        "router": str(args.router),
        "split": args.split,
        "conversations": {
            "handoff": sum(r["expected"] for r in rows),
            "no_handoff": sum(not r["expected"] for r in rows),
        },
        "any_turn_hands_off": rates("turn_rule"),
        "any_turn_or_two_complaints": rates("conversation_rule"),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.split}: {result['conversations']}")
    for name in ("any_turn_hands_off", "any_turn_or_two_complaints"):
        print(f"{name:<28} {result[name]}")
    for r in rows:
        marks = " ".join(f"{t['action']}/{t.get('intent', '')}/{t.get('risk', '')}" for t in r["turns"])
        print(f"  {r['id']} expected {r['expected']!s:<5} turn-rule {r['turn_rule']!s:<5} {marks}")


if __name__ == "__main__":
    main()
