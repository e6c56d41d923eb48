"""The evaluation harness on SQuAD v1.1 dev and on the demo question set.

    python bench/eval_squad.py                          # 500 SQuAD questions, then the demo set
    python bench/eval_squad.py --questions 100 --skip-demo --runs /tmp/eval-runs   # keep run folders

SQuAD: all 2,067 dev paragraphs are ingested (as bench/retrieval.py does), and a seeded sample of
questions (the first N of `random.Random(seed).shuffle` over the queries, seed 0, scored in file
order: the same sample as bench/retrieval.py) goes through `tandem.evaluate.EvalRunner`: full
answers (guard, retrieval, SmolLM2, verification), retrieval recall@k/MRR@10/nDCG@10 against the
paragraph each question was written from, and token F1 / exact match of the generated answer
against the SQuAD reference spans. Demo: `examples/demo-kb` ingested and its 118 questions
(answerable or not, expected documents, reference answers), plus the support judge's agreement
with the hand-labelled pairs in src/tandem/evaluate/data/support_labels.jsonl.

Prints a table and writes bench/results/eval_squad.json and bench/results/eval_demo.json (each a
run's metrics.json: run metadata, warnings and metrics). Not a test: latency depends on the load.
SQuAD is CC BY-SA 4.0 (Rajpurkar et al. 2016).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from retrieval import load_beir, sample, shuffled_order  # bench/retrieval.py: same data, same sample
from tandem.config import Settings
from tandem.evaluate import EvalRunner, agreement, load_labels, load_questions, render_report
from tandem.evaluate.judge import CitationJudge
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "squad-dev"
DEMO = ROOT / "examples" / "demo-kb"
RESULTS = ROOT / "bench" / "results"


def squad_answers(dev_json: Path) -> dict[str, list[str]]:
    """question id -> the reference answer spans of SQuAD v1.1 dev."""
    data = json.loads(dev_json.read_text())
    answers = {}
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers[qa["id"]] = list(dict.fromkeys(a["text"] for a in qa["answers"]))
    return answers


def squad_questions(folder: Path, n: int, seed: int, out: Path) -> tuple[Path, Path]:
    """Write the sampled questions as an evaluation JSONL; return (questions file, corpus)."""
    corpus, pairs, qrels = load_beir(folder)
    answers = squad_answers(folder / "dev-v1.1.json")
    chosen = sample(pairs, shuffled_order(len(pairs), seed), n)
    lines = [
        json.dumps(
            {"id": qid, "question": text, "expected_docs": sorted(qrels[qid]), "references": answers[qid]}
        )
        for qid, text in chosen
    ]
    out.write_text("\n".join(lines) + "\n")
    return out, corpus


def progress(label: str):
    started = time.perf_counter()

    def report(done: int, total: int, row: dict) -> None:
        if done % 25 == 0 or done == total:
            rate = (time.perf_counter() - started) / done
            print(f"\r  {label}: {done}/{total} ({rate:.1f} s/question)", end="", file=sys.stderr, flush=True)
            if done == total:
                print(file=sys.stderr)

    return report


def evaluate(
    name: str, sources: list[Path], questions: Path, index: Path, runs: Path, k: int, limit: int | None = None
) -> dict:
    """Ingest, warm up, run the harness; write the run folder (with report.html)."""
    bot = Tandem(index, Settings.load(None))
    started = time.perf_counter()
    ingest = bot.ingest(sources)
    ingest_s = time.perf_counter() - started
    print(
        f"{name}: ingested {ingest.documents} documents, {ingest.chunks} chunks in {ingest_s:.1f} s",
        file=sys.stderr,
    )
    bot.ask("warm-up question about the documents")
    run = EvalRunner(bot, k=k).run(
        load_questions(questions, limit), runs / name, progress(name), overwrite=True
    )
    render_report(run.folder)
    result = dict(run.metrics)
    result["run"] = {**result["run"], "ingest": {"seconds": round(ingest_s, 1), "documents": ingest.documents,
                                                 "chunks": ingest.chunks}}  # fmt: skip
    return result


def row(name: str, m: dict) -> list[str]:
    def f(value) -> str:
        return "–" if value is None else f"{value:.3f}"

    r, c, a, ab, lat = m["retrieval"], m["citations"], m["answers"], m["abstention"], m["latency_ms"]["total"]
    return [
        name, str(m["questions"]), f(r.get("recall@1")), f(r.get("recall@5")), f(r.get("recall@10")),
        f(r.get("mrr@10")), f(r.get("ndcg@10")), f(c["recall"]), f(c["precision"]), f(a["f1"]),
        f(a["exact_match"]), f(a["contains_reference"]), f(ab["precision"]), f(ab["recall"]),
        f"{ab['abstain_rate']:.3f}", f"{lat['p50']:,.0f}", f"{lat['p95']:,.0f}",
    ]  # fmt: skip


HEADERS = ["set", "n", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "cit. recall", "cit. precision", "F1", "EM",
           "contains ref.", "abst. P", "abst. R", "abstained", "total p50 ms", "total p95 ms"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SQuAD folder (default: %(default)s)")
    parser.add_argument("--questions", type=int, default=500, help="SQuAD questions (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    parser.add_argument("--k", type=int, default=10, help="recall@k depth (default: %(default)s)")
    parser.add_argument("--skip-squad", action="store_true")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument(
        "--demo-questions", type=int, default=None, help="first N demo questions (default: all)"
    )
    parser.add_argument("--runs", type=Path, default=None, help="keep the run folders here (default: temp)")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder for the JSON (default: %(default)s)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tandem-eval-") as scratch:
        work = Path(scratch)
        runs = args.runs or work / "runs"
        results: dict[str, dict] = {}
        if not args.skip_squad:
            if not (args.data / "dev-v1.1.json").is_file():
                sys.exit(f"SQuAD dev not found at {args.data}: pass --data or --skip-squad")
            questions, corpus = squad_questions(args.data, args.questions, args.seed, work / "squad.jsonl")
            results["squad"] = evaluate("squad", [corpus], questions, work / "squad-index", runs, args.k)
            results["squad"]["run"]["sample"] = (
                f"first {args.questions} of random.Random({args.seed}).shuffle over the queries, file order"
            )
        if not args.skip_demo:
            results["demo"] = evaluate(
                "demo",
                [DEMO / "docs"],
                DEMO / "questions.jsonl",
                work / "demo-index",
                runs,
                args.k,
                args.demo_questions,
            )
            settings = Settings.load(None)
            bot = Tandem(work / "demo-index", settings)
            results["demo"]["judge_agreement"] = agreement(
                CitationJudge.from_settings(bot.encoder, settings), load_labels()
            )
        args.out.mkdir(parents=True, exist_ok=True)
        for name, result in results.items():
            path = args.out / f"eval_{name}.json"
            path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
            print(f"wrote {path}", file=sys.stderr)

    print("| " + " | ".join(HEADERS) + " |\n|" + "---|" * len(HEADERS))
    for name, result in results.items():
        print("| " + " | ".join(row(name, result["metrics"])) + " |")
    if "demo" in results:
        j = results["demo"]["judge_agreement"]
        print(
            f"\nSupport judge vs {j['pairs']} hand labels (min_support {j['judge']['min_support']}): "
            f"accuracy {j['accuracy']:.3f}, precision {j['precision']:.3f}, recall {j['recall']:.3f}, "
            f"kappa {j['kappa']:.3f}"
        )
    for name, result in results.items():
        latency = result["metrics"]["latency_ms"]
        parts = ", ".join(f"{s} p50 {v['p50']:,.0f} / p95 {v['p95']:,.0f}" for s, v in latency.items())
        print(f"\n{name} latency (ms): {parts}")


if __name__ == "__main__":
    main()
