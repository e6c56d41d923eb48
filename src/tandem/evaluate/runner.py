"""Run a question set through a `Tandem` and write RUN_DIR/results.jsonl and metrics.json.

>>> from tandem import Tandem
>>> from tandem.evaluate import EvalRunner, load_questions
>>> runner = EvalRunner(Tandem("kb-index"), k=10)  # doctest: +SKIP
>>> run = runner.run(load_questions(Path("questions.jsonl")), Path("runs/today"))  # doctest: +SKIP
>>> run.metrics["metrics"]["retrieval"]["mrr@10"]  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tandem.answer import Answer
from tandem.errors import InputError
from tandem.evaluate.judge import CitationJudge
from tandem.evaluate.metrics import (
    alce_citation_scores,
    answer_correct,
    best_over_references,
    contains_reference,
    exact_match,
    first_relevant_rank,
    ranked_documents,
    retrieval_scores,
    route_matches,
    split_statements,
    token_f1,
)
from tandem.evaluate.questions import EvalQuestion, QuestionSet, unknown_document_warnings
from tandem.evaluate.summary import summarise
from tandem.version import __version__

RESULTS, METRICS = "results.jsonl", "metrics.json"
SETTINGS_RECORDED = (
    "encoder", "encoder_backend", "generator", "search_mode", "fusion", "dense_weight",
    "coverage_weight", "top_k", "prompt_passages", "max_answer_tokens", "min_retrieval_score", "min_support",
    "min_lexical_support", "min_answer_relevance", "extractive_passages", "min_extractive_similarity",
    "prefer_quotes", "input_guard", "router", "guard_policy", "generator_threads", "encoder_threads",
)  # fmt: skip
Progress = Callable[[int, int, dict], None]


@dataclass
class EvalRun:
    """A finished run: its folder, metrics.json's content and the per-question rows."""

    folder: Path
    metrics: dict
    rows: list[dict]


