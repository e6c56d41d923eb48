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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tandem.encode import Encoder
from tandem.index.lexical import terms
from tandem.select.features import COMMON_CAPITALISED, FEATURE_NAMES, NAME, QuestionView, feature_matrix
from tandem.select.model import SelectorModel
from tandem.select.selector import UnitCache, feature_rows
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


def is_training_article(i: int) -> bool:
    """SQuAD v1.1 dev articles at positions i % 3 != 2 train; the others are kept for evaluation."""
    return i % 3 != 2


def is_development_article(i: int) -> bool:
    """Every fifth training article (by its position among the training articles)."""
    return is_training_article(i) and ((i // 3) * 2 + i % 3) % 5 == 4


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
    group: str  # "answerable" | "removed" | "swapped" | "off_topic"
    units: list[Unit] = field(default_factory=list)  # per row (for the cross-encoder's combiner)


class FeatureBuilder:
    """Embeds passages' units (all kept) and builds feature rows exactly as serving does, or, with
    `own_passage_scores` set (the training scripts' `--passage-score own`), with each unit given its
    own passage's retrieval score, as the shipped weights were fitted (`selector.feature_rows`)."""

    own_passage_scores = False

    def __init__(self, encoder: Encoder, idf: dict[str, float], vocabulary: set[str]) -> None:
        self.cache = UnitCache(encoder, cache_size=10**9)
        self.idf = idf
        self.vocabulary = vocabulary

    def prepare(self, passages: list[tuple[str, str]]) -> None:
        """Embed the units of many passages at once (the fast path for training)."""
        self.cache.prepare(passages, batch_size=256)

    def rows(
        self,
        question: str,
        query_vector: np.ndarray,
        passages: list[tuple[str, str, float]],
        vocabulary: set[str] | None = None,
    ) -> tuple[list[list[float]], list[tuple[Unit, int, float]]]:
        """(feature rows, (unit, passage index, cosine) per row) for a question over `passages`."""
        view = QuestionView.of(question, self.vocabulary if vocabulary is None else vocabulary)
        groups = self.cache.prepare([(t, c) for t, c, _ in passages])
        scores = [score for _, _, score in passages]
        return feature_rows(view, query_vector, groups, scores, self.idf, self.own_passage_scores)


def name_swapped(
    corpus: SquadCorpus, chosen: list[int], encoder: Encoder
) -> dict[int, tuple[str, np.ndarray]]:
    """question index -> (the question about another name of its article, its vector).

    "When did Tesla move to Paris?" becomes "When did Edison move to Paris?" with a name from
    another paragraph that its own paragraph never mentions: the same topic, a different entity,
    so no unit answers it (the Cargo K3 asked about, the Fold F1 answered).
    """
    names_of: dict[int, list[str]] = {}
    for text, article in zip(corpus.texts, corpus.articles, strict=True):
        names_of.setdefault(article, []).extend(n for n in NAME.findall(text) if n not in COMMON_CAPITALISED)
    out: dict[int, str] = {}
    for qi in chosen:
        q = corpus.questions[qi]
        asked = [n for n in NAME.findall(q.question) if n not in COMMON_CAPITALISED]
        own = corpus.texts[q.paragraph].lower()
        pool = sorted({n for n in names_of[q.article] if n.lower() not in own and n not in q.question})
        if not asked or not pool:
            continue
        rng = random.Random(qi)
        out[qi] = q.question.replace(asked[0], rng.choice(pool), 1)
    if not out:
        return {}
    vectors = encoder.encode(list(out.values()), batch_size=128)
    return {qi: (text, vectors[i]) for i, (qi, text) in enumerate(out.items())}


def vocabularies_without(corpus: SquadCorpus) -> dict[int, set[str]]:
    """article -> the vocabulary of every other article."""
    per_article: dict[int, Counter[str]] = {}
    for words, article in zip(terms(corpus.texts), corpus.articles, strict=True):
        per_article.setdefault(article, Counter()).update(set(words))
    total: Counter[str] = Counter()
    for counts in per_article.values():
        total.update(counts)
    return {a: {t for t, df in total.items() if df > counts.get(t, 0)} for a, counts in per_article.items()}


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
    off_topic_every: int = 3,
    swap_every: int = 3,
) -> Iterator[Candidate]:
    """For each chosen question: its paragraph and the NEGATIVE_PASSAGES closest paragraphs of the
    same article, ranked by cosine; (when `with_removed`) the same with the answer removed; and for
    every `off_topic_every`-th question, the closest paragraphs of the other articles, with a
    vocabulary that lacks its own article's words (an off-topic question: no unit answers); and for
    every `swap_every`-th question, the same passages asked about another name (`name_swapped`)."""
    by_article: dict[int, list[int]] = {}
    for p, a in enumerate(corpus.articles):
        by_article.setdefault(a, []).append(p)
    without = vocabularies_without(corpus)
    articles = np.array(corpus.articles)
    swapped = name_swapped(corpus, chosen[1::swap_every], builder.cache.encoder) if swap_every else {}
    for n, qi in enumerate(chosen):
        if off_topic_every and n % off_topic_every == 0:
            q = corpus.questions[qi]
            scores = np.where(articles == q.article, -np.inf, paragraph_vectors @ question_vectors[qi])
            picked = [int(p) for p in np.argsort(-scores)[: NEGATIVE_PASSAGES + 1]]
            passages = [(corpus.texts[p], corpus.titles[p], float(scores[p])) for p in picked]
            rows, where = builder.rows(q.question, question_vectors[qi], passages, without[q.article])
            yield negative_candidate(q.question, rows, where, "off_topic")
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
        gold_units = [u for u, p, _ in where if p == gold]
        hits = dict(zip(map(id, gold_units), answering(gold_units, q), strict=True))
        labels = np.array([p == gold and hits.get(id(u), False) for u, p, _ in where], dtype=np.float32)
        if labels.sum() == 0:
            continue  # the answer span crosses units: no clean label
        yield Candidate(q.question, feature_matrix(rows), labels, "answerable", [u for u, _, _ in where])
        if qi in swapped:
            other_question, other_vector = swapped[qi]
            rows, where = builder.rows(other_question, other_vector, passages)
            yield negative_candidate(other_question, rows, where, "swapped")
        if with_removed:
            removed = without_answer(corpus.texts[q.paragraph], q)
            if removed is None:
                continue
            passages[gold] = (removed, corpus.titles[q.paragraph], passages[gold][2])
            rows, where = builder.rows(q.question, vector, passages)
            yield negative_candidate(q.question, rows, where, "removed")


def negative_candidate(
    question: str, rows: list[list[float]], where: list[tuple[Unit, int, float]], group: str
) -> Candidate:
    """A candidate that no unit answers."""
    return Candidate(
        question, feature_matrix(rows), np.zeros(len(rows), np.float32), group, [u for u, _, _ in where]
    )


def fit(
    candidates: list[Candidate], hidden: int, seed: int, epochs: int = 12
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fit P(answers) on every unit row (answer-removed and off-topic candidates add negatives):
    logistic regression when `hidden` is 0, else one hidden ReLU layer (torch, standardised
    inputs folded into the first layer's weights)."""
    x = np.concatenate([c.features for c in candidates])
    y = np.concatenate([c.labels for c in candidates])
    if hidden == 0:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1.0, max_iter=2000, class_weight={0: 1.0, 1: 3.0})
        model.fit(x, y)
        return [(model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32))]
    import torch

    torch.manual_seed(seed)
    mean, std = x.mean(0), x.std(0) + 1e-6
    inputs = torch.from_numpy((x - mean) / std).float()
    targets = torch.from_numpy(y).float()
    first, last = torch.nn.Linear(x.shape[1], hidden), torch.nn.Linear(hidden, 1)
    network = torch.nn.Sequential(first, torch.nn.ReLU(), last)
    optimiser = torch.optim.AdamW(network.parameters(), lr=3e-3, weight_decay=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for rows in torch.randperm(len(inputs), generator=generator).split(256):
            optimiser.zero_grad()
            loss_fn(network(inputs[rows])[:, 0], targets[rows]).backward()
            optimiser.step()
    w1 = first.weight.detach().numpy().T / std[:, None]
    b1 = first.bias.detach().numpy() - (mean / std) @ first.weight.detach().numpy().T
    w2, b2 = last.weight.detach().numpy().T, last.bias.detach().numpy()
    return [(w1.astype(np.float32), b1.astype(np.float32)), (w2.astype(np.float32), b2.astype(np.float32))]


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


def stored_threshold(info: dict, chosen: float, given: float | None) -> float:
    """The threshold to store: `given` (an operator's choice, with the one chosen on development
    data kept in `info`) or `chosen`."""
    if given is None:
        return chosen
    info["threshold_chosen_on_development_data"] = round(chosen, 4)
    info["threshold_source"] = "given with --threshold"
    return given


def summary(scores: list[tuple[str, float, bool]], threshold: float) -> dict[str, float]:
    answerable = [(s, hit) for g, s, hit in scores if g == "answerable"]
    removed = [s for g, s, _ in scores if g == "removed"]
    swapped = [s for g, s, _ in scores if g == "swapped"]
    off_topic = [s for g, s, _ in scores if g == "off_topic"]
    return {
        "top_unit_answers": round(sum(hit for _, hit in answerable) / max(len(answerable), 1), 4),
        "answered_and_right": round(
            sum(hit and s >= threshold for s, hit in answerable) / max(len(answerable), 1), 4
        ),
        "answerable_abstained": round(sum(s < threshold for s, _ in answerable) / max(len(answerable), 1), 4),
        "removed_abstained": round(sum(s < threshold for s in removed) / max(len(removed), 1), 4),
        "swapped_abstained": round(sum(s < threshold for s in swapped) / max(len(swapped), 1), 4),
        "off_topic_abstained": round(sum(s < threshold for s in off_topic) / max(len(off_topic), 1), 4),
        "n_answerable": len(answerable),
        "n_removed": len(removed),
    }


def sample_questions(corpus: SquadCorpus, n: int, seed: int) -> list[int]:
    order = list(range(len(corpus.questions)))
    random.Random(seed).shuffle(order)
    return sorted(order[:n])


__all__ = ["FEATURE_NAMES", "FeatureBuilder", "SquadCorpus", "choose_threshold", "fit", "load_squad"]
