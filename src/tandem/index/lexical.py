"""BM25 over chunk texts with bm25s (English stopwords, Snowball stemming)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.ERROR)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english").stemWords


def terms(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed word lists."""
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


FUNCTION_WORDS = {  # words that say how a question is asked, not what about
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "back", "be",
    "been", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "get", "got", "had",
    "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "mine", "more", "much",
    "my", "need", "no", "not", "now", "of", "ok", "okay", "on", "one", "or", "please", "same", "should",
    "so", "still", "tell", "than", "thank", "thanks", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "to", "too", "want", "was", "we", "what", "when", "where", "which",
    "who", "why", "will", "with", "would", "yes", "you", "your",
}  # fmt: skip


def content_terms(text: str) -> list[str]:
    """A text's stemmed words without function words ("how", "it", "can", "my"): what it is about."""
    return [t for t in terms([text])[0] if t not in FUNCTION_WORDS]


class LexicalIndex:
    """BM25 scores for every chunk row; rows match the vector rows and SQLite `chunks.row`."""

    def __init__(self, retriever: bm25s.BM25, size: int) -> None:
        self.retriever = retriever
        self.size = size
        self.vocabulary = set(retriever.vocab_dict) if size else set()

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        if texts:
            retriever.index(terms(texts), show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        if not size:
            return cls(bm25s.BM25(), 0)
        return cls(bm25s.BM25.load(str(folder), mmap=False, show_progress=False), size)

    def idf(self, words: set[str] | frozenset[str]) -> dict[str, float]:
        """BM25-style idf of each of `words` (analysed terms) in this index."""
        if not self.size:
            return {}
        indptr = self.retriever.scores["indptr"]
        weights = {}
        for word in words:
            ident = self.retriever.vocab_dict.get(word)
            found = 0 if ident is None else int(indptr[ident + 1] - indptr[ident])
            weights[word] = float(np.log((self.size + 1) / (found + 0.5)))
        return weights

    def coverage(self, query: str, rows: np.ndarray) -> np.ndarray:
        """IDF-weighted share of the query's terms that each of `rows` contains (0..1).

        BM25 saturates on short chunks (an FAQ pair that shares three common words wins); coverage
        asks instead whether the rare words of the question are there at all.
        """
        query_terms = set(terms([query])[0])
        if not query_terms or not self.size or rows.size == 0:
            return np.zeros(rows.size, dtype=np.float32)
        matrix = self.retriever.scores
        indptr, postings = matrix["indptr"], matrix["indices"]
        total = np.zeros(rows.size, dtype=np.float32)
        weight_sum = 0.0
        for term in query_terms:
            ident = self.retriever.vocab_dict.get(term)
            found = 0 if ident is None else int(indptr[ident + 1] - indptr[ident])
            weight = float(np.log((self.size + 1) / (found + 0.5)))
            weight_sum += weight
            if found:
                total += weight * np.isin(rows, postings[indptr[ident] : indptr[ident + 1]])
        return total / weight_sum if weight_sum > 0 else total

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row (zeros when no query term is in the vocabulary)."""
        known = [t for t in terms([query])[0] if t in self.vocabulary]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)
