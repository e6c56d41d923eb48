"""Answer benchmark on SQuAD v1.1 dev: correct answers, and abstention when the answer is removed.

    python bench/squad_answers.py                                   # 300 questions, both parts
    python bench/squad_answers.py --questions 40 --index-cache /tmp/squad-idx   # smoke run, reusable indexes
    python bench/squad_answers.py --skip-removed                    # part 1 only

Articles are numbered by their position i in dev-v1.1.json (file order); the evaluation articles
are those with i % 3 == 2 (16 of 48), the others are kept for training and not used here. The
corpus ids p0..p2066 must name the paragraphs in file order (checked against the texts).

Part 1 (answerable): all 2,067 paragraphs are ingested (corpus.jsonl, each paragraph a document
with its `_id`), and a seeded sample of evaluation-article questions (the first N of
`random.Random(seed).shuffle` over them, seed 0, asked in file order) goes through `Tandem.ask`
with the default settings (tracing off). A question is correct when the answer is not an
abstention, cites the gold paragraph and contains a SQuAD reference span (normalised;
`tandem.evaluate.metrics.answer_correct`).

Part 2 (unanswerable by removal): a second index is built from a copy of the corpus in which, for
at most one sampled question per paragraph, every sentence of the gold paragraph that overlaps one
of the question's annotated answer spans is removed. A question is left out of this part when a
reference answer still appears (case-insensitive) in what remains of the paragraph, or when nothing
would remain. Those questions are asked over the second index, where abstaining is correct; their
abstained rate on the full index (from part 1) is given beside it.

Prints a markdown table and writes JSON (default bench/results/squad_answers.json). Not a test:
latency depends on what else runs on the machine. SQuAD is CC BY-SA 4.0 (Rajpurkar et al. 2016).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from retrieval import load_beir  # bench/retrieval.py: the same BEIR files
from tandem import __version__
from tandem.config import Settings
from tandem.documents.text_utils import sentence_spans
from tandem.evaluate.metrics import answer_correct, contains_reference, percentile
from tandem.evaluate.runner import cpu_model
from tandem.pipeline import Tandem
from tandem.verify.support import strip_citation_marks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "squad-dev"
DEFAULT_OUT = ROOT / "bench" / "results" / "squad_answers.json"
TARGET_REMOVED_ABSTAINED = 0.50  # part 2: abstain on at least half of the questions whose answer is gone
TARGET_FULL_ABSTAINED = 0.10  # ... while abstaining on at most a tenth of the same questions otherwise


# -- data ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    article: int  # position in dev-v1.1.json["data"]
    paragraph: int  # position within the article
    doc_id: str  # corpus id of the gold paragraph
    answers: tuple[str, ...]  # distinct reference texts
    spans: tuple[tuple[int, int], ...]  # (start, end) character offsets of every annotated answer


def load_squad(folder: Path) -> tuple[list[dict], dict[str, str], list[Question]]:
    """Corpus records (file order), paragraph texts by corpus id, and the evaluation questions.

    Fails when the corpus ids do not name the dev-v1.1.json paragraphs in file order, or when the
    qrels disagree about a question's paragraph."""
    data = json.loads((folder / "dev-v1.1.json").read_text(encoding="utf-8"))["data"]
    corpus_lines = (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in corpus_lines if line.strip()]
    paragraphs = [(i, j, p) for i, a in enumerate(data) for j, p in enumerate(a["paragraphs"])]
    if len(records) != len(paragraphs):
        sys.exit(f"corpus.jsonl has {len(records)} records but dev-v1.1.json {len(paragraphs)} paragraphs")
    for k, (record, (i, j, p)) in enumerate(zip(records, paragraphs, strict=True)):
        if str(record["_id"]) != f"p{k}" or record["text"] != p["context"]:
            sys.exit(
                f"corpus.jsonl line {k + 1} (id {record['_id']!r}) is not paragraph {j} of article {i} "
                "of dev-v1.1.json: the ids must follow the paragraphs in file order"
            )
    _, _, qrels = load_beir(folder)
    questions: list[Question] = []
    for k, (i, j, p) in enumerate(paragraphs):
        if i % 3 != 2:
            continue
        for qa in p["qas"]:
            doc_id = f"p{k}"
            if qrels.get(qa["id"], {doc_id}) != {doc_id}:
                sys.exit(f"qrels.tsv gives question {qa['id']} {sorted(qrels[qa['id']])}, not {doc_id}")
            spans = tuple(answer_span(p["context"], a) for a in qa["answers"])
            questions.append(
                Question(
                    qa["id"],
                    qa["question"],
                    i,
                    j,
                    doc_id,
                    tuple(dict.fromkeys(a["text"] for a in qa["answers"])),
                    tuple(s for s in spans if s is not None),
                )
            )
    texts = {str(r["_id"]): r["text"] for r in records}
    return records, texts, questions


