"""Can the evidence selector be specialised to one index from questions written from its own units?

    python bench/selector_adapt.py            # about 8 minutes on 2 cores

The demo knowledge base is ingested; questions are written from its units by templates
(`selector_synthetic.py`: an FAQ's own question, a spec line asked of its product or of a sibling
product whose page lacks it, a table row, the steps a list's lead-in names, a sentence's measure).
Each is searched as a user's question would be, and its retrieved units described exactly as at
answer time; the unit it was written from is the answer, and the question asked again with that
unit cut out of its passage is an on-topic unanswerable case. The shipped first stage's weights
and the cross combiner are refitted on these cases (documents with crc32 % 5 != 0), pulled towards
the shipped ones by an L2 prior, for each data source and prior strength; each model is then judged
on the synthetic held-out documents and on the demo question set's **dev** split (top unit holds
every key fact; AUC of the best probability, answerable against on-topic and other unanswerable;
the rates at the threshold where 30% of answerable questions abstain, the shipped model's operating
point). Writes bench/results/selector_adapt.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from selector_synthetic import SyntheticQuestion, questions_for
from tandem.config import Settings
from tandem.evaluate.metrics import key_facts_found
from tandem.pipeline import Tandem
from tandem.select.cross import CROSS_UNITS, CrossHead, pair_text
from tandem.select.model import SelectorModel
from tandem.select.units import passage_units

ROOT = Path(__file__).resolve().parents[1]
CROSS_READ = 2 * CROSS_UNITS  # cross logits computed per case (a refitted first stage may re-read others)
POSITIVE_WEIGHT = 3.0  # as the shipped first stage was trained
SOURCES = {
    "all": None,
    "faq, spec, row, sibling + removed": {"faq", "spec", "row", "sibling", "removed"},
    "sibling + removed (mostly unanswerable)": {"sibling", "removed"},
    "measure + removed": {"measure", "removed"},
}
PRIORS = (1.0, 0.1, 0.01, 0.003)


@dataclass
class Case:
    """A question over its retrieved passages, one row per unit; labels 1 answers, 0 not, -1 ignored."""

    features: np.ndarray
    labels: np.ndarray
    penalty: np.ndarray
    cross: np.ndarray  # NaN where not read
    answerable: bool
    held_out: bool
    kind: str


def describe(bot: Tandem, question: str, passages: list, vector) -> tuple[Case, list]:
    """Feature rows, penalties and cross logits of every unit of `passages`, as `select` sees them."""
    selector, snapshot = bot.selector, bot.snapshot
    rows = selector.unit_rows(question, vector, passages, snapshot.lexical, snapshot.titles)
    first = selector.model.probability(rows.features) * rows.penalty
    cross = np.full(len(rows.where), np.nan, np.float32)
    top = np.argsort(-first, kind="stable")[:CROSS_READ]
    if selector.cross is not None and len(top):
        cross[top] = selector.cross.logits([pair_text(rows.question, rows.where[i][0]) for i in top])
    empty = np.zeros(len(rows.where), np.float32)
    return Case(rows.features, empty, rows.penalty, cross, False, False, ""), rows.where


def span_labels(where: list, at: int, span: tuple[int, int]) -> np.ndarray:
    """1: a unit of passage `at` holding half the answer span or more; -1: a smaller piece of it."""
    labels = np.zeros(len(where), np.float32)
    for i, (unit, p, _) in enumerate(where):
        overlap = min(unit.end, span[1]) - max(unit.start, span[0])
        if p == at and overlap >= 0.5 * (span[1] - span[0]):
            labels[i] = 1.0
        elif p == at and overlap > 0:
            labels[i] = -1.0
    return labels


def synthetic_cases(bot: Tandem, question: SyntheticQuestion, held_out: bool) -> list[Case]:
    """The question's case, and for an answerable one the case with its answer cut out."""
    depth = bot.settings.selector_passages
    result = bot.retriever().search(question.question, depth)
    top = result.passages[:depth]
    passages = [(p.chunk.text, p.chunk.context_line, p.dense_score) for p in top]
    ids = [p.chunk.chunk_id for p in top]
    if not top or (question.answer is not None and question.chunk_id not in ids):
        return []  # a retrieval miss is neither a fair positive nor a fair negative
    case, where = describe(bot, question.question, passages, result.query_vector)
    case = replace(case, held_out=held_out, kind=question.kind)
    if question.answer is None:
        return [case] if where else []
    at = ids.index(question.chunk_id)
    case = replace(case, labels=span_labels(where, at, question.answer), answerable=True)
    if not (case.labels == 1).any():
        return []
    text, context, score = passages[at]
    start, end = question.answer
    if any(text[start:end].strip() in other for i, (other, _, _) in enumerate(passages) if i != at):
        return [case]  # stated twice: cutting one copy leaves it answered
    cut = [*passages[:at], (text[:start] + text[end:], context, score), *passages[at + 1 :]]
    removed, _ = describe(bot, question.question, cut, result.query_vector)
    return [case, replace(removed, held_out=held_out, kind="removed")]


