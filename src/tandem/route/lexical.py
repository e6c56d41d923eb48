"""A lexical intent model: TF-IDF of words, word pairs and character n-grams, then a linear layer.

Its mistakes differ from the encoder's (it sees exact words like "PIN" or "top-up"), so the two
are combined. Stored as plain arrays (no pickles), so a saved router survives library upgrades.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

WORD = re.compile(r"\w\w+")


def _terms(text: str) -> tuple[list[str], list[str]]:
    lowered = text.lower()
    words = WORD.findall(lowered)
    word_terms = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    char_terms = []
    for word in lowered.split():
        padded = f" {word} "
        for n in range(2, 6):
            char_terms += [padded[i : i + n] for i in range(max(len(padded) - n + 1, 0))]
    return word_terms, char_terms


class TfidfFeatures:
    """Two L2-normalised blocks (words, characters) with sublinear term frequency and smooth idf."""

    def __init__(self, word_vocab: list[str], char_vocab: list[str], idf: np.ndarray) -> None:
        self.word_index = {t: i for i, t in enumerate(word_vocab)}
        self.char_index = {t: i + len(word_vocab) for i, t in enumerate(char_vocab)}
        self.word_vocab = word_vocab
        self.char_vocab = char_vocab
        self.idf = idf.astype(np.float32)

    @property
    def size(self) -> int:
        return len(self.idf)

    @classmethod
    def fit(cls, texts: list[str], min_char_df: int = 2) -> TfidfFeatures:
        word_df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        for text in texts:
            words, chars = _terms(text)
            word_df.update(set(words))
            char_df.update(set(chars))
        word_vocab = sorted(word_df)
        char_vocab = sorted(t for t, n in char_df.items() if n >= min_char_df)
        df = np.array([word_df[t] for t in word_vocab] + [char_df[t] for t in char_vocab], dtype=np.float64)
        idf = np.log((1 + len(texts)) / (1 + df)) + 1.0
        return cls(word_vocab, char_vocab, idf)

    def transform(self, texts: list[str]) -> csr_matrix:
        data: list[float] = []
        columns: list[int] = []
        pointers = [0]
        for text in texts:
            words, chars = _terms(text)
            for terms, index in ((words, self.word_index), (chars, self.char_index)):
                counts = Counter(index[t] for t in terms if t in index)
                if counts:
                    cols = np.fromiter(counts.keys(), dtype=np.int64)
                    values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[cols]
                    values /= max(float(np.linalg.norm(values)), 1e-12)
                    columns += cols.tolist()
                    data += values.tolist()
            pointers.append(len(columns))
        return csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(columns, dtype=np.int64), pointers),
            shape=(len(texts), self.size),
        )


def label_coefficients(model, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted scikit-learn logistic regression as one weight row and bias per label index.

    Two classes are stored by scikit-learn as one row; labels absent from training get a bias
    so low that they are never predicted.
    """
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    weights = np.zeros((n_labels, coef.shape[1]), dtype=np.float32)
    bias = np.full(n_labels, -30.0, dtype=np.float32)
    weights[model.classes_] = coef
    bias[model.classes_] = intercept
    return weights, bias


class LexicalClassifier:
    """Multinomial logistic regression over `TfidfFeatures`."""

    def __init__(self, features: TfidfFeatures, weights: np.ndarray, bias: np.ndarray) -> None:
        self.features = features
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self._columns = np.ascontiguousarray(self.weights.T)  # features x labels, for sparse @ dense

    @classmethod
    def fit(cls, texts: list[str], targets: np.ndarray, n_labels: int, c: float = 20.0) -> LexicalClassifier:
        from sklearn.linear_model import LogisticRegression

        features = TfidfFeatures.fit(texts)
        model = LogisticRegression(C=c, max_iter=3000).fit(features.transform(texts), targets)
        return cls(features, *label_coefficients(model, n_labels))

    def logits(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.features.transform(texts) @ self._columns) + self.bias

    def save(self, path: Path) -> None:
        np.savez(
            path,
            word_vocab=np.array(self.features.word_vocab, dtype=str),
            char_vocab=np.array(self.features.char_vocab, dtype=str),
            idf=self.features.idf,
            weights=self.weights,
            bias=self.bias,
        )

    @classmethod
    def load(cls, path: Path) -> LexicalClassifier:
        with np.load(path, allow_pickle=False) as arrays:
            features = TfidfFeatures(
                arrays["word_vocab"].tolist(), arrays["char_vocab"].tolist(), arrays["idf"]
            )
            return cls(features, arrays["weights"], arrays["bias"])
