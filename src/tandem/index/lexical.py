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

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row (zeros when no query term is in the vocabulary)."""
        known = [t for t in terms([query])[0] if t in self.vocabulary]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)