def demo_cases(bot: Tandem, kb: Path) -> list[tuple[dict, Case]]:
    """The demo question set's dev split: a unit answers when it holds every key fact and comes from
    an expected document."""
    depth = bot.settings.selector_passages
    questions = [json.loads(x) for x in (kb / "questions.jsonl").read_text().splitlines() if x.strip()]
    out = []
    for q in (q for q in questions if q.get("split") == "dev"):
        result = bot.retriever().search(q["question"], depth)
        top = result.passages[:depth]
        passages = [(p.chunk.text, p.chunk.context_line, p.dense_score) for p in top]
        case, where = describe(bot, q["question"], passages, result.query_vector)
        facts = q.get("key_facts") or []
        labels = [
            bool(facts) and all(key_facts_found(u.text, facts)) and top[p].chunk.doc_id in q["expected_docs"]
            for u, p, _ in where
        ]
        out.append((q, replace(case, labels=np.array(labels, np.float32), answerable=bool(q["answerable"]))))
    return out


def probabilities(case: Case, model: SelectorModel, combine: np.ndarray) -> np.ndarray:
    """As `EvidenceSelector.select`: the first stage's best units re-read, combined, penalised."""
    first = model.probability(case.features)
    top = np.argsort(-first * case.penalty, kind="stable")[:CROSS_UNITS]
    known = case.cross[~np.isnan(case.cross)]
    floor = float(known.min()) if known.size else 0.0
    cross = np.full(len(first), floor, np.float32)
    cross[top] = np.where(np.isnan(case.cross[top]), floor, case.cross[top])
    return CrossHead(np.zeros((2, 1)), np.zeros(2), combine, 0.5).combined(first, cross) * case.penalty


def logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, start: np.ndarray, prior: float) -> np.ndarray:
    """Weighted logistic regression pulled towards `start` by `prior` x squared distance."""

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -50, 50)))
        value = -np.sum(weight * (y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9))) / weight.sum()
        delta = theta - start
        return value + prior * float(delta @ delta), x.T @ (
            weight * (p - y)
        ) / weight.sum() + 2 * prior * delta

    return minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500}).x


def refit(model: SelectorModel, combine: np.ndarray, cases: list[Case], prior: float):
    """The first stage (logistic) refitted on the labelled rows, then the combiner on the re-read units."""
    x = np.concatenate([c.features for c in cases]).astype(np.float64)
    y = np.concatenate([c.labels for c in cases]).astype(np.float64)
    x, y = x[y >= 0], y[y >= 0]
    w, b = model.layers[-1]
    start = np.concatenate([w[:, 0], b[:1]]).astype(np.float64)
    theta = logistic(
        np.hstack([x, np.ones((len(x), 1))]), y, np.where(y == 1, POSITIVE_WEIGHT, 1.0), start, prior
    )
    fitted = replace(model, layers=[(theta[:-1, None].astype(np.float32), theta[-1:].astype(np.float32))])
    rows, labels = [], []
    for c in cases:
        first = fitted.probability(c.features)
        for i in np.argsort(-first * c.penalty, kind="stable")[:CROSS_UNITS]:
            if c.labels[i] >= 0 and not np.isnan(c.cross[i]):
                p = float(np.clip(first[i], 1e-6, 1 - 1e-6))
                rows.append([np.log(p / (1 - p)), float(c.cross[i]), 1.0])
                labels.append(float(c.labels[i]))
    combined = logistic(
        np.array(rows), np.array(labels), np.ones(len(labels)), combine.astype(np.float64), prior
    )
    return fitted, combined.astype(np.float32)


def auc(positives: list[float], negatives: list[float]) -> float | None:
    if not positives or not negatives:
        return None
    return sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives) / (
        len(positives) * len(negatives)
    )


