"""Store a new abstention threshold in the shipped cross-encoder head (`select/data/cross_head.npz`).

    python scripts/set_selector_threshold.py --threshold 0.09 --source "why this value"

The head, its combiner and the adapter stay as trained (`scripts/train_selector_cross.py`); only the
threshold changes, and the head's `info` records the old value, the new one and `--source` (where
it was read off: a development split's curve from `bench/answer.py --selector-curve dev`, never an
evaluation set). The selector's version string changes with it, so traces show which was used.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from tandem.select.cross import HEAD_FILE, CrossHead


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threshold", type=float, required=True, help="between 0 and 1")
    parser.add_argument("--source", required=True, help="where the value comes from (stored in the head)")
    parser.add_argument("--head", type=Path, default=HEAD_FILE)
    args = parser.parse_args()
    if not 0.0 < args.threshold < 1.0:
        sys.exit(f"error: --threshold must be between 0 and 1, not {args.threshold}")
    head = CrossHead.load(args.head)
    history = [
        *head.info.get("threshold_history", []),
        {"from": round(head.threshold, 4), "date": time.strftime("%Y-%m-%d")},
    ]
    info = {**head.info, "threshold_source": args.source, "threshold_history": history}
    updated = replace(head, threshold=args.threshold, info=info)
    updated.save(args.head)
    print(f"{args.head}: threshold {head.threshold:.3f} -> {args.threshold:.3f} (version {updated.version})")


if __name__ == "__main__":
    main()
