"""The CLI as users run it: exit codes, one-line errors, JSON and TREC output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DATA


def tandem(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tandem.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )


@pytest.fixture(scope="module")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("cli") / "index"
    result = tandem("ingest", str(DATA / "kb"), "--index", str(index), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["files_added"] == 7 and report["chunks"] > 7
    return index


@pytest.mark.slow
def test_help_everywhere() -> None:
    for command in ([], ["ingest"], ["search"], ["ask"], ["demo"]):
        result = tandem(*command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout


def test_search_json(built_index: Path) -> None:
    result = tandem("search", "error E04 speed sensor", "--index", str(built_index), "--json", "-k", "2")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits[0]["doc_id"] == "art-101" and hits[0]["rank"] == 1 and len(hits) == 2


def test_batch_search_prints_a_trec_run(built_index: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"_id": "q1", "text": "brake pads squeal"}\n{"_id": "q2", "text": "E04 magnet"}\n')
    result = tandem(
        "search", "--index", str(built_index), "--queries", str(queries), "--k", "3", "--format", "trec"
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert len(lines) == 6
    assert lines[0][:4] == ["q1", "Q0", "art-102", "1"] and lines[3][:4] == ["q2", "Q0", "art-101", "1"]
    assert all(len(parts) == 6 for parts in lines)
    docs_q1 = [parts[2] for parts in lines if parts[0] == "q1"]
    assert len(set(docs_q1)) == 3, "a document appears once per query, scored by its best chunk"


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "the question is empty"), ("x" * 100_000, "100,000 characters long")],
)
def test_bad_questions_exit_1_with_one_line(built_index: Path, question: str, message: str) -> None:
    result = tandem("ask", question, "--index", str(built_index))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_index_says_how_to_fix(tmp_path: Path) -> None:
    result = tandem("search", "refund", "--index", str(tmp_path / "none"))
    assert result.returncode == 1 and "tandem ingest" in result.stderr


def test_ingest_of_nothing_usable_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(DATA / "bad", bad)
    (bad / "good-faq.csv").unlink()
    result = tandem("ingest", str(bad), str(tmp_path / "missing"), "--index", str(tmp_path / "i"))
    assert result.returncode == 1
    for name in ("corrupt.pdf", "junk.md", "empty.txt", "latin1.txt", "notes.xyz", "missing"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_with_some_bad_files_exits_zero(tmp_path: Path) -> None:
    result = tandem("ingest", str(DATA / "bad"), "--index", str(tmp_path / "i"))
    assert result.returncode == 0, result.stderr
    assert "published version 1" in result.stdout and "latin1.txt" in result.stderr


def test_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "tandem.toml"
    config.write_text('top_k = 5\nencoder_bakend = "onnx"\n')
    result = tandem("search", "x", "--config", str(config), "--index", str(tmp_path))
    assert result.returncode == 1 and "encoder_bakend" in result.stderr


def test_ask_explain_lists_the_scored_units(built_index: Path) -> None:
    result = tandem("ask", "How long does the frame warranty last?", "--index", str(built_index), "--explain")
    assert result.returncode == 0, result.stderr
    assert "Evidence units" in result.stdout and "an answer needs probability" in result.stdout
    assert "warranty.txt" in result.stdout