def judge(cases: list[tuple[str, Case]], model: SelectorModel, combine: np.ndarray) -> dict:
    """Top unit answers, AUCs, and the rates where 30% of answerable cases abstain. `cases`: (group,
    case), group "answerable", "on-topic" or "other"."""
    best = []
    for group, c in cases:
        p = probabilities(c, model, combine)
        i = int(np.argmax(p))
        best.append((group, float(p[i]), bool(c.labels[i] == 1)))
    answerable = [(s, hit) for g, s, hit in best if g == "answerable"]
    on_topic = [s for g, s, _ in best if g == "on-topic"]
    other = [s for g, s, _ in best if g == "other"]
    t = sorted(s for s, _ in answerable)[int(0.3 * len(answerable))]
    rate = lambda xs: round(sum(x < t for x in xs) / len(xs), 3) if xs else None  # noqa: E731
    scores = [s for s, _ in answerable]
    return {
        "top_unit_answers": round(sum(hit for _, hit in answerable) / len(answerable), 3),
        "auc_on_topic": None if not on_topic else round(auc(scores, on_topic) or 0, 3),
        "auc_other": None if not other else round(auc(scores, other) or 0, 3),
        "threshold_30": round(t, 3),
        "right_at_30": round(sum(hit and s >= t for s, hit in answerable) / len(answerable), 3),
        "on_topic_abstained_at_30": rate(on_topic),
        "other_abstained_at_30": rate(other),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kb", type=Path, default=ROOT / "examples" / "demo-kb")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "selector_adapt.json")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        bot = Tandem(Path(scratch) / "index", Settings.load(None, trace=False, input_guard=False))
        bot.ingest([args.kb / "docs"])
        snapshot = bot.snapshot
        chunks = snapshot.chunks(list(range(snapshot.size)))
        units = [(c.chunk_id, passage_units(c.text, c.context_line)) for c in chunks]
        questions = questions_for(units, random.Random(args.seed), snapshot.titles)
        doc_of = {c.chunk_id: c.doc_id for c in chunks}
        cases: list[Case] = []
        for i, q in enumerate(questions, start=1):
            held_out = zlib.crc32(doc_of.get(q.chunk_id, q.question).encode()) % 5 == 0
            cases.extend(synthetic_cases(bot, q, held_out))
            print(f"\rsynthetic {i}/{len(questions)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        demo = demo_cases(bot, args.kb)
    shipped, combine = SelectorModel.load(), CrossHead.load().combine.astype(np.float32)

    def group(q: dict) -> str:
        return (
            "answerable"
            if q["answerable"]
            else ("on-topic" if q.get("intent") == "on-topic-unanswerable" else "other")
        )

    demo_groups = [(group(q), c) for q, c in demo]
    synthetic_held_out = [("answerable" if c.answerable else "on-topic", c) for c in cases if c.held_out]
    rows = [{"source": "shipped", "prior": None, "demo_dev": judge(demo_groups, shipped, combine),
             "synthetic_held_out": judge(synthetic_held_out, shipped, combine)}]  # fmt: skip
    for name, kinds in SOURCES.items():
        train = [c for c in cases if not c.held_out and (kinds is None or c.kind in kinds)]
        for prior in PRIORS:
            model, fitted_combine = refit(shipped, combine, train, prior)
            rows.append({"source": name, "prior": prior, "train_cases": len(train),
                         "demo_dev": judge(demo_groups, model, fitted_combine),
                         "synthetic_held_out": judge(synthetic_held_out, model, fitted_combine)})  # fmt: skip
    kinds_count = {k: sum(c.kind == k for c in cases) for k in sorted({c.kind for c in cases})}
    result = {"date": time.strftime("%Y-%m-%d"), "questions": len(questions), "cases": kinds_count,
              "seconds": round(time.perf_counter() - started, 1), "rows": rows}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"{len(questions)} synthetic questions, cases {kinds_count}, {result['seconds']} s")
    print(f"{'source':<42}{'prior':>7} | demo dev: {'top':>5} {'AUC on':>6} {'AUC oth':>7} {'right':>6} "
          f"{'on abs':>6} {'oth abs':>7} | synthetic held out: {'top':>5} {'AUC':>5}")  # fmt: skip
    for r in rows:
        d, s = r["demo_dev"], r["synthetic_held_out"]
        print(
            f"{r['source']:<42}{r['prior'] or '':>7} | {'':>10}{d['top_unit_answers']:>5.3f} "
            f"{d['auc_on_topic']:>6.3f} {d['auc_other']:>7.3f} {d['right_at_30']:>6.3f} "
            f"{d['on_topic_abstained_at_30']:>6.3f} {d['other_abstained_at_30']:>7.3f} | "
            f"{'':>20}{s['top_unit_answers']:>5.3f} {s['auc_on_topic']:>5.3f}"
        )


if __name__ == "__main__":
    main()
