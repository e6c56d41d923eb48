"""Training pairs for the selector's cross-encoder, and the combiner with the first stage.

Each question gives its answering unit (label 1) and hard negatives (label 0): the other units of its
own paragraph or section that share the most words with it, the closest units of another paragraph
of the same article, and (for questions that name something) the answering unit asked about
another name of the article: the same topic and wording, a different entity ("When did Edison move
to Paris?" against "Tesla moved to Paris in 1882."). Units that contain an answer string are never
negatives.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tandem.index.lexical import terms
from tandem.select.cross import CROSS_UNITS, pair_text
from tandem.select.features import COMMON_CAPITALISED, NAME
from tandem.select.model import SelectorModel
from tandem.select.train import SquadCorpus, answering
from tandem.select.train_support import inside_positive, is_support_development, section_context
from tandem.select.units import Unit, passage_units

OWN_NEGATIVES = 3  # other units of the answer's own paragraph or section
OTHER_NEGATIVES = 2  # units of the closest other paragraph of the article


@dataclass
class Pairs:
    texts: list[str]
    labels: list[int]
    sources: list[str]

    def add(self, question: str, unit: Unit, label: int, source: str) -> None:
        self.texts.append(pair_text(question, unit))
        self.labels.append(label)
        self.sources.append(source)

    def extend(self, other: Pairs) -> None:
        self.texts += other.texts
        self.labels += other.labels
        self.sources += other.sources


def _overlap_order(question_terms: set[str], units: list[Unit], rng: random.Random) -> list[Unit]:
    """Units sharing the most question words first (ties in random order)."""
    scored = [
        (len(question_terms & set(t)), rng.random(), u)
        for u, t in zip(units, terms([u.text for u in units]), strict=True)
    ]
    return [u for _, _, u in sorted(scored, key=lambda s: (-s[0], s[1]))]


def _mentions_answer(unit: Unit, answers: tuple[str, ...]) -> bool:
    text = unit.text.lower()
    return any(a.strip().lower() in text for a in answers if a.strip())


def swapped_question(question: str, own_text: str, pool: list[str], rng: random.Random) -> str | None:
    """The question about another name from `pool` that `own_text` never mentions, or None."""
    asked = [n for n in NAME.findall(question) if n not in COMMON_CAPITALISED]
    options = sorted({n for n in pool if n.lower() not in own_text.lower() and n not in question})
    if not asked or not options:
        return None
    return question.replace(asked[0], rng.choice(options), 1)


def squad_pairs(corpus: SquadCorpus, chosen: list[int], seed: int) -> Pairs:
    """Pairs of the chosen questions (indexes into `corpus.questions`)."""
    rng = random.Random(seed)
    pairs = Pairs([], [], [])
    units_of: dict[int, list[Unit]] = {}
    by_article: dict[int, list[int]] = {}
    names_of: dict[int, list[str]] = {}
    for p, (text, article) in enumerate(zip(corpus.texts, corpus.articles, strict=True)):
        by_article.setdefault(article, []).append(p)
        names_of.setdefault(article, []).extend(n for n in NAME.findall(text) if n not in COMMON_CAPITALISED)
    paragraph_terms = [set(t) for t in terms(corpus.texts)]

    def units(p: int) -> list[Unit]:
        if p not in units_of:
            units_of[p] = passage_units(corpus.texts[p], corpus.titles[p])
        return units_of[p]

    for qi in chosen:
        q = corpus.questions[qi]
        own = units(q.paragraph)
        labels = answering(own, q)
        positives = [u for u, hit in zip(own, labels, strict=True) if hit]
        if not positives:
            continue  # the answer crosses units: no clean label
        question_terms = set(terms([q.question])[0])
        for unit in positives:
            pairs.add(q.question, unit, 1, "squad")
        negatives = [
            u for u, hit in zip(own, labels, strict=True) if not hit and not _mentions_answer(u, q.answers)
        ]
        for unit in _overlap_order(question_terms, negatives, rng)[:OWN_NEGATIVES]:
            pairs.add(q.question, unit, 0, "squad-own")
        others = [p for p in by_article[q.article] if p != q.paragraph]
        if others:
            closest = max(others, key=lambda p: (len(question_terms & paragraph_terms[p]), -p))
            candidates = [u for u in units(closest) if not _mentions_answer(u, q.answers)]
            for unit in _overlap_order(question_terms, candidates, rng)[:OTHER_NEGATIVES]:
                pairs.add(q.question, unit, 0, "squad-other")
        swapped = swapped_question(q.question, corpus.texts[q.paragraph], names_of[q.article], rng)
        if swapped is not None:
            pairs.add(swapped, positives[0], 0, "squad-swapped")
    return pairs


def support_pairs(path: Path, development: bool, seed: int) -> Pairs:
    """Pairs from the support-style documentation pairs (`data/selector/support_pairs.jsonl`)."""
    rng = random.Random(seed)
    pairs = Pairs([], [], [])
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if is_support_development(r["doc"]) != development:
            continue
        own = passage_units(r["section"], section_context(r["title"], r["heading"]))
        start = r["section"].index(r["positive"])
        end = start + len(r["positive"])
        flags = inside_positive(own, start, end)
        positives = [u for u, hit in zip(own, flags, strict=True) if hit]
        if not positives:
            continue
        question_terms = set(terms([r["question"]])[0])
        for unit in positives:
            pairs.add(r["question"], unit, 1, "support")
        outside = [u for u in own if u.end <= start or u.start >= end]
        for unit in _overlap_order(question_terms, outside, rng)[:OWN_NEGATIVES]:
            pairs.add(r["question"], unit, 0, "support-own")
        other_units = [
            u
            for n in r["negatives"]
            for u in passage_units(n["section"], section_context(r["title"], n["heading"]))
        ]
        for unit in _overlap_order(question_terms, other_units, rng)[:OTHER_NEGATIVES]:
            pairs.add(r["question"], unit, 0, "support-other")
    return pairs


@dataclass
class CombinerRow:
    """One re-read unit: the first stage's probability, the cross logit, whether it answers."""

    group: str  # the candidate's: "answerable" | "removed" | "swapped" | "off_topic"
    candidate: int
    first: float
    cross: float
    label: float


