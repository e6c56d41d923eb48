"""Training data and fitting for the evidence selector (used by `scripts/train_selector.py`).

Examples come from SQuAD v1.1 (CC BY-SA 4.0): each question is asked of its own paragraph and of
the paragraphs of the same article closest to it (hard negatives), every unit labelled by whether
it holds the answer span. The same question asked of its paragraph with the answer sentence
removed is the realistic on-topic unanswerable case: no unit answers, so the best unit's score on
it is what the abstention threshold must stay above.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tandem.encode import Encoder
from tandem.index.lexical import terms
from tandem.select.features import FEATURE_NAMES, QuestionView, feature_matrix, unit_features
from tandem.select.model import SelectorModel
from tandem.select.units import Unit, passage_units

NEGATIVE_PASSAGES = 2


@dataclass(frozen=True)
class SquadQuestion:
    article: int
    paragraph: int  # index into the flat paragraph list
    question: str
    answer_starts: tuple[int, ...]
    answers: tuple[str, ...]


@dataclass
class SquadCorpus:
    titles: list[str]  # per paragraph
    texts: list[str]
    articles: list[int]  # per paragraph
    questions: list[SquadQuestion]


def load_squad(path: Path, keep_article: Callable[[int], bool]) -> SquadCorpus:
    """Paragraphs and questions of the articles at positions `keep_article(i)` (file order)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    corpus = SquadCorpus([], [], [], [])
    for i, article in enumerate(data):
        if not keep_article(i):
            continue
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"]:
            p = len(corpus.texts)
            corpus.titles.append(title)
            corpus.texts.append(paragraph["context"])
            corpus.articles.append(i)
            for qa in paragraph["qas"]:
                starts = tuple(a["answer_start"] for a in qa["answers"])
                answers = tuple(a["text"] for a in qa["answers"])
                corpus.questions.append(SquadQuestion(i, p, qa["question"], starts, answers))
    return corpus


def answering(units: list[Unit], question: SquadQuestion) -> list[bool]:
    """Which units hold an annotated answer span (first annotator's span start)."""
    start = question.answer_starts[0]
    end = start + len(question.answers[0])
    return [u.start <= start and end <= u.end + 1 for u in units]


def without_answer(text: str, question: SquadQuestion) -> str | None:
    """The paragraph with every unit overlapping an answer span removed; None when nothing is left
    or the answer text still appears."""
    spans = [(s, s + len(a)) for s, a in zip(question.answer_starts, question.answers, strict=True)]
    units = passage_units(text)
    kept = [u for u in units if not any(u.start < e and s < u.end for s, e in spans)]
    if not kept or len(kept) == len(units):
        return None
    remaining = " ".join(text[u.start : u.end] for u in kept)
    if any(a.lower() in remaining.lower() for a in question.answers):
        return None
    return remaining


@dataclass
class Candidate:
    """One question over its candidate passages: a feature row per unit, its labels."""

    question: str
    features: np.ndarray
    labels: np.ndarray
    group: str  # "answerable" | "removed"


class FeatureBuilder:
    """Embeds passages' units (cached) and builds feature rows as serving does."""

    def __init__(self, encoder: Encoder, idf: dict[str, float], vocabulary: set[str]) -> None:
        self.encoder = encoder
        self.idf = idf
        self.vocabulary = vocabulary
        self._units: dict[tuple[str, str], tuple[list[Unit], np.ndarray, np.ndarray, list, list]] = {}

    def prepare(self, passages: list[tuple[str, str]], batch: int = 256) -> None:
        """Embed the units of many passages at once (fast path for training)."""
        todo = [key for key in dict.fromkeys(passages) if key not in self._units]
        cut = [passage_units(text, context) for text, context in todo]
        flat = [u for units in cut for u in units]
        texts = [u.text for u in flat] + [u.with_context() for u in flat]
        vectors = self.encoder.encode(texts, batch_size=batch) if texts else np.zeros((0, 384), np.float32)
        unit_terms = terms([u.text for u in flat]) if flat else []
        context_terms = terms([u.context for u in flat]) if flat else []
        at = 0
        for key, units in zip(todo, cut, strict=True):
            n = len(units)
            self._units[key] = (
                units,
                vectors[at : at + n],
                vectors[len(flat) + at : len(flat) + at + n],
                [set(t) for t in unit_terms[at : at + n]],
                [set(t) for t in context_terms[at : at + n]],
            )
            at += n

    def rows(self, question: str, query_vector: np.ndarray, passages: list[tuple[str, str, float]]):
        """(feature rows, units with their passage index) for a question over `passages`."""
        self.prepare([(t, c) for t, c, _ in passages])
        view = QuestionView.of(question, self.vocabulary)
        rows, where = [], []
        for p, (text, context, score) in enumerate(passages):
            units, plain, with_context, unit_terms, context_terms = self._units[(text, context)]
            if not units:
                continue
            cosine, cosine_context = plain @ query_vector, with_context @ query_vector
            best = float(cosine.max())
            for i, unit in enumerate(units):
                rows.append(
                    unit_features(
                        view, unit.text, unit_terms[i], unit.context, context_terms[i], unit.kind,
                        (float(cosine[i]), float(cosine_context[i]), best), (p, score), self.idf,
                    )
                )  # fmt: skip
                where.append((p, unit))
        return rows, where


