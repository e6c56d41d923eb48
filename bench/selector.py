"""The evidence selector alone, on the demo question set: does its top unit answer, and does its
best probability tell answerable questions from unanswerable ones?

    python bench/selector.py                       # the shipped model, dev split
    python bench/selector.py --model /tmp/other.npz --split test

For each question the top 5 passages are retrieved and every unit scored (no threshold). A unit
"answers" when it holds every key fact of the question and comes from an expected document. Prints
the share of answerable questions whose top unit answers (and within the top 3, and anywhere), and
the area under the ROC curve of the best unit's probability: answerable against on-topic
unanswerable, and against the other unanswerable questions. Writes JSON (default
bench/results/selector.json). Used to compare training sources and models on the dev split.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tandem.config import Settings
from tandem.evaluate.metrics import key_facts_found
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]


def auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counted half."""
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def score_question(bot: Tandem, question: dict, depth: int) -> dict:
    result = bot.retriever().search(question["question"], depth)
    passages = result.passages
    selection = bot.selector.select(
        question["question"],
        result.query_vector,
        [(p.chunk.text, p.chunk.context_line, p.dense_score) for p in passages],
        bot.snapshot.lexical,
        bot.snapshot.titles,
    )

    def answers(scored) -> bool:
        doc = passages[scored.passage_index].chunk.doc_id
        facts = question.get("key_facts") or []
        return (
            bool(facts) and all(key_facts_found(scored.unit.text, facts)) and doc in question["expected_docs"]
        )

    position = next((i for i, s in enumerate(selection.ranked) if answers(s)), None)
    best = selection.best
    return {
        "id": question["id"],
        "answerable": question["answerable"],
        "intent": question.get("intent", ""),
        "best_probability": best.probability if best else 0.0,
        "top_unit": best.unit.text if best else "",
        "answering_position": position,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kb", type=Path, default=ROOT / "examples" / "demo-kb")
    parser.add_argument("--model", type=Path, help="a selector model file (default: the shipped one)")
    parser.add_argument(
        "--cross", action="store_true", help="with the cross-encoder stage (settings: selector_cross)"
    )
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--depth", type=int, default=5, help="passages whose units are scored")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "selector.json")
    args = parser.parse_args()

    lines = (args.kb / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(x) for x in lines if x.strip()]
    questions = [q for q in questions if args.split == "all" or q.get("split") == args.split]
    settings = Settings.load(
        None, trace=False, input_guard=False, selector_model=args.model, selector_cross=args.cross
    )
    with tempfile.TemporaryDirectory() as scratch:
        bot = Tandem(Path(scratch) / "index", settings)
        bot.ingest([args.kb / "docs"])
        rows = []
        for i, q in enumerate(questions, start=1):
            rows.append(score_question(bot, q, args.depth))
            print(f"\r{i}/{len(questions)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        version = bot.selector.version

    answerable = [r for r in rows if r["answerable"]]
    on_topic = [r["best_probability"] for r in rows if r["intent"] == "on-topic-unanswerable"]
    other = [
        r["best_probability"] for r in rows if not r["answerable"] and r["intent"] != "on-topic-unanswerable"
    ]
    positions = [r["answering_position"] for r in answerable]
    n = max(len(answerable), 1)
    figures = {
        "top_unit_answers": sum(p == 0 for p in positions) / n,
        "top3_answers": sum(p is not None and p < 3 for p in positions) / n,
        "some_unit_answers": sum(p is not None for p in positions) / n,
        "auc_answerable_vs_on_topic": auc([r["best_probability"] for r in answerable], on_topic),
        "auc_answerable_vs_other_unanswerable": auc([r["best_probability"] for r in answerable], other),
        "n_answerable": len(answerable),
        "n_on_topic": len(on_topic),
        "n_other_unanswerable": len(other),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "model": version,
        "split": args.split,
        **figures,
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(f"model {version}, {args.split} split")
    for key, value in figures.items():
        print(f"{key:<40} {value:.3f}" if isinstance(value, float) else f"{key:<40} {value}")


if __name__ == "__main__":
    main()