def combiner_rows(
    candidates: list,  # train.Candidate with `units`
    first_stage: SelectorModel,
    cross_logits: Callable[[list[str]], np.ndarray],
) -> list[CombinerRow]:
    """The CROSS_UNITS best units of every candidate by the first stage, with their cross logits."""
    picked: list[tuple[int, int, float]] = []
    texts = []
    for c_index, candidate in enumerate(candidates):
        probability = first_stage.probability(candidate.features)
        for row in np.argsort(-probability, kind="stable")[:CROSS_UNITS]:
            picked.append((c_index, int(row), float(probability[row])))
            texts.append(pair_text(candidate.question, candidate.units[int(row)]))
    logits = cross_logits(texts)
    return [
        CombinerRow(candidates[c].group, c, first, float(logit), float(candidates[c].labels[row]))
        for (c, row, first), logit in zip(picked, logits, strict=True)
    ]


def fit_combiner(rows: list[CombinerRow]) -> np.ndarray:
    """[weight of the first-stage logit, weight of the cross logit, bias] by logistic regression."""
    from sklearn.linear_model import LogisticRegression

    first = np.clip(np.array([r.first for r in rows]), 1e-6, 1 - 1e-6)
    x = np.stack([np.log(first / (1 - first)), np.array([r.cross for r in rows])], axis=1)
    y = np.array([r.label for r in rows])
    model = LogisticRegression(C=1.0, max_iter=1000, class_weight={0: 1.0, 1: 3.0}).fit(x, y)
    return np.array([*model.coef_[0], model.intercept_[0]], np.float32)


def best_per_candidate(
    rows: list[CombinerRow], score: Callable[[CombinerRow], float]
) -> Iterator[tuple[str, float, bool]]:
    """(group, best score, whether the best unit answers) per candidate: `question_scores`' shape."""
    best: dict[int, CombinerRow] = {}
    for r in rows:
        if r.candidate not in best or score(r) > score(best[r.candidate]):
            best[r.candidate] = r
    for r in best.values():
        yield r.group, score(r), bool(r.label)
