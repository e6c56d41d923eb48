"""Reports and run comparison on run folders written by hand (no models needed)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tandem.evaluate.compare import compare_runs, render_compare
from tandem.evaluate.report import render_report
from tandem.evaluate.runner import failures
from tandem.evaluate.summary import summarise

HIT_AT_1 = {"recall@1": 1.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}
MISS = {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
HIT_AT_3 = {"recall@1": 0.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1 / 3, "ndcg@10": 0.5}


def row(qid: str, **fields) -> dict:
    base = {
        "id": qid,
        "question": f"question {qid}?",
        "answerable": True,
        "expected_docs": [],
        "references": [],
        "expected_route": None,
        "answer": f"answer to {qid} [1]",
        "mode": "generated",
        "abstained": False,
        "trace_id": f"t-{qid}",
        "route_action": "answer",
        "route_correct": None,
        "retrieval": None,
        "first_relevant_rank": None,
        "cited_docs": ["doc.md"],
        "statements": [],
        "citation_recall": None,
        "citation_precision": None,
        "citations_counted": 0,
        "f1": None,
        "exact_match": None,
        "contains_reference": None,
        "timings_ms": {"retrieve_ms": 12.0, "generate_ms": 800.0, "total_ms": 900.0},
    }
    base.update(fields)
    if base["citation_recall"] is not None and not base["statements"]:
        supported = base["citation_recall"] == 1.0
        base["statements"] = [
            {
                "text": "s",
                "cited": [1],
                "supported": supported,
                "support": 0.7,
                "citation_support": [0.7 if supported else 0.3],
                "precise": [supported],
            }
        ]
        base["citations_counted"] = 1
    base["abstention_correct"] = base["abstained"] == (not base["answerable"])
    base["failures"] = failures(base, 10)
    return base


def write_run(folder: Path, rows: list[dict], **run) -> Path:
    folder.mkdir(parents=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    metadata = {
        "questions_file": "questions.jsonl",
        "questions_sha256": "abc",
        "index": "kb",
        "index_version": 3,
        "k": 10,
        "settings": {"min_support": 0.5},
        "judge": {"min_support": 0.5},
        **run,
    }
    metrics = {
        "run": metadata,
        "warnings": ["line 4: not valid JSON; skipped"],
        "metrics": summarise(rows, 10),
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def ref(f1: float, **fields) -> dict:
    return {
        "references": ["x"],
        "f1": f1,
        "exact_match": float(f1 == 1.0),
        "contains_reference": float(f1 > 0.5),
        **fields,
    }


def answered(qid: str, retrieval: dict, rank: int | None, citations: float, f1: float) -> dict:
    """An answerable question with one expected document, answered and cited."""
    found = {"first_relevant_rank": rank} if rank else {}
    return row(
        qid,
        expected_docs=[f"d{qid[1:]}"],
        retrieval=retrieval,
        citation_recall=citations,
        citation_precision=citations,
        **found,
        **ref(f1),
    )


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    a = [
        answered("q1", HIT_AT_1, 1, citations=1.0, f1=1.0),
        answered("q2", MISS, None, citations=0.5, f1=0.2),
        row("q3", answerable=False),
        row("q4"),
    ]
    b = [
        answered("q1", HIT_AT_1, 1, citations=1.0, f1=0.5),
        answered("q2", HIT_AT_3, 3, citations=1.0, f1=0.8),
        row(
            "q3",
            answerable=False,
            abstained=True,
            mode="abstained",
            answer="The documentation doesn't cover this.",
        ),
        row("q5", expected_route="handoff:safety", route_correct=False),
    ]
    return write_run(tmp_path / "a", a), write_run(tmp_path / "b", b, settings={"min_support": 0.6})


def test_summary_of_hand_made_rows(runs: tuple[Path, Path]) -> None:
    metrics = json.loads((runs[1] / "metrics.json").read_text())["metrics"]
    assert metrics["retrieval"]["mrr@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert metrics["retrieval"]["first_relevant_rank"] == {"1": 1, "3": 1}
    assert metrics["answers"]["f1"] == pytest.approx(0.65) and metrics["answers"]["exact_match"] == 0.0
    assert metrics["citations"] == {
        "answers": 2,
        "statements": 2,
        "citations": 2,
        "recall": 1.0,
        "precision": 1.0,
    }
    assert (metrics["abstention"]["precision"], metrics["abstention"]["recall"]) == (1.0, 1.0)
    assert metrics["routing"] == {"questions": 1, "accuracy": 0.0, "pairs": {"handoff:safety -> answer": 1}}
    assert metrics["latency_ms"]["total"]["p50"] == 900.0


def test_compare_deltas_and_changed_questions(runs: tuple[Path, Path]) -> None:
    comparison = compare_runs(*runs)
    deltas = {d.key: d for d in comparison.deltas}
    assert deltas["answers.f1"].a == pytest.approx(0.6) and deltas["answers.f1"].b == pytest.approx(0.65)
    assert deltas["answers.f1"].delta == pytest.approx(0.05) and deltas["answers.f1"].better is True
    assert deltas["retrieval.mrr@10"].delta == pytest.approx((1 + 1 / 3) / 2 - 0.5)
    assert deltas["abstention.recall"].a == 0.0 and deltas["abstention.recall"].b == 1.0
    assert deltas["latency_ms.total.p50"].better is None  # unchanged
    assert [c.id for c in comparison.of("better")] == ["q2", "q3"]
    assert [c.id for c in comparison.of("worse")] == ["q1"]
    q2 = comparison.of("better")[0]
    assert q2.improved == [
        "answer F1 0.20 -> 0.80",
        "citation recall 0.50 -> 1.00",
        "retrieval miss -> hit #3",
    ]
    assert comparison.of("worse")[0].regressed == ["answer F1 1.00 -> 0.50"]
    assert (comparison.common, comparison.only_a, comparison.only_b) == (3, ["q4"], ["q5"])
    assert "setting min_support: 0.5 -> 0.6" in comparison.notes
    html = render_compare(comparison, runs[1] / "compare.html").read_text()
    assert "data:image/png;base64," in html and "Got worse (1)" in html and "q1" in html
    assert_self_contained(html)


def assert_self_contained(html: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "<link" not in html.lower() and "<script" not in html.lower()


def test_report_has_plots_and_failures_first(runs: tuple[Path, Path]) -> None:
    html = render_report(runs[0]).read_text()
    assert html.startswith("<!doctype html>") and "<style>" in html
    assert html.count("<img alt='plot' src='data:image/png;base64,") >= 4
    assert_self_contained(html)
    assert "line 4: not valid JSON; skipped" in html  # the run's warnings are shown
    table = html[html.index("Questions (failures first)") :]
    assert table.index("q2") < table.index("q1") and table.index("q3") < table.index("q4")
    assert "retrieval miss" in table and "answered unanswerable" in table and "t-q1" in table


def test_cli_compare_prints_deltas_and_lists(runs: tuple[Path, Path], monkeypatch, capsys) -> None:
    from tandem import cli

    monkeypatch.setattr(sys, "argv", ["tandem", "eval", "compare", str(runs[0]), str(runs[1])])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 0
    out = capsys.readouterr()
    assert "Answer F1" in out.out and "+0.050" in out.out
    assert "worse (1 questions)" in out.out and "q1: answer F1 1.00 -> 0.50" in out.out
    assert "better (2 questions)" in out.out
    assert "setting min_support" in out.err
    assert (runs[1] / "compare.html").is_file()


def test_cli_compare_rejects_a_folder_that_is_not_a_run(tmp_path: Path, monkeypatch, capsys) -> None:
    from tandem import cli

    monkeypatch.setattr(sys, "argv", ["tandem", "eval", "compare", str(tmp_path), str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    assert "is not an evaluation run: it needs metrics.json" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("command", [[], ["run"], ["compare"], ["report"], ["judge"]])
def test_help_everywhere(command: list[str], monkeypatch, capsys) -> None:
    from tandem import cli

    monkeypatch.setattr(sys, "argv", ["tandem", "eval", *command, "--help"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 0 and "Usage" in capsys.readouterr().out
