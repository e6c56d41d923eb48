"""Input checks that need no model: injection rules, PII masking, and the text folding they share.

`scan_rules` flags prompt-injection and jailbreak phrasing; `find_pii`/`redact_pii` mask personal
data; `injection_examples` loads the bundled labelled messages used to measure (and later train)
injection detectors.
"""

from __future__ import annotations

import json
from importlib.resources import files

from tandem.guard.injection_rules import RuleHit, scan_rules
from tandem.guard.normalise import decoded_payloads, normalise_for_scanning
from tandem.guard.pii import PII_KINDS, PiiMatch, find_pii, redact_pii

INJECTION_DATASET = files("tandem.guard") / "data" / "injection.jsonl"


def injection_examples(split: str | None = None) -> list[dict[str, str]]:
    """Rows of data/injection.jsonl (text, label, split, source), all or one split ("train", "test")."""
    rows = [json.loads(line) for line in INJECTION_DATASET.read_text("utf-8").splitlines() if line.strip()]
    return [row for row in rows if split is None or row["split"] == split]


__all__ = [
    "INJECTION_DATASET",
    "PII_KINDS",
    "PiiMatch",
    "RuleHit",
    "decoded_payloads",
    "find_pii",
    "injection_examples",
    "normalise_for_scanning",
    "redact_pii",
    "scan_rules",
]
