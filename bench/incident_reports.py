"""Reported safety incidents: does a router's `incident` pattern label set find them, and only them?

    python bench/incident_reports.py [--router examples/router/router.toml] [--label-set incident]

The data (`bench/data/incident_reports_blind.jsonl`): 100 chat messages written for this benchmark
by someone who had not seen the patterns, 50 reporting a safety incident (fire, smoke, melting, a
swollen battery, a crash, an injury, a part failing while riding; some understated, a few in
German, French or Dutch) and 50 look-alikes (safety questions, hypotheticals, brake squeal,
"the app crashed", "no smoke or anything"). Prints the share found and the share of look-alikes
flagged; writes JSON (default bench/results/incident_reports.json) with every miss.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from person_requests import score_and_write
from tandem.route.config import RouterConfig
from tandem.route.patterns import PatternClassifier

ROOT = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--router", type=Path, default=ROOT.parent / "examples" / "router" / "router.toml")
    parser.add_argument("--label-set", default="incident")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "incident_reports_blind.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "incident_reports.json")
    args = parser.parse_args()
    patterns = RouterConfig.load(args.router).label_sets[args.label_set].patterns
    classifier = PatternClassifier(patterns)
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    found = [classifier.matched(r["text"]) is not None for r in rows]
    extra = {"router": str(args.router), "patterns": len(patterns)}
    result = score_and_write(rows, found, "reports_incident", args.out, **extra)
    found_, flagged = result["found"], result["flagged"]
    print(f"{len(patterns)} patterns: reports found {found_}, look-alikes flagged {flagged}")


if __name__ == "__main__":
    main()
