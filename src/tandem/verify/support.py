"""The encoder checks the decoder: how well does a passage back an answer sentence?

Support combines meaning (cosine of the sentence to the closest sentence of the passage) and
wording (share of the sentence's content words found in the passage). A number in the sentence
that the passage does not contain halves the score: small decoders invent figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tandem.documents.text_utils import FAQ_ANSWER as _FAQ_ANSWER
from tandem.documents.text_utils import FAQ_QUESTION as _FAQ_QUESTION
from tandem.documents.text_utils import LIST_ITEM as _LIST_ITEM
from tandem.documents.text_utils import readable, split_sentences
from tandem.encode import Encoder
from tandem.index.lexical import terms

_CITATION_MARK = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
MAX_QUOTE_CHARS = 400  # a list is quoted whole, with its lead-in, only up to this length


def _joined_list(lead_in: str, items: list[str]) -> str:
    """'Lead-in: a; b; c.' from a lead-in line and its list items."""
    parts = [readable(item) for item in items]
    open_ended = (".", ",", ";", "!", "?", " or", " and")  # items that already lead on to the next
    parts = [p if p.endswith(open_ended) else f"{p};" for p in parts[:-1]] + parts[-1:]
    last = parts[-1] if parts[-1].endswith((".", "!", "?")) else f"{parts[-1]}."
    return " ".join([readable(lead_in), *parts[:-1], last])


def quote_around(pieces: list[str], best: int, text: str) -> str:
    """What to quote when piece `best` of passage `text` (split into `pieces`) is closest to the
    question.

    A question (a heading such as "Forgot your password?") is answered by the piece after it. A
    lead-in line ending in ':' brings its list, and a list item brings its lead-in and the other
    items, when the whole list is short; a longer list gives the piece alone. Markdown markup is
    dropped.
    """
    piece = pieces[best]
    if piece.rstrip().endswith("?") and best + 1 < len(pieces):
        return readable(pieces[best + 1])
    lines = [line for line in text.split("\n") if line.strip()]
    at = next((i for i, line in enumerate(lines) if piece in line), None)
    if at is None:
        return readable(piece)
    start = at
    if _LIST_ITEM.match(lines[at]):
        while start > 0 and _LIST_ITEM.match(lines[start - 1]):
            start -= 1
        if start == 0 or not lines[start - 1].rstrip().endswith(":"):
            return readable(piece)
        start -= 1
    elif not (piece.rstrip().endswith(":") and lines[at].rstrip().endswith(":")):
        return readable(piece)
    end = start + 1
    while end < len(lines) and _LIST_ITEM.match(lines[end]):
        end += 1
    if end == start + 1:  # a lead-in with no list after it: the next line completes it
        return readable(piece) if end >= len(lines) else f"{readable(piece)} {readable(lines[end])}"
    quote = _joined_list(lines[start], lines[start + 1 : end])
    return quote if len(quote) <= MAX_QUOTE_CHARS else readable(piece)


_LEAD_IN = re.compile(
    r"^(?:the answer(?: to (?:the|your) question)? is|answer|passages?(?: \d+)?|"
    r"according to (?:the )?(?:passage|document(?:ation)?)s?(?: \d+)?|"
    r"(?:the )?(?:passage|document) (?:says|states)(?: that)?)\s*[:,]?\s*",
    re.IGNORECASE,
)


def strip_lead_in(sentence: str) -> str:
    """Drop filler the model puts before the content ("The answer is:", "Passage 1:")."""
    stripped = _LEAD_IN.sub("", sentence, count=1).strip()
    return stripped[:1].upper() + stripped[1:] if stripped else stripped


_CONVERSATIONAL = set(
    terms(
        [
            "you your want wants know knows how what why when where which who do does did can could "
            "would should i my me ask asking question about tell wonder like"
        ]
    )[0]
)


def restates(sentence: str, question: str) -> bool:
    """True when a sentence adds no content word to the question (an echo, not an answer)."""
    sentence_terms = set(terms([sentence])[0]) - _CONVERSATIONAL
    return not sentence_terms or sentence_terms <= set(terms([question])[0])


def strip_citation_marks(sentence: str) -> tuple[str, list[int]]:
    """Remove [n] markers, returning the clean sentence and the numbers it cited."""
    numbers = [int(n) for n in _CITATION_MARK.findall(sentence)]
    return _CITATION_MARK.sub("", sentence).strip(), numbers


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


@dataclass(frozen=True)
class Support:
    passage_index: int
    score: float
    semantic: float
    lexical: float
    numbers_ok: bool
    evidence: str = ""  # the passage sentence closest in meaning: what a reader should look at


class PreparedPassages:
    """Passage sentences embedded once per question, then scored against any number of sentences."""

    def __init__(self, encoder: Encoder, passages: list[str], semantic_weight: float) -> None:
        self.encoder = encoder
        self.semantic_weight = semantic_weight
        self.texts = passages
        self.pieces = [split_sentences(p) or [p] for p in passages]
        self.flat = [s for group in self.pieces for s in group]
        self.vectors = encoder.encode(self.flat) if self.flat else np.zeros((0, encoder.dimension))
        self.bounds = np.cumsum([0, *[len(g) for g in self.pieces]])
        self.terms = [set(t) for t in terms(passages)] if passages else []
        self.numbers = [numbers_in(p) for p in passages]

    def best_sentence(
        self, query_vector: np.ndarray, within: int, only: int | None = None
    ) -> tuple[int, str, float]:
        """(passage index, sentence, cosine) of the sentence closest to the query in the first
        `within` passages: the extractive fallback."""
        end = int(self.bounds[min(within, len(self.pieces))])
        if end == 0:
            return 0, "", 0.0
        scores = self.vectors[:end] @ query_vector
        if only is not None:
            outside = np.ones(end, dtype=bool)
            outside[self.bounds[only] : self.bounds[only + 1]] = False
            scores = np.where(outside, -np.inf, scores)
        best = int(np.argmax(scores))
        passage = int(np.searchsorted(self.bounds, best, side="right") - 1)
        pieces = self.pieces[passage]
        if self.flat[best].startswith(_FAQ_QUESTION):
            # The user's question matches an FAQ question: its answer is the whole reply.
            sentence = " ".join(pieces[1:]).removeprefix(_FAQ_ANSWER) if len(pieces) > 1 else ""
        else:
            at = best - int(self.bounds[passage])
            sentence = quote_around(pieces, at, self.texts[passage]).removeprefix(_FAQ_ANSWER)
        return passage, sentence, float(scores[best])

    def best_per_passage(self, query_vector: np.ndarray) -> list[float]:
        """Cosine of the query to each passage's closest sentence."""
        within = len(self.pieces)
        return [self.best_sentence(query_vector, within, only=i)[2] for i in range(within)]

    def score(self, sentences: list[str], sentence_vectors: np.ndarray | None = None) -> list[list[Support]]:
        """support[i][j]: how well passage j backs sentence i (pass the sentences' vectors when
        the caller already has them)."""
        if not sentences or not self.flat:
            return [[] for _ in sentences]
        if sentence_vectors is None:
            sentence_vectors = self.encoder.encode(sentences)
        similarity = sentence_vectors @ self.vectors.T
        result: list[list[Support]] = []
        for i, words_list in enumerate(terms(sentences)):
            words, needed = set(words_list), numbers_in(sentences[i])
            row = []
            for j in range(len(self.pieces)):
                within = similarity[i, self.bounds[j] : self.bounds[j + 1]]
                closest = int(within.argmax())
                semantic = float(within[closest])
                lexical = len(words & self.terms[j]) / len(words) if words else 0.0
                numbers_ok = needed <= self.numbers[j]
                mixed = self.semantic_weight * semantic + (1 - self.semantic_weight) * lexical
                score = mixed if numbers_ok else mixed / 2
                evidence = self.pieces[j][closest].removeprefix(_FAQ_ANSWER)
                row.append(Support(j, score, semantic, lexical, numbers_ok, evidence))
            result.append(row)
        return result


class SupportJudge:
    """Scores sentence-passage pairs with the retrieval encoder and BM25's analyser."""

    def __init__(self, encoder: Encoder, semantic_weight: float = 0.5) -> None:
        self.encoder = encoder
        self.semantic_weight = semantic_weight

    def prepare(self, passages: list[str]) -> PreparedPassages:
        return PreparedPassages(self.encoder, passages, self.semantic_weight)

    def judge(self, sentences: list[str], passages: list[str]) -> list[list[Support]]:
        return self.prepare(passages).score(sentences)