def answer_span(context: str, answer: dict) -> tuple[int, int] | None:
    """The answer's character span; where answer_start is off, the nearest occurrence of its text."""
    start, text = int(answer["answer_start"]), answer["text"]
    if context[start : start + len(text)] == text:
        return start, start + len(text)
    found = [m for m in range(len(context)) if context.startswith(text, m)]
    if not found:
        return None
    best = min(found, key=lambda m: abs(m - start))
    return best, best + len(text)


def sample_questions(questions: list[Question], n: int, seed: int) -> list[Question]:
    """The first n of random.Random(seed).shuffle over the questions, in file order."""
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    return [questions[i] for i in sorted(order[:n])]


def remove_answer(context: str, spans: tuple[tuple[int, int], ...]) -> tuple[str, int]:
    """The paragraph without every sentence that overlaps an answer span; and how many were removed."""
    kept, removed = [], 0
    for start, end in sentence_spans(context):
        if any(start < b and a < end for a, b in spans):
            removed += 1
        else:
            kept.append(context[start:end])
    return " ".join(kept), removed


def removal_plan(sample: list[Question], texts: dict[str, str]) -> tuple[list[dict], dict[str, str]]:
    """For each sampled question (file order): whether part 2 uses it, and why not; and the new texts
    of the modified paragraphs. The first usable question of a paragraph takes it."""
    plan, modified = [], {}
    for q in sample:
        entry = {"id": q.qid, "doc": q.doc_id}
        if q.doc_id in modified:
            entry["status"] = "paragraph already used"
        elif not q.spans:
            entry["status"] = "answer span not found"
        else:
            text, removed = remove_answer(texts[q.doc_id], q.spans)
            entry["sentences_removed"] = removed
            if not text.strip():
                entry["status"] = "paragraph would be empty"
            elif any(a.lower() in text.lower() for a in q.answers):
                entry["status"] = "answer still in paragraph"
            else:
                entry["status"] = "used"
                modified[q.doc_id] = text
        plan.append(entry)
    return plan, modified


def answer_elsewhere(q: Question, texts: dict[str, str], paragraph_ids: list[str]) -> bool:
    """Does a reference answer appear (case-insensitive) in another paragraph of the same article?"""
    wanted = [a.lower() for a in q.answers]
    return any(any(a in texts[d].lower() for a in wanted) for d in paragraph_ids if d != q.doc_id)


