"""Output check: personal data in an answer must come from the question or the cited sources."""

from __future__ import annotations

import re

from tandem.guard.pii import PiiMatch, find_pii


def _compact(text: str) -> str:
    return re.sub(r"[\s().-]", "", text).lower()


def redact_unsourced_pii(answer: str, sources: list[str]) -> tuple[str, list[PiiMatch]]:
    """Mask PII in `answer` that appears in none of `sources` (question, passages); return what was masked."""
    haystack = _compact(" ".join(sources))
    invented = [m for m in find_pii(answer) if _compact(m.text) not in haystack]
    for match in sorted(invented, key=lambda m: m.start, reverse=True):
        answer = answer[: match.start] + match.placeholder + answer[match.end :]
    return answer, invented