class EvalRunner:
    """Asks every question, scores each answer, and aggregates the metrics.

    Retrieval metrics come from a search of `max(50, 5 * k)` chunks with the answer's own search
    settings, deduplicated to documents; the answer itself is made from the first `top_k` chunks.
    """

    def __init__(self, bot, judge: CitationJudge | None = None, k: int = 10) -> None:
        if k < 1:
            raise ValueError(f"k must be greater than 0. Currently it is {k}")
        self.bot = bot
        self.k = k
        self._judge = judge

    @property
    def judge(self) -> CitationJudge:
        if self._judge is None:
            self._judge = CitationJudge.from_settings(self.bot.encoder, self.bot.settings)
        return self._judge

    @property
    def depth(self) -> int:
        return max(50, 5 * self.k)

    def known_documents(self) -> set[str]:
        return set(self.bot.snapshot.doc_ids)

    def warnings(self, questions: QuestionSet) -> list[str]:
        """The question file's problems, then expectations that name documents the index lacks."""
        index = str(self.bot.settings.index_dir)
        return [
            *questions.problems,
            *unknown_document_warnings(questions.items, self.known_documents(), index),
        ]

    def run(
        self,
        questions: QuestionSet,
        out_dir: Path,
        progress: Progress | None = None,
        overwrite: bool = False,
    ) -> EvalRun:
        """Ask, score and write; results.jsonl grows one line per question, so a crash keeps them."""
        if not overwrite and any((out_dir / name).exists() for name in (RESULTS, METRICS)):
            raise InputError(f"{out_dir} already holds a run; choose a new --out folder or pass --overwrite")
        out_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        warnings = self.warnings(questions)
        known = self.known_documents()
        self._warm_up()
        rows: list[dict] = []
        with (out_dir / RESULTS).open("w", encoding="utf-8") as out:
            for number, question in enumerate(questions.items, start=1):
                row = self._evaluate(question, known)
                rows.append(row)
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                out.flush()
                if progress is not None:
                    progress(number, len(questions.items), row)
        metrics = {
            "run": self._metadata(questions, rows, time.perf_counter() - started),
            "warnings": warnings,
            "metrics": summarise(rows, self.k),
        }
        (out_dir / METRICS).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
        return EvalRun(out_dir, metrics, rows)

    def _warm_up(self) -> None:
        """Load the models before the clock starts, so the first question's latency is its own."""
        self.bot.warm_up()

    # -- one question ---------------------------------------------------------------------------
    def _evaluate(self, question: EvalQuestion, known: set[str]) -> dict:
        base = {
            "id": question.id,
            "line": question.line,
            "question": question.question,
            "answerable": question.answerable,
            "expected_docs": list(question.expected_docs),
            "references": list(question.references),
            "expected_route": question.expected_route,
            **({"history": list(question.history)} if question.history else {}),
            **({"extra": question.extra} if question.extra else {}),
        }
        try:
            answer = self.bot.ask(question.question, history=question.history)
            searched = str(answer.diagnostics.get("resolved_question") or question.question)  # a follow-up's
            ranked = ranked_documents(p.chunk.doc_id for p in self.bot.search(searched, self.depth))
        except Exception as exc:  # one bad question must not end a 500-question run
            return {**base, "error": f"{type(exc).__name__}: {exc}", "mode": "error", "abstained": True,
                    "failures": ["error"], "timings_ms": {}}  # fmt: skip
        row = {**base, **self._score(question, answer, ranked[: max(self.k, 10)], known)}
        row["failures"] = failures(row, self.k)
        return row

    def _score(self, question: EvalQuestion, answer: Answer, ranked: list[str], known: set[str]) -> dict:
        relevant = {d for d in question.expected_docs if d in known}
        retrieval = retrieval_scores(ranked, relevant, (1, 5, self.k)) if relevant else None
        rank = first_relevant_rank(ranked, relevant) if relevant else None
        citations = self._citations(answer)
        prediction = "" if answer.abstained else " ".join(s["text"] for s in citations["statements"])
        answers: dict = {"f1": None, "exact_match": None, "contains_reference": None, "answer_correct": None}
        if question.answerable and (question.key_facts or question.references):
            answers["answer_correct"] = answer_correct(
                prediction,
                answer.abstained,
                [c.doc_id for c in answer.citations],
                [d for d in question.expected_docs if d in known],
                question.key_facts,
                question.references,
            )
        if question.references:
            refs = question.references
            answers |= {
                "f1": best_over_references(token_f1, prediction, refs),
                "exact_match": best_over_references(exact_match, prediction, refs),
                "contains_reference": contains_reference(prediction, refs),
            }
        route = answer.route
        action = route["action"] if route else ("blocked" if answer.mode == "blocked" else "answer")
        labels = {name: p["label"] for name, p in route["predictions"].items()} if route else {}
        route_correct = (
            route_matches(question.expected_route, action, labels) if question.expected_route else None
        )
        row = {
            "answer": answer.text,
            "mode": answer.mode,
            "abstained": answer.abstained,
            "reason": answer.reason,
            "trace_id": answer.trace_id,
            "index_version": answer.versions.get("index_version"),
            "versions": answer.versions,
            "route_action": action,
            "route_labels": labels,
            "route_correct": route_correct,
            "retrieved_docs": ranked,
            "answer_docs": ranked_documents(p.chunk.doc_id for p in answer.passages),
            "unknown_expected_docs": [d for d in question.expected_docs if d not in known],
            "first_relevant_rank": rank,
            "retrieval": retrieval,
            "cited_docs": list(dict.fromkeys(c.doc_id for c in answer.citations)),
            **citations,
            **answers,
            "abstention_correct": answer.abstained == (not question.answerable),
            "timings_ms": {k: round(v, 2) for k, v in answer.timings.items()},
        }
        return row

    def _citations(self, answer: Answer) -> dict:
        """ALCE citation recall/precision of the answer's statements, with each support score."""
        if answer.abstained:
            return {
                "statements": [],
                "citation_recall": None,
                "citation_precision": None,
                "citations_counted": 0,
            }
        texts = {p.chunk.chunk_id: p.chunk.text for p in answer.passages}
        chunk_of = {c.number: c.chunk_id for c in answer.citations}
        passages = {n: texts[cid] for n, cid in chunk_of.items() if cid in texts}
        statements = split_statements(answer.text)
        scores = alce_citation_scores(statements, passages, self.judge.entails)
        rows = []
        for check in scores.checks:
            resolved = [n for n in check.cited if n in passages]
            joint = self.judge.verdict(check.text, [passages[n] for n in resolved]) if resolved else None
            rows.append(
                {
                    "text": check.text,
                    "cited": list(check.cited),
                    "chunk_ids": [chunk_of.get(n) for n in check.cited],
                    "supported": check.supported,
                    "support": joint.score if joint else None,
                    "citation_support": [self.judge.supports(check.text, passages[n])[1] for n in resolved],
                    "precise": list(check.precise),
                }
            )
        return {
            "statements": rows,
            "citation_recall": scores.recall,
            "citation_precision": scores.precision,
            "citations_counted": scores.citations,
        }

    # -- metadata -------------------------------------------------------------------------------
    def _metadata(self, questions: QuestionSet, rows: list[dict], seconds: float) -> dict:
        settings = self.bot.settings
        versions: dict[str, set] = {}
        for row in rows:
            for key, value in (row.get("versions") or {}).items():
                versions.setdefault(key, set()).add(value)
        now = dt.datetime.now().astimezone()
        return {
            "created": now.isoformat(timespec="seconds"),
            "date": now.date().isoformat(),
            "tandem_version": __version__,
            "questions_file": str(questions.path),
            "questions_sha256": hashlib.sha256(questions.path.read_bytes()).hexdigest(),
            "questions": len(questions.items),
            "index": str(settings.index_dir),
            "index_version": self.bot.snapshot.version,
            "versions": {k: sorted(v)[0] if len(v) == 1 else sorted(v, key=str) for k, v in versions.items()},
            "settings": {k: _plain(getattr(settings, k)) for k in SETTINGS_RECORDED},
            "k": self.k,
            "retrieval_depth_chunks": self.depth,
            "judge": self.judge.describe(),
            "machine": machine(),
            "runtime_s": round(seconds, 2),
        }


