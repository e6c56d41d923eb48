"""Label sets matched on the words themselves: "yes" when a message says something the operator
listed (a safety incident told, a legal threat, open frustration), "no" otherwise.

A zero-shot encoder label reads a message's topic ("brake pads" sounds like safety); some
escalations turn on what the customer *reports* ("the charger melted last night"), which a few
reviewed patterns catch in microseconds and explain exactly. A match does not count when a
negation comes just before it ("not on fire") or when it sits in a hypothetical question ("what
should I do if the battery swells?", "can the battery catch fire?").

    [label_sets.incident]
    patterns = ['\\bmelt(ed|ing)\\b', '\\b(caught|on)\\s+fire\\b']
"""

from __future__ import annotations

import re

import numpy as np

from tandem.documents.text_utils import split_sentences

YES, NO = "yes", "no"
NEGATED = re.compile(
    r"\b(not|don't|dont|do not|no need to|never|without|no|nothing|nobody|no one)\b[\w\s]{0,12}$", re.I
)
_CONDITION = re.compile(r"\b(if|in case|whether|unless|what happens|to avoid|to prevent|risk of)\b", re.I)
_MODAL_QUESTION = re.compile(
    r"^\W*(can|could|will|would|should|may|might|is it|is there|are there|does|do)\b", re.IGNORECASE
)
# "which authority would I complain to?", "what court do we go to?": asking how things work
_WHICH_QUESTION = re.compile(
    r"^\W*([^:?]{0,20}[:,]\s*)?(which|what)\s+\w+(\s+\w+)?\s+(would|should|do|could|can)\s+(i|we)\b", re.I
)


def hypothetical(sentence: str, start: int) -> bool:
    """A question about what could happen, not a report of what did: the match at `start` follows a
    condition ("what do I do if ..."), or the question opens with a modal ("can it catch fire?") or
    asks which one ("which authority would I complain to?")."""
    if not sentence.rstrip().endswith("?"):
        return False
    opening = _MODAL_QUESTION.match(sentence) or _WHICH_QUESTION.match(sentence)
    return bool(_CONDITION.search(sentence[:start]) or opening)


class PatternClassifier:
    """Probabilities [yes, no] per text: 1.0 for "yes" when some pattern matches a sentence, not
    negated and not hypothetical."""

    method = "patterns"

    def __init__(self, patterns: list[str]) -> None:
        self.labels = [YES, NO]
        self.patterns = [re.compile(p, re.IGNORECASE) for p in patterns]

    def matched(self, text: str) -> str | None:
        """The first span of `text` that makes it a "yes", or None."""
        for sentence in split_sentences(text) or [text]:
            for pattern in self.patterns:
                for match in pattern.finditer(sentence):
                    before = sentence[: match.start()]
                    if not NEGATED.search(before) and not hypothetical(sentence, match.start()):
                        return match.group(0)
        return None

    def probabilities(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """One row [P(yes), P(no)] per text; `vectors` are not needed (kept for the interface)."""
        return np.stack([row(self.matched(t)) for t in texts]) if texts else np.zeros((0, 2), np.float32)


def row(matched: str | None) -> np.ndarray:
    """[P(yes), P(no)] of a text whose match (`PatternClassifier.matched`) is `matched`."""
    return np.array([1.0, 0.0] if matched is not None else [0.0, 1.0], dtype=np.float32)
