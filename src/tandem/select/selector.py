"""The evidence selector: which unit of the retrieved passages answers the question, and does any?

    selector = EvidenceSelector(encoder, SelectorModel.load())
    selection = selector.select(question, query_vector, passages, lexical)
    selection.best, selection.answers      # the top unit; False when nothing answers (abstain)

Units are cut from the passages (`passage_units`), each unit text embedded alone (`unit_embedding`;
an index stores them at ingest, and the vectors are cached per passage text), described by
`unit_features` and scored by the trained `SelectorModel`. With a `CrossScorer`, the units that
model ranks best are read again with the question by the cross-encoder, and the two scores combined
(`cross.py`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tandem.encode import Encoder
from tandem.index.lexical import LexicalIndex, terms
from tandem.index.unit_vectors import StoredUnitVectors
from tandem.retrieve.passage import Passage
from tandem.select.cross import CROSS_UNITS, CrossScorer, pair_text
from tandem.select.features import (
    MEASURED_TYPES,
    QuestionView,
    about_another_code,
    codes_asked,
    defined_code,
    entity_codes,
    feature_matrix,
    lacks_measure,
    names_a_sibling,
    unit_features,
)
from tandem.select.model import SelectorModel
from tandem.select.unit_embedding import unit_vectors
from tandem.select.units import Unit, passage_units, texts_to_embed

MAX_QUESTION_CHARS = 2000  # what the selector reads of a longer question
CODE_MISMATCH = 0.25  # probability factor for a unit about another model or error code than asked
MEASURE_MISSING = 0.25  # probability factor for a unit without the measure asked for (a price...)
CODE_DEFINITION = 0.5  # at least this for the entry that defines an error or part code asked about
MEASURE_RATIO = 0.3  # a unit stating the measure asked for outranks a best unit without it from this share
CACHE_PASSAGES = 4096
CODE_SEARCH_DEPTH = 10  # passages searched for a question that names an error or part code


@dataclass(frozen=True)
class ScoredUnit:
    """A unit of passage `passage_index` with the selector's probability that it answers."""

    unit: Unit
    passage_index: int
    probability: float
    cosine: float

    def to_dict(self) -> dict:
        u = self.unit
        return {
            "passage": self.passage_index,
            "kind": u.kind,
            "text": u.text,
            "start": u.start,
            "end": u.end,
            "probability": round(self.probability, 4),
            "cosine": round(self.cosine, 4),
        }


@dataclass(frozen=True)
class Selection:
    """Every scored unit, best first, and whether the best clears the threshold."""

    ranked: list[ScoredUnit]
    threshold: float
    elapsed_ms: float

    @property
    def best(self) -> ScoredUnit | None:
        return self.ranked[0] if self.ranked else None

    @property
    def answers(self) -> bool:
        return bool(self.ranked) and self.ranked[0].probability >= self.threshold

    def passage_order(self) -> list[int]:
        """Passage indexes ordered by their best unit."""
        return list(dict.fromkeys(s.passage_index for s in self.ranked))


class PassageUnits:
    """Units of one passage text with their vectors and terms (computed once per text)."""

    def __init__(
        self, units: list[Unit], vectors: np.ndarray, context_vectors: np.ndarray, heading_vectors: np.ndarray
    ) -> None:
        self.units = units
        self.vectors = vectors
        self.context_vectors = context_vectors
        self.heading_vectors = heading_vectors
        self.unit_terms = [set(t) for t in terms([u.text for u in units])] if units else []
        self.context_terms = [set(t) for t in terms([u.context for u in units])] if units else []