# -- indexes ---------------------------------------------------------------------------------------
def corpus_bytes(records: list[dict], modified: dict[str, str] | None = None) -> bytes:
    modified = modified or {}
    lines = [
        json.dumps({**r, "text": modified.get(str(r["_id"]), r["text"])}, ensure_ascii=False) for r in records
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def build_index(name: str, folder: Path, corpus: Path, settings: Settings) -> tuple[Tandem, dict]:
    """Ingest `corpus` into `folder` unless an index built from the same corpus is already there;
    return the Tandem over it and what was done."""
    fingerprint = hashlib.sha256(corpus.read_bytes()).hexdigest()
    stamp = folder.parent / f"{folder.name}.source.json"
    wanted = {"corpus_sha256": fingerprint, "encoder": settings.encoder}
    if (folder / "CURRENT").is_file() and stamp.is_file():
        if json.loads(stamp.read_text()) == wanted:
            print(f"{name}: reusing the index at {folder}", file=sys.stderr)
            return Tandem(folder, settings), {"folder": str(folder), "reused": True, "seconds": 0.0}
        print(f"{name}: {folder} was built from another corpus; rebuilding", file=sys.stderr)
    if folder.exists():
        shutil.rmtree(folder)
    stamp.unlink(missing_ok=True)
    bot = Tandem(folder, settings)
    print(f"{name}: ingesting {corpus} ...", file=sys.stderr)
    started = time.perf_counter()
    report = bot.ingest([corpus])
    seconds = time.perf_counter() - started
    if not report.ok:
        sys.exit(f"{name}: ingest of {corpus} failed: {report.skipped}")
    stamp.write_text(json.dumps(wanted) + "\n")
    print(
        f"{name}: ingested {report.documents} documents, {report.chunks} chunks in {seconds:.1f} s",
        file=sys.stderr,
    )
    return bot, {
        "folder": str(folder),
        "reused": False,
        "seconds": round(seconds, 1),
        "documents": report.documents,
        "chunks": report.chunks,
        "flagged": len(report.flagged),
        "quarantined": report.quarantined,
    }


# -- asking ----------------------------------------------------------------------------------------
def ask_all(bot: Tandem, questions: list[Question], label: str) -> list[dict]:
    bot.ask("warm-up question about the documents")
    rows, started = [], time.perf_counter()
    for n, q in enumerate(questions, start=1):
        answer = bot.ask(q.text)
        text = strip_citation_marks(answer.text)[0]
        cited = sorted({c.doc_id for c in answer.citations})
        rows.append(
            {
                "id": q.qid,
                "question": q.text,
                "gold_doc": q.doc_id,
                "gold_answers": list(q.answers),
                "answer": answer.text,
                "mode": answer.mode,
                "abstained": answer.abstained,
                "reason": answer.reason,
                "cited": cited,
                "cited_gold": q.doc_id in cited,
                "contains_gold": bool(contains_reference(text, q.answers)) and not answer.abstained,
                "correct": answer_correct(text, answer.abstained, cited, [q.doc_id], references=q.answers),
                "total_ms": answer.timings.get("total_ms"),
                "selector_best": (answer.diagnostics.get("units") or [{}])[0].get("probability"),
            }
        )
        if n % 10 == 0 or n == len(questions):
            rate = (time.perf_counter() - started) / n
            print(
                f"\r  {label}: {n}/{len(questions)} ({rate:.1f} s/question)",
                end="",
                file=sys.stderr,
                flush=True,
            )
    print(file=sys.stderr)
    return rows


def rate(rows: list[dict], key: str) -> float | None:
    return sum(bool(r[key]) for r in rows) / len(rows) if rows else None


def latency(rows: list[dict]) -> dict:
    values = [float(r["total_ms"]) for r in rows if r["total_ms"] is not None]
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None}
    return {"n": len(values), "p50_ms": percentile(values, 0.5), "p95_ms": percentile(values, 0.95)}


def summary(rows: list[dict]) -> dict:
    return {
        "questions": len(rows),
        "correct": rate(rows, "correct"),
        "abstained": rate(rows, "abstained"),
        "cited_gold": rate(rows, "cited_gold"),
        "contains_gold": rate(rows, "contains_gold"),
        "modes": dict(Counter(r["mode"] for r in rows)),
        "total_latency": latency(rows),
    }


