"""Answer benchmark on the demo question set: cited answers, abstentions, latency, and calibration.

    python bench/answer.py                 # run with the configured thresholds
    python bench/answer.py --calibrate     # run permissively once, then grid-search thresholds

Prints a table and writes JSON (default bench/results/answer.json). Not a test: figures go to
docs/benchmarks.md with the machine and date. Besides the cited-document and abstention rates, it
gives the token F1 of each answer against the question's reference answer (SQuAD-style, citation
marks removed; an abstention scores 0): a rough measure of whether the answer says the right thing,
which citing the right document alone does not show.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tandem.config import Settings
from tandem.evaluate.metrics import answer_correct, token_f1
from tandem.pipeline import Tandem
from tandem.verify.support import strip_citation_marks

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def answer_f1(text: str, abstained: bool, question: dict) -> float | None:
    """Token F1 of the answer (citation marks removed) against the question's reference answer;
    0 for an abstention on an answerable question, None without a reference."""
    reference = question.get("reference_answer")
    if not question["answerable"] or not reference:
        return None
    return 0.0 if abstained else token_f1(strip_citation_marks(text)[0], reference)


def correctness(answer, question: dict) -> bool | None:
    """answer_correct for an answerable question with key facts (None otherwise)."""
    if not question["answerable"] or not question.get("key_facts"):
        return None
    return answer_correct(
        strip_citation_marks(answer.text)[0],
        answer.abstained,
        [c.doc_id for c in answer.citations],
        question.get("expected_docs", []),
        question["key_facts"],
    )


def correctness_table(rows: list[dict]) -> dict[str, dict]:
    """Per split (all, dev, test): answerable correct / abstained, and abstention on on-topic and
    off-topic unanswerable questions."""

    def rate(selected: list[dict], test) -> float | None:
        return round(sum(map(test, selected)) / len(selected), 4) if selected else None

    table = {}
    for split in ("all", "dev", "test"):
        part = [r for r in rows if split == "all" or r["split"] == split]
        answerable = [r for r in part if r["answerable"] and r["correct"] is not None]
        on_topic = [r for r in part if not r["answerable"] and r["intent"] == "on-topic-unanswerable"]
        off_topic = [r for r in part if not r["answerable"] and r["intent"] != "on-topic-unanswerable"]
        table[split] = {
            "answer_correct": rate(answerable, lambda r: r["correct"]),
            "answerable_abstained": rate(answerable, lambda r: r["abstained"]),
            "on_topic_unanswerable_abstained": rate(on_topic, lambda r: r["abstained"]),
            "off_topic_abstained": rate(off_topic, lambda r: r["abstained"]),
            "n_answerable": len(answerable),
            "n_on_topic": len(on_topic),
            "n_off_topic": len(off_topic),
        }
    return table


def selector_curve(rows: list[dict], split: str) -> dict[str, dict]:
    """Replay a run made with no selector threshold: the correctness table's rates for `split` at
    each threshold (a row whose best unit scores below it counts as abstained)."""
    curve = {}
    for threshold in [round(0.01 * step, 2) for step in range(21)] + [
        round(0.05 * step, 2) for step in range(5, 19)
    ]:

        def gated(r: dict, t: float = threshold) -> dict:
            below = r["selector_best"] is not None and r["selector_best"] < t
            if not below:
                return r
            return {**r, "abstained": True, "correct": False if r["correct"] is not None else None}

        curve[f"{threshold:.2f}"] = correctness_table([gated(r) for r in rows])[split]
    return curve


def run(bot: Tandem, questions: list[dict]) -> list[dict]:
    rows = []
    for i, q in enumerate(questions, start=1):
        answer = bot.ask(q["question"])
        d = answer.diagnostics
        rows.append(
            {
                "id": q["id"],
                "question": q["question"],
                "answerable": q["answerable"],
                "expected": q.get("expected_docs", []),
                "answer": answer.text,
                "reference": q.get("reference_answer", ""),
                "answer_f1": answer_f1(answer.text, answer.abstained, q),
                "correct": correctness(answer, q),
                "selector_best": (d.get("units") or [{}])[0].get("probability"),
                "split": q.get("split", ""),
                "intent": q.get("intent", ""),
                "draft": answer.draft,
                "abstained": answer.abstained,
                "reason": answer.reason,
                "mode": answer.mode,
                "cited": sorted({c.doc_id for c in answer.citations}),
                "top_doc": answer.passages[0].chunk.doc_id if answer.passages else None,
                "retrieved": [p.chunk.doc_id for p in answer.passages],
                "confidence": d.get("retrieval_confidence", 0.0),
                "sentences": [s for s in d.get("sentences", []) if s.get("doc")],
                "extractive": d.get("extractive_candidates", []),
                "first_token_ms": answer.timings.get("first_token_ms"),
                "total_ms": answer.timings.get("total_ms"),
                "completion_tokens": d.get("completion_tokens", 0),
                "decode_tps": d.get("decode_tokens_per_s", 0.0),
            }
        )
        print(f"\r{i}/{len(questions)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


def score(rows: list[dict], decide) -> dict:
    """Rates for a decision rule decide(row) -> set of cited doc ids (empty = abstain)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    cited_ok = sum(bool(decide(r) & set(r["expected"])) for r in answerable)
    wrongly_abstained = sum(not decide(r) for r in answerable)
    abstained = sum(not decide(r) for r in unanswerable)
    return {
        "answerable_cited_expected": cited_ok / max(len(answerable), 1),
        "answerable_abstained": wrongly_abstained / max(len(answerable), 1),
        "unanswerable_abstained": abstained / max(len(unanswerable), 1),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
    }