def feature_rows(
    view: QuestionView,
    query_vector: np.ndarray,
    groups: Sequence[PassageUnits],
    scores: Sequence[float],
    idf: dict[str, float],
    own_passage_scores: bool = False,
) -> tuple[list[list[float]], list[tuple[Unit, int, float]]]:
    """Feature rows of every unit of `groups` (passages best first, with their retrieval scores),
    and (unit, passage index, cosine) for each row.

    Every unit gets the best passage's score: how strongly the question's topic is in the index is
    a property of the question, the baseline a unit's own match is weighed against. Given its own
    passage's score, a unit of a weakly retrieved passage was judged against a lower baseline and
    could outrank the answer in the top passage (the manual's "lubricate the chain after riding in
    the rain" over the FAQ entry "water resistant to IPX5" for "Is it safe to ride in heavy rain?").
    `own_passage_scores`: each unit gets its own passage's score instead, as when the shipped
    weights were fitted (training scripts' `--passage-score own`).
    """
    rows, where = [], []
    if len(scores) != len(groups):
        raise ValueError(f"{len(groups)} passages but {len(scores)} retrieval scores")
    question_score = max(scores, default=0.0)
    for p, group in enumerate(groups):
        if not group.units:
            continue
        cosine = group.vectors @ query_vector
        cosine_context = group.context_vectors @ query_vector
        cosine_heading = group.heading_vectors @ query_vector
        best_here = float(cosine.max())
        for i, unit in enumerate(group.units):
            cosines = (float(cosine[i]), float(cosine_context[i]), best_here, float(cosine_heading[i]))
            rows.append(
                unit_features(
                    view, unit.text, group.unit_terms[i], unit.context, group.context_terms[i], unit.kind,
                    cosines, (p, scores[p] if own_passage_scores else question_score), idf,
                )
            )  # fmt: skip
            where.append((unit, p, float(cosine[i])))
    return rows, where


class UnitCache:
    """Passage units with their vectors, kept for the most recently used passage texts."""

    def __init__(self, encoder: Encoder, cache_size: int = CACHE_PASSAGES) -> None:
        self.encoder = encoder
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], PassageUnits] = OrderedDict()

    def _embedded(
        self, text: str, context: str, stored: StoredUnitVectors | None, batch_size: int | None
    ) -> PassageUnits:
        units = passage_units(text, context)
        both, headings = texts_to_embed(units)
        if not both:
            empty = np.zeros((0, self.encoder.dimension), np.float32)
            return PassageUnits(units, empty, empty, empty)
        if batch_size is None:
            vectors = unit_vectors(self.encoder, both, stored)
        else:
            vectors = self.encoder.encode(both, batch_size=batch_size)
        n = len(units)
        heading_at = {h: 2 * n + i for i, h in enumerate(headings)}
        heading = vectors[[heading_at[u.context] for u in units]] if units else vectors[:0]
        return PassageUnits(units, vectors[:n], vectors[n : 2 * n], heading)

    def prepare(
        self,
        texts: Sequence[tuple[str, str]],
        stored: StoredUnitVectors | None = None,
        batch_size: int | None = None,
    ) -> list[PassageUnits]:
        """Units of each (passage text, context line), with vectors read from `stored` (the index
        version's unit vectors) or embedded, for the passages not cached. Each unit text is embedded
        alone (`unit_embedding`), so its vector never depends on what else was asked; `batch_size`
        embeds a passage's texts in batches instead (faster for training, not served)."""
        for key in dict.fromkeys(texts):
            if key not in self._cache:
                self._cache[key] = self._embedded(*key, stored=stored, batch_size=batch_size)
        result = []
        for key in texts:
            self._cache.move_to_end(key)
            result.append(self._cache[key])
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result


def unit_penalty(view: QuestionView, unit: Unit, entities: frozenset[str] = frozenset()) -> float:
    """How far a unit's probability is lowered for being about another product or code than asked
    (by its context, or by naming only other `entities`), or for lacking the measure asked for."""
    another = about_another_code(view.codes, unit.text, unit.context) or names_a_sibling(
        view.codes, unit.text, entities
    )
    factor = CODE_MISMATCH if another else 1.0
    return factor * (MEASURE_MISSING if lacks_measure(view.qtype, unit.text) else 1.0)


@dataclass(frozen=True)
class UnitRows:
    """Every unit of some passages, described for the selector: feature rows, the penalty factor
    (`unit_penalty`) and (unit, passage index, cosine) per row."""

    question: str  # as the selector read it (truncated)
    features: np.ndarray
    penalty: np.ndarray
    where: list[tuple[Unit, int, float]]
    qtype: str = ""  # the answer type the question asks for (`QuestionView.qtype`)


