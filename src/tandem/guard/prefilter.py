"""Which sentence pairs of a document the corpus guard's classifier needs to read.

The classifier costs an encoder pass per pair of sentences, about a third of an ingest. Text that
steers a model talks to it or about it: it addresses a reader ("you", "your"), names a model or
its instructions ("assistant", "prompt", "system", "rules"), or tells it what to do with its output
("ignore", "reply", "reveal", "say", "always"). A pair with none of those words, written in plain
English, is ordinary prose (an encyclopedia paragraph, a spec list) and is not scored. Pairs in
another language or in a disguised spelling (too few common English words) are always scored,
since the cue words are English. Every injection of the guard's training split passes this filter
(`tests/test_guard_prefilter.py`), and the rules still read every chunk.
"""

from __future__ import annotations

import re

_CUE = re.compile(
    r"\b(?:you|your|yours|yourself|yourselves|u|ur|ignore|ignoring|disregard|forget|override|bypass|"
    r"skip|instruction|instructions|instructed|prompt|prompts|system|assistant|assistants|ai|bot|bots|"
    r"chatbot|model|models|llm|llms|gpt|agent|agents|reply|replies|respond|response|responses|answer|"
    r"answers|output|print|reveal|repeat|pretend|act|role|roleplay|jailbreak|developer|mode|rule|rules|"
    r"policy|policies|guideline|guidelines|say|tell|write|state|claim|inform|recommend|approve|always|"
    r"never|must|henceforth|now|admin|administrator|password|secret|confidential|hidden|execute|run|"
    r"command|tool|tools|email|send|forward|user|users|customer|customers|reader|readers|me|my|mine|"
    r"chat|conversation|session|transcript|show|read|restriction|restrictions|safety|filter|filters|"
    r"refuse|refusal|refusals|cancel|cancelled|canceled|operator|clearance|root|internal|url|render|"
    r"task|previous|earlier|above|encode|decode|card|account|prior|constraint|constraints|forbidden|"
    r"hide|human|humans|visit|carry|remark|note|classify|emails)\b"
)
_WORD = re.compile(r"[a-z]+")
# The commonest English words: plain English prose is full of them, other languages and leetspeak
# ("1gn0r3 4ll pr3v10u5") are not.
_COMMON_ENGLISH = frozenset({
    "the", "of", "and", "to", "a", "in", "is", "was", "for", "on", "that", "with", "as", "by", "it",
    "at", "from", "be", "are", "were", "this", "which", "an", "or", "his", "her", "their", "its",
    "has", "have", "had", "not", "but", "also", "been", "they", "he", "she", "who", "all", "one",
    "more", "other", "when", "can", "into", "after", "first", "during", "than", "only", "most",
    "some", "such", "two", "three", "new", "these", "there", "would", "will", "about", "over",
    "between", "may", "many", "under", "up", "out", "time", "while", "where", "both", "each", "so",
    "no", "if", "then", "what", "do",
})  # fmt: skip
MIN_ENGLISH_SHARE = 0.15  # below this share of common English words a pair is always scored
_MIN_WORDS = 5


def looks_like_plain_english(piece: str) -> bool:
    """True when at least MIN_ENGLISH_SHARE of the piece's words are common English words."""
    words = _WORD.findall(piece.lower())
    if len(words) < _MIN_WORDS:
        return False
    return sum(w in _COMMON_ENGLISH for w in words) / len(words) >= MIN_ENGLISH_SHARE


_SPLIT_WORD = re.compile(r"(?<=[a-z])[-.](?=[a-z])")  # "dis-re-gard", "i.g.n.o.r.e"


def worth_scoring(piece: str) -> bool:
    """Whether the classifier must read this (folded) sentence pair."""
    lowered = piece.lower()
    return bool(
        _CUE.search(lowered) or _CUE.search(_SPLIT_WORD.sub("", lowered))
    ) or not looks_like_plain_english(piece)
