"""Evaluation metrics as pure functions: retrieval, ALCE-style citations, answers, abstention,
routing, latency, and agreement between two labellings.

>>> recall_at_k(["b", "a", "c"], {"a"}, 1), reciprocal_rank(["b", "a", "c"], {"a"})
(0.0, 0.5)
>>> round(token_f1("The refund takes 5 days.", "5 business days"), 4)
0.5714
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from tandem.documents.text_utils import split_sentences

# -- retrieval ------------------------------------------------------------------------------------


def ranked_documents(doc_ids: Iterable[str]) -> list[str]:
    """Chunk-level doc ids in rank order -> documents in rank order (each at its best chunk)."""
    return list(dict.fromkeys(doc_ids))


def _check_relevant(relevant: set[str]) -> None:
    if not relevant:
        raise ValueError("retrieval metrics need at least one relevant document")


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant documents found in the first k."""
    _check_relevant(relevant)
    return len(relevant & set(ranked[:k])) / len(relevant)


def first_relevant_rank(ranked: Sequence[str], relevant: set[str]) -> int | None:
    """1-based rank of the first relevant document, or None when none was retrieved."""
    return next((i for i, doc in enumerate(ranked, start=1) if doc in relevant), None)


def reciprocal_rank(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """1 / rank of the first relevant document within the first k (0 when there is none): MRR@k."""
    _check_relevant(relevant)
    rank = first_relevant_rank(ranked[:k], relevant)
    return 1.0 / rank if rank else 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary-gain nDCG@k: sum of 1/log2(rank + 1) over relevant hits, over the ideal ordering's."""
    _check_relevant(relevant)
    dcg = sum(1.0 / math.log2(i + 1) for i, doc in enumerate(ranked[:k], start=1) if doc in relevant)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def retrieval_scores(ranked: Sequence[str], relevant: set[str], ks: Iterable[int] = (1, 5, 10)) -> dict:
    """recall@k for each k, MRR@10 and nDCG@10 of one question."""
    scores = {f"recall@{k}": recall_at_k(ranked, relevant, k) for k in sorted(set(ks))}
    scores["mrr@10"] = reciprocal_rank(ranked, relevant, 10)
    scores["ndcg@10"] = ndcg_at_k(ranked, relevant, 10)
    return scores


# -- answers (SQuAD v1.1 evaluation script semantics) ----------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation, drop the articles a/an/the, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall after normalisation (1.0 when both are empty)."""
    predicted, gold = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def best_over_references(
    metric: Callable[[str, str], float], prediction: str, references: Sequence[str]
) -> float:
    """The best score against any reference (SQuAD takes the max over its annotators)."""
    if not references:
        raise ValueError("no reference answers to score against")
    return max(metric(prediction, reference) for reference in references)


def contains_reference(prediction: str, references: Sequence[str]) -> float:
    """1.0 when some normalised reference appears in the normalised prediction (ALCE's STR-EM)."""
    text = f" {normalize_answer(prediction)} "
    return float(any(f" {normalize_answer(r)} " in text for r in references if normalize_answer(r)))


KeyFacts = Sequence[Sequence[str]]
"""What a right answer must state: one entry per fact, each a list of accepted wordings."""


def key_facts_found(prediction: str, key_facts: KeyFacts) -> list[bool]:
    """For each key fact, whether some wording of it appears in the normalised prediction."""
    return [bool(contains_reference(prediction, list(wordings))) for wordings in key_facts]


def answer_correct(
    prediction: str,
    abstained: bool,
    cited_docs: Iterable[str],
    expected_docs: Iterable[str],
    key_facts: KeyFacts = (),
    references: Sequence[str] = (),
) -> bool:
    """Not abstained, every key fact stated (or, SQuAD-style, some reference contained) and an
    expected document cited (when any is expected).

    >>> answer_correct("A new set costs EUR 25. [1]", False, ["a.md"], ["a.md"], [["EUR 25", "25 euros"]])
    True
    >>> answer_correct("Replace the lock. [1]", False, ["a.md"], ["a.md"], [["EUR 25"]])
    False
    """
    if abstained:
        return False
    expected = set(expected_docs)
    if expected and not expected & set(cited_docs):
        return False
    if key_facts:
        return all(key_facts_found(prediction, key_facts))
    if references:
        return bool(contains_reference(prediction, references))
    raise ValueError("answer_correct needs key facts or reference answers to check against")


# -- citations (ALCE, Gao et al. 2023) --------------------------------------------------------------

_MARKS = re.compile(r"(?:\s*\[\d+\])+")
_NUMBER = re.compile(r"\[(\d+)\]")

Entails = Callable[[str, Sequence[str]], bool]
"""entails(statement, passages): do these passages, taken together, support the statement?"""


@dataclass(frozen=True)
class Statement:
    """One claim of an answer and the citation numbers attached to it."""

    text: str
    cited: tuple[int, ...] = ()


def split_statements(answer: str) -> list[Statement]:
    """Split an answer into statements at its citation marks.

    Text up to a run of [n] marks is one statement citing those numbers (Tandem ends each verified
    sentence, or a quoted passage excerpt, with its mark); text after the last mark is split into
    sentences that cite nothing.
    """
    statements: list[Statement] = []
    position = 0
    for match in _MARKS.finditer(answer):
        body = answer[position : match.start()].strip()
        numbers = tuple(int(n) for n in _NUMBER.findall(match.group()))
        if body:
            statements.append(Statement(body, numbers))
        elif statements:  # "claim [1] [2]" split oddly: the marks belong to the previous claim
            statements[-1] = Statement(statements[-1].text, statements[-1].cited + numbers)
        position = match.end()
    tail = answer[position:].strip()
    if re.search(r"\w", tail):
        statements += [Statement(s.strip()) for s in split_sentences(tail) if re.search(r"\w", s)]
    return statements


@dataclass(frozen=True)
class StatementCheck:
    """How one statement fared: supported by its citations jointly, and which citations were precise."""

    text: str
    cited: tuple[int, ...]
    supported: bool
    precise: tuple[bool, ...]


@dataclass(frozen=True)
class CitationScores:
    """ALCE citation recall and precision of one answer (None when it has no statements)."""

    recall: float | None
    precision: float | None
    citations: int
    checks: tuple[StatementCheck, ...]


def alce_citation_scores(
    statements: Sequence[Statement],
    passages: Mapping[int, str],
    entails: Entails,
    max_citations: int = 3,
) -> CitationScores:
    """Citation recall and precision of one answer, as ALCE defines them.

    Recall: the share of statements whose citations, concatenated, support them (a statement
    without citations, or citing a number with no passage, is unsupported). Precision: the share
    of citations that are relevant; a citation of a supported statement is irrelevant when it does
    not support the statement on its own and the remaining citations still do. All citations of an
    unsupported statement are imprecise; as in ALCE, only the first `max_citations` of a statement
    count, and citations of statements with an out-of-range number are not counted at all.
    Repeated numbers on one statement count once.
    """
    if not statements:
        return CitationScores(None, None, 0, ())
    checks: list[StatementCheck] = []
    supported_count = precise_count = total = 0
    for statement in statements:
        cited = tuple(dict.fromkeys(statement.cited))[:max_citations]
        if not cited or any(n not in passages for n in cited):
            checks.append(StatementCheck(statement.text, cited, False, ()))
            continue
        total += len(cited)
        texts = [passages[n] for n in cited]
        joint = entails(statement.text, texts)
        precise: list[bool] = []
        for i in range(len(cited)):
            if not joint:
                precise.append(False)
            elif len(cited) == 1 or entails(statement.text, [texts[i]]):
                precise.append(True)
            else:
                precise.append(not entails(statement.text, texts[:i] + texts[i + 1 :]))
        supported_count += joint
        precise_count += sum(precise)
        checks.append(StatementCheck(statement.text, cited, joint, tuple(precise)))
    recall = supported_count / len(statements)
    precision = precise_count / total if total else 0.0
    return CitationScores(recall, precision, total, tuple(checks))


# -- abstention, routing, agreement ---------------------------------------------------------------


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def binary_scores(truth: Sequence[bool], predicted: Sequence[bool]) -> dict:
    """Confusion counts, precision/recall/F1 of the positive class, accuracy and Cohen's kappa."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} labels against {len(predicted)} predictions")
    pairs = list(zip(truth, predicted, strict=True))
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    tn = len(pairs) - tp - fp - fn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {
        "n": len(pairs),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": _ratio(tp + tn, len(pairs)),
        "kappa": cohen_kappa(tp, fp, fn, tn),
    }


def cohen_kappa(tp: int, fp: int, fn: int, tn: int) -> float | None:
    """Agreement beyond chance between two binary labellings (None without any pairs)."""
    n = tp + fp + fn + tn
    if n == 0:
        return None
    observed = (tp + tn) / n
    chance = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
    if chance == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - chance) / (1 - chance)


def abstention_scores(should_abstain: Sequence[bool], abstained: Sequence[bool]) -> dict:
    """Abstention as a classifier whose positive class is "should abstain" (not answerable)."""
    scores = binary_scores(should_abstain, abstained)
    scores.pop("kappa")
    return scores


def route_matches(expected: str, action: str, labels: Mapping[str, str] | None = None) -> bool:
    """True when the expected route names the action ("handoff:safety"), its kind ("handoff"),
    or a predicted label ("refund" or "intent=refund")."""
    wanted, action = expected.strip().lower(), action.strip().lower()
    if wanted == action or (":" not in wanted and action.split(":", 1)[0] == wanted):
        return True
    return any(wanted in (label.lower(), f"{name}={label}".lower()) for name, label in (labels or {}).items())


# -- latency ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) with linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be between 0 and 1, not {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


STAGE_ORDER = ("guard", "route", "encode", "dense", "lexical", "fusion", "rerank", "retrieve", "verify",
               "first_token", "generate", "total")  # fmt: skip


def latency_summary(timings: Iterable[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Per stage ("retrieve_ms" -> "retrieve"): n, mean, p50, p90, p95, p99 and max in ms."""
    by_stage: dict[str, list[float]] = {}
    for row in timings:
        for key, value in row.items():
            if value is not None:
                by_stage.setdefault(key.removesuffix("_ms"), []).append(float(value))
    rank = {name: i for i, name in enumerate(STAGE_ORDER)}
    summary = {}
    for stage in sorted(by_stage, key=lambda s: (rank.get(s, len(rank) - 1), s)):
        values = by_stage[stage]
        summary[stage] = {
            "n": len(values),
            "mean": sum(values) / len(values),
            **{f"p{round(q * 100)}": percentile(values, q) for q in (0.5, 0.9, 0.95, 0.99)},
            "max": max(values),
        }
    return summary


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
