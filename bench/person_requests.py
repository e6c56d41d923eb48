"""Requests for a person: does the conversation policy's request detector find them, and only them?

    python bench/person_requests.py [--data bench/data/person_requests_blind.jsonl]

The data: 100 chat messages written for this benchmark by someone who had not seen the patterns,
50 asking to be handed to a person (in many wordings, a few in German, French or Dutch) and 50
look-alikes (how to reach support, negated requests, other people). Prints the share of requests
found and of look-alikes flagged, and each miss; writes JSON (default
bench/results/person_requests.json).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tandem.converse.escalation import asks_for_person
from tandem.route.config import HUMAN_REQUEST_PATTERNS

ROOT = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "person_requests_blind.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "person_requests.json")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    found = [asks_for_person(r["text"], HUMAN_REQUEST_PATTERNS) for r in rows]
    requests = [f for f, r in zip(found, rows, strict=True) if r["asks_for_person"]]
    others = [f for f, r in zip(found, rows, strict=True) if not r["asks_for_person"]]
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "requests": len(requests),
        "look_alikes": len(others),
        "requests_found": round(sum(requests) / max(len(requests), 1), 3),
        "look_alikes_flagged": round(sum(others) / max(len(others), 1), 3),
        "misses": [r["text"] for f, r in zip(found, rows, strict=True) if f != r["asks_for_person"]],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(
        f"requests found {sum(requests)}/{len(requests)} ({result['requests_found']:.3f}), "
        f"look-alikes flagged {sum(others)}/{len(others)} ({result['look_alikes_flagged']:.3f})"
    )


if __name__ == "__main__":
    main()
