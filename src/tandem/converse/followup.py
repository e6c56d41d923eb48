"""A follow-up question made standalone from the conversation before it, for retrieval and selection.

"How much does the Trail T5 cost?" then "And the Fold F1?": searched alone, the second turn finds
nothing about prices. Three cases, told apart by the words of the turn (and its closeness in meaning
to the one before):

- **Ellipsis with a new name** ("And the Fold F1?", "what about the K3"): the previous question is
  asked again with the new name in place of the old one ("How much does the Fold F1 cost?").
- **A reference back** ("how much does it cost?", "can I return that?", a short turn with no names
  of its own): the turn is searched with the previous turn's names and its CARRY_WORDS longest
  content words (the whole previous turn would outweigh the new one in search).
- **Enough to stand alone, but pointing back** ("I live in Austria, is that a problem?", a long
  turn with "it" or "that" that reads as another topic by meaning): searched joined to the whole
  previous turn.

A turn that names things of its own and has enough words, or reads as a new topic by meaning, and
points nowhere back, is left alone. The original turn is kept for the answer's text and the trace;
only search and selection read the resolved one.

>>> resolve("And the Fold F1?", ["How much does the Trail T5 cost?"]).question
'How much does the Fold F1 cost?'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tandem.index.lexical import FUNCTION_WORDS, content_terms

_CONTINUES = re.compile(
    r"^\s*(?:and|but|also|so|ok(?:ay)?,?\s+and|what about|how about|and what about|same for|what of)\b",
    re.I,
)
_BACK_REFERENCE = re.compile(r"\b(?:it|its|it's|itself|that|this|those|these|they|them|their|same)\b", re.I)
_NAME = re.compile(
    r"\b(?:[A-Za-z][a-z]+\+?\s+)?[A-Za-z][A-Za-z]?\d+[A-Za-z0-9]*\b|(?<=\w\s)[A-Z][a-z]+(?:[A-Z][a-z]+)*\+?(?:\s\d+\b)?(?![A-Za-z0-9])"
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+'-]*")
_NOT_NAMES = {
    "I", "Is", "Are", "Can", "Could", "Do", "Does", "Did", "Will", "Would", "Should", "May", "Must", "Has",
    "Have", "How", "What", "When", "Where", "Which", "Who", "Why", "The", "A", "An", "My", "If", "And", "Or",
    "Hi", "Hello", "Please", "Thanks", "It", "There", "In", "On", "At", "For", "To", "With", "OK", "Okay",
    "But", "Also", "So", "About", "That", "This", "Those", "These", "They", "Them", "Same", "Pedalwise",
}  # fmt: skip
SHORT_TURN = 4  # content words: a turn with this few, and no names, may lean on what came before
STRONG_TURN = 3  # ... with this few and a word pointing back ("it", "and"), or one fewer, it does
ELLIPSIS_TERMS = 1  # a new name and at most this many other words (one more after "and"): ellipsis
CARRY_WORDS = 4  # content words a leaning-back turn takes from the turn before (chosen on the dev split)
RELATED = 0.15  # cosine to the previous turn below which a short turn starts a new topic
ENOUGH_TERMS = 4  # content words with which a follow-up may be read as asked when its resolved form fails


@dataclass(frozen=True)
class Resolution:
    """The turn as asked, as searched, and how it was resolved."""

    original: str
    question: str
    method: str  # "standalone" | "substituted" | "carried" | "joined"
    carried: tuple[str, ...] = ()

    @property
    def follow_up(self) -> bool:
        return self.method != "standalone"


def names(text: str) -> list[str]:
    """Product names and codes a turn mentions ("Fold F1", "K3", "Care+"), in order: model codes
    with the capitalised word before them, and capitalised words inside a sentence."""
    found = []
    for name in _NAME.findall(text):
        words = name.split()
        if len(words) > 1 and (words[0].lower() in FUNCTION_WORDS or words[0] in _NOT_NAMES):
            words = words[1:]  # "the f1" is "f1"
        if words and words[0] not in _NOT_NAMES:
            found.append(" ".join(words))
    return found


def resolve(
    turn: str, history: Sequence[str], related: Callable[[str, str], float] | None = None
) -> Resolution:
    """`turn` made standalone from the earlier user turns `history` (oldest first); `related`
    scores how close two turns are in meaning (the encoder's cosine): a short turn with no word
    pointing back and below RELATED of the previous turn starts a new topic."""
    earlier = [h for h in history if h.strip()]
    if not earlier:
        return Resolution(turn, turn, "standalone")
    own_names = names(turn)
    own_terms = set(content_terms(turn))
    continues = bool(_CONTINUES.search(turn))
    refers_back = bool(_BACK_REFERENCE.search(turn))
    name_terms = {t for n in own_names for t in content_terms(n)}
    previous = earlier[-1]
    if own_names and not continues and len(own_terms - name_terms) >= SHORT_TURN - 1:
        # names its own subject and says enough about it, unless it points back ("is that ok in Austria?")
        return _pointing_back(turn, previous) if refers_back else Resolution(turn, turn, "standalone")
    previous_names = names(previous)
    extra = len(own_terms - name_terms)  # what the turn says besides the name it brings
    if (
        own_names
        and previous_names
        and (extra <= ELLIPSIS_TERMS or (continues and extra <= ELLIPSIS_TERMS + 1))
    ):
        asked = previous
        for old in previous_names:
            asked = asked.replace(old, own_names[0])
        asked = re.sub(rf"(?:\b{re.escape(own_names[0])}\b[\s,]*(?:and|or)?\s*)+", own_names[0] + " ", asked)
        return Resolution(turn, asked.strip(), "substituted", tuple(previous_names))
    size = len(own_terms)
    leans_back = ((refers_back or continues) and size <= STRONG_TURN) or size <= STRONG_TURN - 1
    if not leans_back:  # it may continue the conversation, or start a new topic: meaning decides
        if not (continues or refers_back or size <= SHORT_TURN):
            return Resolution(turn, turn, "standalone")
        if related is not None and related(turn, previous) < RELATED:
            return _pointing_back(turn, previous) if refers_back else Resolution(turn, turn, "standalone")
    if not content_terms(previous) and len(earlier) < 2:
        return Resolution(turn, turn, "standalone")
    context = previous if content_terms(previous) else earlier[-2]
    carried = carried_words(context, turn)
    return Resolution(turn, f"{' '.join(carried)} {turn.strip()}", "carried", tuple(names(context)))


def says_enough(turn: str) -> bool:
    """Whether a follow-up has words enough (ENOUGH_TERMS content words) to be searched as asked when
    its resolved form finds no answer: of the follow-ups of seven demo conversation sets whose
    resolved form abstained, those answered from an expected document when asked alone were 37 of 46
    with at least 4 content words and 37 of 65 with fewer (docs/benchmarks.md, 2026-12-07)."""
    return len(content_terms(turn)) >= ENOUGH_TERMS


def _pointing_back(turn: str, previous: str) -> Resolution:
    """A turn that says enough to stand alone, or reads as a new topic, but points back ("does that
    still apply if I use the bike for deliveries?"): searched joined to the turn before it, whole
    (carrying a few words missed what "that" was more often: `bench/conversations.py`)."""
    if not content_terms(previous):
        return Resolution(turn, turn, "standalone")
    return Resolution(turn, f"{previous.strip()} {turn.strip()}", "joined", tuple(names(previous)))


def carried_words(context: str, turn: str) -> list[str]:
    """What a turn that leans back takes from the turn before: its names, then its CARRY_WORDS
    longest content words (length standing in for rarity) that the turn does not already say.
    The whole earlier question would outweigh the new turn in search."""
    own = set(content_terms(turn))
    carried_names = names(context)
    in_names = {w for name in carried_names for w in name.split()}
    words: list[str] = []
    for word in _WORD.findall(context):
        stems = content_terms(word)
        if stems and stems[0] not in own and word not in words and word not in in_names:
            words.append(word)
    longest = sorted(words, key=len, reverse=True)[:CARRY_WORDS]
    return [*carried_names, *[w for w in words if w in longest]]