def rule(
    tr: float,
    ts: float | None,
    tl: float = 0.0,
    tx: float | None = None,
    m: int = 1,
    quotes_first: bool = False,
):
    """Gate on retrieval (tr); keep draft sentences with support >= ts and lexical share >= tl;
    quote the closest sentence of the top m passages if its cosine >= tx: as the fallback when no
    sentence is kept, or before generating when `quotes_first`; else abstain."""

    def quote(r: dict) -> set[str]:
        candidates = r["extractive"][:m]
        if tx is not None and candidates:
            best = max(candidates, key=lambda c: c["similarity"])
            if best["similarity"] >= tx:
                return {best["doc"]}
        return set()

    def decide(r: dict) -> set[str]:
        if r["confidence"] < tr or not r["top_doc"]:
            return set()
        if ts is None:
            return {r["top_doc"]}
        if quotes_first and (quoted := quote(r)):
            return quoted
        kept = {
            s["doc"] for s in r["sentences"] if s["support"] >= ts and s["lexical"] >= tl and s["numbers_ok"]
        }
        return kept or quote(r)

    return decide


def calibrate(rows: list[dict], quotes_first: bool) -> dict:
    """Grid search; both targets matter, so maximise the smaller margin over its target."""
    grid = [round(0.05 * i, 2) for i in range(4, 15)]
    best = None
    for tr, ts, tl, tx, m in itertools.product(grid, grid, [0.0, 0.3, 0.5, 0.7], [*grid, 2.0], [1, 2, 3]):
        rates = score(rows, rule(tr, ts, tl, tx, m, quotes_first))
        margin = min(rates["answerable_cited_expected"] - 0.9, rates["unanswerable_abstained"] - 0.8)
        key = (margin, rates["answerable_cited_expected"] + rates["unanswerable_abstained"])
        if best is None or key > best[0]:
            best = (
                key,
                {
                    "min_retrieval_score": tr,
                    "min_support": ts,
                    "min_lexical_support": tl,
                    "min_extractive_similarity": tx,
                    "extractive_passages": m,
                    **rates,
                },
            )
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kb", type=Path, default=ROOT / "examples" / "demo-kb")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: a temp folder)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "answer.json")
    parser.add_argument(
        "--calibrate", action="store_true", help="run permissively and grid-search thresholds"
    )
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument(
        "--selector-curve",
        choices=("dev", "test", "all"),
        help="answer with no selector threshold, then print the rates each threshold gives on this split",
    )
    args = parser.parse_args()

    questions = [json.loads(x) for x in (args.kb / "questions.jsonl").read_text().splitlines() if x.strip()]
    questions = questions[: args.limit] if args.limit else questions
    overrides = {}
    if args.calibrate:
        overrides = {
            "min_retrieval_score": -1.0,
            "min_support": -1.0,
            "min_lexical_support": 0.0,
            "min_extractive_similarity": 2.0,
            "extractive_passages": 3,
        }
    if args.selector_curve:
        overrides["selector_threshold"] = 0.0
    settings = Settings.load(None, **overrides)
    with tempfile.TemporaryDirectory() as scratch:
        bot = Tandem(args.index or Path(scratch) / "index", settings)
        started = time.perf_counter()
        report = bot.ingest([args.kb / "docs"])
        ingest_s = time.perf_counter() - started
        bot.ask("warm-up question about refunds")
        rows = run(bot, questions)

    s = settings
    configured = score(rows, lambda r: set() if not r["cited"] else set(r["cited"]))
    f1 = [r["answer_f1"] for r in rows if r["answer_f1"] is not None]
    configured["answerable_reference_f1"] = statistics.fmean(f1) if f1 else None
    # Replaying other rules needs every row's draft: a run that quoted instead of generating has
    # none (TANDEM_PREFER_QUOTES=false generates for every question).
    variants = (
        {}
        if any(r["reason"] == "quoted" for r in rows)
        else {
            "retrieval gate only (cite top passage)": score(rows, rule(s.min_retrieval_score, None, None)),
            "gate + sentence verification": score(
                rows, rule(s.min_retrieval_score, s.min_support, s.min_lexical_support)
            ),
            "gate + verification + extractive fallback": score(
                rows,
                rule(
                    s.min_retrieval_score,
                    s.min_support,
                    s.min_lexical_support,
                    s.min_extractive_similarity,
                    s.extractive_passages,
                ),
            ),
        }
    )
    generated = [r for r in rows if r["completion_tokens"]]
    quoted = [r for r in rows if r["reason"] == "quoted"]
    modes = dict(sorted(Counter(r["reason"] for r in rows).items()))
    latency = {
        "quoted_total_ms_p50": percentile([r["total_ms"] for r in quoted], 0.5),
        "quoted_total_ms_p95": percentile([r["total_ms"] for r in quoted], 0.95),
        "first_token_ms_p50": percentile([r["first_token_ms"] for r in generated], 0.5),
        "first_token_ms_p95": percentile([r["first_token_ms"] for r in generated], 0.95),
        "total_ms_p50": percentile([r["total_ms"] for r in rows], 0.5),
        "total_ms_p95": percentile([r["total_ms"] for r in rows], 0.95),
        "generated_total_ms_p50": percentile([r["total_ms"] for r in generated], 0.5),
        "generated_total_ms_p95": percentile([r["total_ms"] for r in generated], 0.95),
        "decode_tokens_per_s_mean": statistics.fmean([r["decode_tps"] for r in generated])
        if generated
        else 0,
        "completion_tokens_max": max((r["completion_tokens"] for r in generated), default=0),
    }
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}",
        "settings": {
            k: getattr(s, k)
            for k in (
                "encoder_backend",
                "encoder_threads",
                "generator_threads",
                "search_mode",
                "fusion",
                "prompt_passages",
                "min_retrieval_score",
                "min_support",
                "min_extractive_similarity",
                "prefer_quotes",
            )
        },
        "ingest": {"seconds": round(ingest_s, 2), "chunks": report.chunks, "documents": report.documents},
        "configured": configured,
        "correctness": correctness_table(rows),
        "reasons": modes,
        "variants": variants,
        "latency": latency,
        "rows": rows,
    }
    if args.calibrate:
        result["calibrated"] = calibrate(rows, s.prefer_quotes)
    if args.selector_curve:
        result["selector_curve"] = selector_curve(rows, args.selector_curve)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))

    print(f"{len(rows)} questions, ingest {ingest_s:.1f} s ({report.chunks} chunks)")
    print(f"{'rule':<45} {'cited expected':>15} {'ans. abstained':>15} {'unans. abstained':>17}")
    for name, rates in {"as configured": configured, **variants}.items():
        print(
            f"{name:<45} {rates['answerable_cited_expected']:>15.3f} "
            f"{rates['answerable_abstained']:>15.3f} {rates['unanswerable_abstained']:>17.3f}"
        )
    if (f1_mean := configured["answerable_reference_f1"]) is not None:
        print(f"token F1 against the reference answers (answerable, abstained = 0): {f1_mean:.3f}")
    print(
        f"\n{'split':<6} {'correct':>8} {'ans. abstained':>15} {'on-topic abst.':>15} {'off-topic abst.':>16}"
    )
    shown = lambda value, width: f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"  # noqa: E731
    for split, rates in result["correctness"].items():
        print(
            f"{split:<6} {shown(rates['answer_correct'], 8)} {shown(rates['answerable_abstained'], 15)} "
            f"{shown(rates['on_topic_unanswerable_abstained'], 15)} {shown(rates['off_topic_abstained'], 16)}"
        )
    print("answers by reason:", ", ".join(f"{k} {v}" for k, v in modes.items()))
    for key, value in latency.items():
        print(f"{key:<30} {value:.1f}")
    if args.calibrate:
        print("calibrated:", json.dumps(result["calibrated"]))
    if args.selector_curve:
        print(f"\nselector threshold on the {args.selector_curve} split (an answer below it abstains):")
        header = f"{'threshold':>9} {'correct':>8} {'ans. abstained':>15} {'on-topic abst.':>15}"
        print(f"{header} {'off-topic abst.':>16}")
        for t, rates in result["selector_curve"].items():
            print(
                f"{t:>9} {rates['answer_correct']:>8.3f} {rates['answerable_abstained']:>15.3f} "
                f"{rates['on_topic_unanswerable_abstained']:>15.3f} {rates['off_topic_abstained']:>16.3f}"
            )


if __name__ == "__main__":
    main()