def corpus_idf(texts: list[str]) -> tuple[dict[str, float], set[str]]:
    """BM25-style idf of every term of `texts`, and the vocabulary."""
    counts: Counter[str] = Counter()
    for words in terms(texts):
        counts.update(set(words))
    n = len(texts)
    return {t: math.log((n + 1) / (df + 0.5)) for t, df in counts.items()}, set(counts)


def squad_candidates(
    corpus: SquadCorpus,
    builder: FeatureBuilder,
    paragraph_vectors: np.ndarray,
    question_vectors: np.ndarray,
    chosen: list[int],
    with_removed: bool,
) -> Iterator[Candidate]:
    """For each chosen question: its paragraph and the NEGATIVE_PASSAGES closest paragraphs of the
    same article, ranked by cosine; and (when `with_removed`) the same with the answer removed."""
    by_article: dict[int, list[int]] = {}
    for p, a in enumerate(corpus.articles):
        by_article.setdefault(a, []).append(p)
    for qi in chosen:
        q = corpus.questions[qi]
        vector = question_vectors[qi]
        same = np.array(by_article[q.article])
        scores = paragraph_vectors[same] @ vector
        order = [int(same[i]) for i in np.argsort(-scores) if int(same[i]) != q.paragraph]
        picked = sorted(
            [q.paragraph, *order[:NEGATIVE_PASSAGES]], key=lambda p: -float(paragraph_vectors[p] @ vector)
        )
        passages = [(corpus.texts[p], corpus.titles[p], float(paragraph_vectors[p] @ vector)) for p in picked]
        rows, where = builder.rows(q.question, vector, passages)
        gold = picked.index(q.paragraph)
        gold_units = [u for p, u in where if p == gold]
        hits = dict(zip(map(id, gold_units), answering(gold_units, q), strict=True))
        labels = np.array([p == gold and hits.get(id(u), False) for p, u in where], dtype=np.float32)
        if labels.sum() == 0:
            continue  # the answer span crosses units: no clean label
        yield Candidate(q.question, feature_matrix(rows), labels, "answerable")
        if with_removed:
            removed = without_answer(corpus.texts[q.paragraph], q)
            if removed is None:
                continue
            passages[gold] = (removed, corpus.titles[q.paragraph], passages[gold][2])
            rows, _ = builder.rows(q.question, vector, passages)
            yield Candidate(q.question, feature_matrix(rows), np.zeros(len(rows), np.float32), "removed")


def fit(
    candidates: list[Candidate], hidden: int, seed: int, epochs: int = 60
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fit P(answers) on every unit row (answer-removed candidates add only negatives)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    x = np.concatenate([c.features for c in candidates])
    y = np.concatenate([c.labels for c in candidates])
    if hidden == 0:
        model = LogisticRegression(C=1.0, max_iter=2000, class_weight={0: 1.0, 1: 3.0})
        model.fit(x, y)
        return [(model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32))]
    network = MLPClassifier(
        hidden_layer_sizes=(hidden,), alpha=1e-3, max_iter=epochs, random_state=seed,
        early_stopping=True, n_iter_no_change=8, validation_fraction=0.1,
    )  # fmt: skip
    network.fit(x, y)
    return [
        (w.astype(np.float32), b.astype(np.float32))
        for w, b in zip(network.coefs_, network.intercepts_, strict=True)
    ]


def question_scores(model: SelectorModel, candidates: list[Candidate]) -> list[tuple[str, float, bool]]:
    """(group, best unit's probability, whether the best unit is an answering one) per candidate."""
    out = []
    for c in candidates:
        probability = model.probability(c.features)
        best = int(np.argmax(probability))
        out.append((c.group, float(probability[best]), bool(c.labels[best])))
    return out


def choose_threshold(scores: list[tuple[str, float, bool]], max_answerable_abstained: float) -> float:
    """The highest threshold that abstains on at most `max_answerable_abstained` of the answerable
    questions (abstaining on answer-removed ones as often as it can)."""
    answerable = sorted(s for g, s, _ in scores if g == "answerable")
    if not answerable:
        return 0.5
    at = math.floor(max_answerable_abstained * len(answerable))
    return float(answerable[min(at, len(answerable) - 1)])


def summary(scores: list[tuple[str, float, bool]], threshold: float) -> dict[str, float]:
    answerable = [(s, hit) for g, s, hit in scores if g == "answerable"]
    removed = [s for g, s, _ in scores if g == "removed"]
    return {
        "top_unit_answers": round(sum(hit for _, hit in answerable) / max(len(answerable), 1), 4),
        "answered_and_right": round(
            sum(hit and s >= threshold for s, hit in answerable) / max(len(answerable), 1), 4
        ),
        "answerable_abstained": round(sum(s < threshold for s, _ in answerable) / max(len(answerable), 1), 4),
        "removed_abstained": round(sum(s < threshold for s in removed) / max(len(removed), 1), 4),
        "n_answerable": len(answerable),
        "n_removed": len(removed),
    }


def sample_questions(corpus: SquadCorpus, n: int, seed: int) -> list[int]:
    order = list(range(len(corpus.questions)))
    random.Random(seed).shuffle(order)
    return sorted(order[:n])


__all__ = ["FEATURE_NAMES", "FeatureBuilder", "SquadCorpus", "choose_threshold", "fit", "load_squad"]
