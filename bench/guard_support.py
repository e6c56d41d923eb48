"""The input guard on ordinary support messages that are angry, demanding or about personal data.

    python bench/guard_support.py [--out bench/results/guard_support.json]

`bench/data/support_messages.jsonl`: 120 benign customer messages written for the project (never
trained on): furious complaints that threaten a chargeback or a lawyer, data-protection requests
(a copy of my data, delete my account), requests for a person, demanding account changes and
frustrated follow-ups; a few in German, French and Spanish. Also every user turn of
`examples/demo-kb/conversations.jsonl`. None should be blocked: a support assistant that blocks an
angry customer or a subject-access request fails the customer it most needs to serve. Prints the
share blocked per family and the blocked messages; writes JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from tandem.config import Settings
from tandem.pipeline.components import Components

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=Path, default=ROOT / "bench" / "data" / "support_messages.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "guard_support.json")
    args = parser.parse_args()
    guard = Components(Settings.load(None)).input_guard
    families: dict[str, list[str]] = defaultdict(list)
    for line in args.messages.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            families[row["family"]].append(row["text"])
    conversations = ROOT / "examples" / "demo-kb" / "conversations.jsonl"
    for line in conversations.read_text(encoding="utf-8").splitlines():
        if line.strip():
            families["demo_conversation_turns"] += [t["user"] for t in json.loads(line)["turns"]]
    result: dict = {"date": time.strftime("%Y-%m-%d"), "families": {}}
    for family, texts in families.items():
        blocked = [t for t in texts if guard.check(t).blocked]
        result["families"][family] = {"messages": len(texts), "blocked": len(blocked), "examples": blocked}
        print(f"{family:<24} blocked {len(blocked):>3}/{len(texts):<4} ({len(blocked) / len(texts):.1%})")
    written = [f for f in families if f != "demo_conversation_turns"]
    total = sum(result["families"][f]["messages"] for f in written)
    hit = sum(result["families"][f]["blocked"] for f in written)
    result["support_messages_blocked"] = round(hit / total, 4)
    print(f"support messages blocked: {hit}/{total} ({hit / total:.1%})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