def code_entries_first(probability: np.ndarray, units: Sequence[Unit], asked: frozenset[str]) -> np.ndarray:
    """`probability` with the units that open with a code asked about (`defined_code`: the entry of
    an error-code list) raised to rank first, at CODE_DEFINITION at least: that entry answers it."""
    defining = np.array([defined_code(u.text) in asked for u in units]) if asked else None
    if defining is None or not defining.any():
        return probability
    return above_the_best(probability, defining, CODE_DEFINITION)


def above_the_best(probability: np.ndarray, chosen: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """`probability` with the `chosen` units (a mask or indexes) raised just above the best unit, and
    to `floor` at least (never above 1): a rule that knows which unit answers puts it first."""
    raised = probability.copy()
    target = min(1.0, max(floor, float(probability.max()) + 1e-3))
    raised[chosen] = np.maximum(probability[chosen], target)
    return raised


def measure_stated_first(
    probability: np.ndarray, units: Sequence[Unit], qtype: str, ratio: float = MEASURE_RATIO
) -> np.ndarray:
    """`probability` with the best unit that states the measure a price, weight, duration... question
    asks for raised just above the best unit, when that one states none and the stating one scores
    at least `ratio` of it: "How much does the Cargo K3 cost?" is answered by "Price: EUR 4,690",
    not by a line about the K3's delivery box."""
    if qtype not in MEASURED_TYPES or not len(probability):
        return probability
    top = int(np.argmax(probability))
    if not lacks_measure(qtype, units[top].text):
        return probability
    stating = [i for i, u in enumerate(units) if not lacks_measure(qtype, u.text)]
    if not stating:
        return probability
    best = max(stating, key=lambda i: probability[i])
    if probability[best] < ratio * probability[top]:
        return probability
    return above_the_best(probability, np.array([best]))


def code_definitions_first(
    question: str, passages: list[Passage], n: int, titles: Sequence[str]
) -> list[Passage]:
    """`passages` with the first one after the top `n` that has a line defining a code the question
    asks about ("E05 - Torque sensor fault.") moved into the top `n` (last place), when none of those
    has one: an error-code list retrieved fifth, under pages that only mention the code, is read."""
    asked = codes_asked(question[:MAX_QUESTION_CHARS], entity_codes(titles))

    def defines(passage: Passage) -> bool:
        return any(defined_code(line) in asked for line in passage.chunk.text.splitlines())

    if not asked or len(passages) <= n or any(defines(p) for p in passages[:n]):
        return passages
    later = next((i for i in range(n, len(passages)) if defines(passages[i])), None)
    return passages if later is None else _moved_into_top(passages, later, n)


def _moved_into_top(passages: list[Passage], index: int, n: int) -> list[Passage]:
    """`passages` with the one at `index` (at or after `n`) moved to place `n - 1`, the rest in order."""
    return [*passages[: n - 1], passages[index], *passages[n - 1 : index], *passages[index + 1 :]]


def retrieval_depth(question: str, top_k: int, titles: Sequence[str]) -> int:
    """How many passages to search for: deeper (CODE_SEARCH_DEPTH) for a question naming an error or
    part code (`codes_asked`), whose entry in a code list can rank below pages that only mention the
    code ("My display shows E05, what now?" found the E05 entry sixth), so that
    `code_definitions_first` can move it up."""
    return (
        max(top_k, CODE_SEARCH_DEPTH)
        if codes_asked(question[:MAX_QUESTION_CHARS], entity_codes(titles))
        else top_k
    )


def closest_passage_read(passages: list[Passage], n: int) -> list[Passage]:
    """`passages` with the one closest to the question by meaning (highest dense score) moved into
    the top `n` (last place) when fusion ranked it lower: a common word can lift other passages
    over it in BM25 ("How heavy is the Cargo K3?" matched "with a heavy load" above the spec list
    that gives the weight), and the passage that means the most like the question is always read."""
    if len(passages) <= n:
        return passages
    closest = max(range(len(passages)), key=lambda i: passages[i].dense_score)
    return passages if closest < n else _moved_into_top(passages, closest, n)


def passages_to_read(question: str, passages: list[Passage], n: int, titles: Sequence[str]) -> list[Passage]:
    """The retrieved `passages` reordered so that the top `n`, whose units are scored, include the
    closest by meaning (`closest_passage_read`) and an entry for the code asked about
    (`code_definitions_first`)."""
    return code_definitions_first(question, closest_passage_read(passages, n), n, titles)


class EvidenceSelector:
    """Scores the units of retrieved passages with the bundled encoder and a trained model."""

    def __init__(self, encoder: Encoder, model: SelectorModel, cross: CrossScorer | None = None) -> None:
        self.units = UnitCache(encoder)
        self.model = model
        self.cross = cross

    @property
    def version(self) -> str:
        return (
            self.model.version if self.cross is None else f"{self.model.version}+cross-{self.cross.version}"
        )

    @property
    def threshold(self) -> float:
        return self.model.threshold if self.cross is None else self.cross.head.threshold

    def _reread(
        self, question: str, units: list[Unit], probability: np.ndarray, penalty: np.ndarray
    ) -> np.ndarray:
        """The first stage's best units (by probability x penalty) re-read by the cross-encoder;
        every unit's combined probability (the others are combined with the lowest cross logit seen)."""
        assert self.cross is not None
        top = np.argsort(-probability * penalty, kind="stable")[:CROSS_UNITS]
        logits = self.cross.logits([pair_text(question, units[i]) for i in top])
        cross = np.full(len(probability), float(logits.min()), np.float32)
        cross[top] = logits
        return self.cross.head.combined(probability, cross)

    def unit_rows(
        self,
        question: str,
        query_vector: np.ndarray,
        passages: Sequence[tuple[str, str, float]],
        lexical: LexicalIndex | None = None,
        titles: tuple[str, ...] = (),
        stored: StoredUnitVectors | None = None,
    ) -> UnitRows:
        """The feature rows and penalties of every unit of `passages` (see `select`), unscored."""
        view = QuestionView.of(question[:MAX_QUESTION_CHARS], lexical.vocabulary if lexical else None)
        idf = lexical.idf(view.terms) if lexical else {}
        groups = self.units.prepare([(text, context) for text, context, _ in passages], stored)
        rows, where = feature_rows(view, query_vector, groups, [score for _, _, score in passages], idf)
        entities = entity_codes(titles)
        penalty = np.array([unit_penalty(view, u, entities) for u, _, _ in where], np.float32)
        return UnitRows(view.text, feature_matrix(rows), penalty, where, view.qtype)

    def select(
        self,
        question: str,
        query_vector: np.ndarray,
        passages: Sequence[tuple[str, str, float]],
        lexical: LexicalIndex | None = None,
        titles: tuple[str, ...] = (),
        stored: StoredUnitVectors | None = None,
    ) -> Selection:
        """Score every unit of `passages` ((text, context line, retrieval score), best first);
        `lexical`, the index's BM25 side, says which question words are rare or unknown; `titles`,
        the index's document titles, which codes name products of their own; `stored`, the
        index version's unit vectors (units not there are embedded)."""
        started = time.perf_counter()
        rows = self.unit_rows(question, query_vector, passages, lexical, titles, stored)
        if not rows.where:
            return Selection([], self.threshold, (time.perf_counter() - started) * 1000)
        probability = self.model.probability(rows.features)
        units = [unit for unit, _, _ in rows.where]
        if self.cross is not None:
            probability = self._reread(rows.question, units, probability, rows.penalty)
        probability = probability * rows.penalty
        probability = code_entries_first(probability, units, codes_asked(rows.question, entity_codes(titles)))
        probability = measure_stated_first(probability, units, rows.qtype)
        ranked = [
            ScoredUnit(unit, p, float(probability[i]), cosine)
            for i, (unit, p, cosine) in enumerate(rows.where)
        ]
        ranked.sort(key=lambda s: (-s.probability, s.passage_index, s.unit.start))
        return Selection(ranked, self.threshold, (time.perf_counter() - started) * 1000)
