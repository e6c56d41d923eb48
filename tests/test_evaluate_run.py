"""The harness end to end with the real bundled models: `tandem eval QUESTIONS.jsonl --index --out`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tandem.trace.store import TraceStore

pytestmark = pytest.mark.slow  # evaluation runs with the decoder

QUESTIONS = [
    {
        "id": "warranty",
        "question": "How long does the frame warranty last?",
        "expected_docs": ["warranty.txt"],
        "reference": "10 years",
    },
    {
        "id": "e04",
        "question": "Which error means the speed sensor lost the magnet?",
        "expected_docs": ["art-101"],
        "references": ["E04", "Error E04"],
    },
    {"id": "mercury", "question": "What is the boiling point of mercury in Kelvin?", "answerable": False},
    {
        "question": "How do I reset my password?",
        "expected_docs": ["faq.csv", "missing.md"],
        "expected_route": "answer",
    },
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, copy_kb_index) -> tuple[Path, Path, str]:
    from tandem import cli

    root = tmp_path_factory.mktemp("eval")
    copy_kb_index(root / "index")
    questions = root / "questions.jsonl"
    lines = [json.dumps(q) for q in QUESTIONS]
    lines.insert(2, '{"id": "broken", "question": ')  # line 3 is malformed
    questions.write_text("\n".join(lines) + "\n")
    out = root / "run"
    argv = ["tandem", "eval", str(questions), "--index", str(root / "index"), "--out", str(out), "--k", "5"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", argv)
        patch.setenv("COLUMNS", "200")
        try:
            cli.main()
        except SystemExit as exited:
            assert exited.code in (0, None)
    return out, root / "index", ""


def test_run_writes_results_metrics_and_report(run_dir, capsys) -> None:
    out, index, _ = run_dir
    assert {p.name for p in out.iterdir()} >= {"results.jsonl", "metrics.json", "report.html"}
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["warranty", "e04", "mercury", "line-5"]
    by_id = {r["id"]: r for r in rows}
    warranty = by_id["warranty"]
    assert warranty["retrieval"]["recall@5"] == 1.0 and warranty["first_relevant_rank"] == 1
    assert not warranty["abstained"] and warranty["cited_docs"] == ["warranty.txt"]
    assert (
        warranty["statements"]
        and warranty["citation_recall"] == 1.0
        and warranty["citation_precision"] == 1.0
    )
    assert warranty["contains_reference"] == 1.0 and 0 < warranty["f1"] <= 1
    assert warranty["index_version"] == 1 and warranty["timings_ms"]["total_ms"] > 0
    assert by_id["mercury"]["abstained"] and by_id["mercury"]["abstention_correct"]
    assert by_id["mercury"]["retrieval"] is None and by_id["mercury"]["f1"] is None
    password = by_id["line-5"]
    assert password["unknown_expected_docs"] == ["missing.md"] and password["route_correct"] is True
    # each answer's trace can be looked up (tandem traces show ID)
    assert TraceStore.beside(index).get(warranty["trace_id"])["question"] == warranty["question"]

    data = json.loads((out / "metrics.json").read_text())
    run, metrics = data["run"], data["metrics"]
    assert run["k"] == 5 and run["index_version"] == 1 and run["questions"] == 4
    assert set(run["versions"]) >= {"index_version", "encoder", "generator", "prompt"}
    assert run["settings"]["min_support"] == 0.5 and run["judge"]["min_support"] == 0.5
    assert run["machine"]["cpus"] and run["date"] and len(run["questions_sha256"]) == 64
    assert any("line 3: not valid JSON" in w for w in data["warnings"])
    assert any("line 5: no id" in w for w in data["warnings"])
    assert any("'missing.md' not in the index" in w for w in data["warnings"])
    assert metrics["questions"] == 4 and metrics["errors"] == 0
    assert metrics["retrieval"]["questions"] == 3 and metrics["abstention"]["n"] == 4
    assert metrics["abstention"]["tp"] == 1 and metrics["routing"]["accuracy"] == 1.0
    assert {"retrieve", "total"} <= set(metrics["latency_ms"])

    html = (out / "report.html").read_text()
    assert html.count("src='data:image/png;base64,") >= 4
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "How long does the frame warranty last?" in html and warranty["trace_id"] in html


def test_run_refuses_to_overwrite_and_reports_bad_input(run_dir, monkeypatch, capsys) -> None:
    from tandem import cli

    out, index, _ = run_dir
    questions = out.parent / "questions.jsonl"
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(
        sys, "argv", ["tandem", "eval", "run", str(questions), "--index", str(index), "--out", str(out)]
    )
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1 and "already holds a run" in capsys.readouterr().err
    missing = out.parent / "nope.jsonl"
    monkeypatch.setattr(sys, "argv", ["tandem", "eval", str(missing), "--index", str(index), "--out", "x"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1 and "nope.jsonl does not exist" in capsys.readouterr().err