# -- output ----------------------------------------------------------------------------------------
def fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render(result: dict) -> str:
    full = result["answerable"]
    lat = full["total_latency"]
    lines = [
        "| measure | value |",
        "|---|---|",
        f"| answerable questions | {full['questions']} |",
        f"| correct (gold cited, reference contained) | {fmt(full['correct'])} |",
        f"| abstained | {fmt(full['abstained'])} |",
        f"| cited gold paragraph | {fmt(full['cited_gold'])} |",
        f"| contains a reference | {fmt(full['contains_gold'])} |",
        f"| modes | {', '.join(f'{k} {v}' for k, v in sorted(full['modes'].items()))} |",
        f"| total latency p50 / p95 (ms) | {fmt(lat['p50_ms'], 0)} / {fmt(lat['p95_ms'], 0)} |",
    ]
    removed = result.get("removed")
    if removed is not None:
        lines += [
            f"| removal questions (used / sampled) | {removed['questions']} / {full['questions']} |",
            f"| removed: abstained (target >= {TARGET_REMOVED_ABSTAINED:.2f}) | "
            f"{fmt(removed['abstained'])} |",
            f"| same questions, full index: abstained (target <= {TARGET_FULL_ABSTAINED:.2f}) | "
            f"{fmt(removed['full_index']['abstained'])} |",
            f"| same questions, full index: correct | {fmt(removed['full_index']['correct'])} |",
            f"| removed: modes | {', '.join(f'{k} {v}' for k, v in sorted(removed['modes'].items()))} |",
        ]
    return "\n".join(lines)


