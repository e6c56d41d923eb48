"""Requests for a person: does the conversation policy's request detector find them, and only them?

    python bench/person_requests.py [--data bench/data/person_requests_blind.jsonl] [--patterns-only]

The data: 100 chat messages written for this benchmark by someone who had not seen the patterns,
50 asking to be handed to a person (in many wordings, a few in German, French or Dutch) and 50
look-alikes (how to reach support, negated requests, other people); the patterns of 2026-12-07
were written with its misses in view, so it is no longer blind. The detector is the one the
conversation policy uses: its patterns, then closeness in meaning to the shipped examples
(`PersonRequestDetector`; `--patterns-only` for the patterns alone). Its threshold was set on
`bench/data/person_requests_dev.jsonl` (30 requests and 30 look-alikes written for that). Prints
the share of requests found and of look-alikes flagged, and each miss; writes JSON (default
bench/results/person_requests.json).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tandem.converse.escalation import asks_for_person
from tandem.converse.person_request import PersonRequestDetector
from tandem.encode import load_encoder
from tandem.route.config import HUMAN_REQUEST_PATTERNS

ROOT = Path(__file__).resolve().parent


def score_and_write(rows: list[dict], found: list[bool], key: str, out: Path, **extra: object) -> dict:
    """How many of the rows with `key` true were found and how many of the others were flagged;
    written to `out` as JSON with every miss (shared with bench/incident_reports.py)."""
    wanted = [f for f, r in zip(found, rows, strict=True) if r[key]]
    others = [f for f, r in zip(found, rows, strict=True) if not r[key]]
    result = {
        "date": time.strftime("%Y-%m-%d"),
        **extra,
        "found": f"{sum(wanted)}/{len(wanted)}",
        "flagged": f"{sum(others)}/{len(others)}",
        "found_share": round(sum(wanted) / max(len(wanted), 1), 3),
        "flagged_share": round(sum(others) / max(len(others), 1), 3),
        "misses": [r["text"] for f, r in zip(found, rows, strict=True) if f != r[key]],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "person_requests_blind.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "person_requests.json")
    parser.add_argument("--patterns-only", action="store_true", help="the policy's patterns alone")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    if args.patterns_only:
        asks = asks_for_person
    else:
        asks = PersonRequestDetector(load_encoder("all-MiniLM-L6-v2", "onnx-int8", 1)).asks
    found = [asks(r["text"], HUMAN_REQUEST_PATTERNS) for r in rows]
    method = "patterns" if args.patterns_only else "patterns and meaning"
    result = score_and_write(rows, found, "asks_for_person", args.out, method=method)
    print(f"{method}: requests found {result['found']}, look-alikes flagged {result['flagged']}")


if __name__ == "__main__":
    main()