def failures(row: dict, k: int) -> list[str]:
    """Short names of what went wrong for one question (empty when nothing did)."""
    out = []
    if row.get("retrieval") is not None and (
        row["first_relevant_rank"] is None or row["first_relevant_rank"] > k
    ):
        out.append("retrieval miss")
    if row["answerable"] and row["abstained"]:
        out.append("abstained on answerable")
    if not row["answerable"] and not row["abstained"]:
        out.append("answered unanswerable")
    if row.get("citation_recall") is not None and row["citation_recall"] < 1:
        out.append("unsupported statement")
    if row.get("citation_precision") is not None and row["citation_precision"] < 1:
        out.append("imprecise citation")
    if (
        row.get("f1") is not None
        and not row["abstained"]
        and row["f1"] < 0.5
        and not row["contains_reference"]
    ):
        out.append("answer misses reference")
    if row.get("answer_correct") is False and not row["abstained"]:
        out.append("answer lacks a key fact")
    if row.get("route_correct") is False:
        out.append("wrong route")
    return out


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what `platform.processor()` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine() -> dict:
    """CPU model and count, OS and Python: where the timings were taken."""
    return {"cpu": cpu_model(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version()}  # fmt: skip


def load_run(folder: Path) -> tuple[dict, list[dict]]:
    """metrics.json and the rows of results.jsonl of a run folder."""
    metrics_path, results_path = folder / METRICS, folder / RESULTS
    if not metrics_path.is_file() or not results_path.is_file():
        raise InputError(
            f"{folder} is not an evaluation run: it needs {METRICS} and {RESULTS} "
            "(make one with `tandem eval QUESTIONS.jsonl --index DIR --out RUN_DIR`)"
        )
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{metrics_path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    rows = []
    for number, line in enumerate(results_path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{results_path} line {number} is not valid JSON ({exc.msg})") from None
    return metrics, rows


def _plain(value):
    return str(value) if isinstance(value, Path) else value