def selector_curve(full_rows: list[dict], removed_rows: list[dict]) -> list[dict]:
    """Replay a run made with no selector threshold (`--selector-curve`): at each threshold, an
    answer whose best unit scores below it counts as abstained."""

    def below(row: dict, threshold: float) -> bool:
        return row["abstained"] or (row["selector_best"] is not None and row["selector_best"] < threshold)

    curve = []
    for threshold in [round(0.02 * step, 2) for step in range(16)] + [0.4, 0.5, 0.6]:
        curve.append(
            {
                "threshold": threshold,
                "correct": sum(r["correct"] and not below(r, threshold) for r in full_rows) / len(full_rows),
                "answerable_abstained": sum(below(r, threshold) for r in full_rows) / len(full_rows),
                "removed_abstained": sum(below(r, threshold) for r in removed_rows)
                / max(len(removed_rows), 1),
            }
        )
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SQuAD folder (default: %(default)s)")
    parser.add_argument("--questions", type=int, default=300, help="sampled questions (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file (default: %(default)s)")
    parser.add_argument(
        "--index-cache",
        type=Path,
        default=None,
        help="keep the indexes in DIR/full and DIR/removed and reuse them (default: temp, rebuilt)",
    )
    parser.add_argument("--skip-removed", action="store_true", help="part 1 only")
    parser.add_argument(
        "--selector-curve",
        action="store_true",
        help="answer with no selector threshold and print the rates at each threshold instead",
    )
    args = parser.parse_args()
    if not (args.data / "dev-v1.1.json").is_file():
        sys.exit(f"SQuAD dev not found at {args.data}: pass --data")

    started = time.perf_counter()
    loadavg_start = os.getloadavg()
    settings = Settings.load(None).model_copy(update={"trace": False})
    if args.selector_curve:
        settings = settings.model_copy(update={"selector_threshold": 0.0})
    records, texts, questions = load_squad(args.data)
    chosen = sample_questions(questions, args.questions, args.seed)
    print(
        f"{len(records)} paragraphs; {len(questions)} evaluation-article questions, {len(chosen)} sampled",
        file=sys.stderr,
    )
    stages: dict[str, float] = {}
    scratch_owner = None
    if args.index_cache is None:
        scratch_owner = tempfile.TemporaryDirectory(prefix="tandem-squad-")
        cache = Path(scratch_owner.name)
    else:
        cache = args.index_cache
        cache.mkdir(parents=True, exist_ok=True)
    try:
        full_corpus = cache / "full-corpus.jsonl"
        full_corpus.write_bytes(corpus_bytes(records))
        t = time.perf_counter()
        bot, full_index = build_index("full", cache / "full", full_corpus, settings)
        stages["full_index_s"] = time.perf_counter() - t

        t = time.perf_counter()
        full_rows = ask_all(bot, chosen, "full index")
        del bot  # one generator in memory at a time
        stages["full_ask_s"] = time.perf_counter() - t
        result: dict = {
            "benchmark": "SQuAD v1.1 dev: answers over all 2,067 paragraphs, abstention with answers removed",
            "date": time.strftime("%Y-%m-%d"),
            "tandem_version": __version__,
            "machine": {
                "cpu": cpu_model(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "loadavg_start": loadavg_start,
            },
            "data": str(args.data),
            "sampling": (
                f"first {args.questions} of random.Random({args.seed}).shuffle over the questions of "
                "articles i % 3 == 2 (file order), asked in file order"
            ),
            "evaluation_articles": sorted({q.article for q in questions}),
            "evaluation_questions": len(questions),
            "settings": settings.model_dump(mode="json"),
            "indexes": {"full": full_index},
            "answerable": summary(full_rows),
        }

        if not args.skip_removed:
            plan, modified = removal_plan(chosen, texts)
            used = {e["id"] for e in plan if e["status"] == "used"}
            removal_questions = [q for q in chosen if q.qid in used]
            removed_corpus = cache / "removed-corpus.jsonl"
            removed_corpus.write_bytes(corpus_bytes(records, modified))
            t = time.perf_counter()
            bot, removed_index = build_index("removed", cache / "removed", removed_corpus, settings)
            stages["removed_index_s"] = time.perf_counter() - t
            t = time.perf_counter()
            removed_rows = ask_all(bot, removal_questions, "removed index")
            del bot
            stages["removed_ask_s"] = time.perf_counter() - t
            article_docs: dict[int, list[str]] = {}
            for q in questions:
                article_docs.setdefault(q.article, [])
                if q.doc_id not in article_docs[q.article]:
                    article_docs[q.article].append(q.doc_id)
            by_id = {q.qid: q for q in removal_questions}
            for row in removed_rows:
                row["answer_elsewhere_in_article"] = answer_elsewhere(
                    by_id[row["id"]], texts, article_docs[by_id[row["id"]].article]
                )
                row["correct"] = row["abstained"]  # the answer is gone: abstaining is right
            same = [r for r in full_rows if r["id"] in used]
            removed_summary = summary(removed_rows)
            removed_summary["full_index"] = summary(same)
            removed_summary["selection"] = dict(Counter(e["status"] for e in plan))
            removed_summary["answer_elsewhere_in_article"] = sum(
                r["answer_elsewhere_in_article"] for r in removed_rows
            )
            removed_summary["targets"] = {
                "removed_abstained": {
                    "target": f">= {TARGET_REMOVED_ABSTAINED}",
                    "met": (removed_summary["abstained"] or 0.0) >= TARGET_REMOVED_ABSTAINED,
                },
                "full_index_abstained": {
                    "target": f"<= {TARGET_FULL_ABSTAINED}",
                    "met": removed_summary["full_index"]["abstained"] is not None
                    and removed_summary["full_index"]["abstained"] <= TARGET_FULL_ABSTAINED,
                },
            }
            result["indexes"]["removed"] = {**removed_index, "modified_paragraphs": len(modified)}
            result["removed"] = removed_summary
            result["removal_plan"] = plan
            result["removed_rows"] = removed_rows
    finally:
        if scratch_owner is not None:
            scratch_owner.cleanup()

    stages["total_s"] = time.perf_counter() - started
    result["stages_s"] = {k: round(v, 1) for k, v in stages.items()}
    result["machine"]["loadavg_end"] = os.getloadavg()
    result["rows"] = full_rows
    if args.selector_curve:
        result["selector_curve"] = selector_curve(full_rows, result.get("removed_rows", []))
        print("threshold  correct  answerable abstained  removed abstained")
        for point in result["selector_curve"]:
            print(
                f"{point['threshold']:9.2f}  {point['correct']:7.3f}  {point['answerable_abstained']:20.3f}  "
                f"{point['removed_abstained']:17.3f}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    print(render(result))
    print(
        "\nstages (s): "
        + ", ".join(f"{k.removesuffix('_s')} {v:,.0f}" for k, v in result["stages_s"].items())
    )


if __name__ == "__main__":
    main()
