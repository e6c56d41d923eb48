"""The README's main job: `tandem demo` ingests the demo knowledge base and answers with a source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tandem.evaluate.demo_kb import demo_kb_root, demo_questions

DOC_SUFFIXES = {".md", ".html", ".pdf", ".csv"}


def test_demo_kb_meets_its_contract() -> None:
    docs = demo_kb_root() / "docs"
    files = [p for p in docs.rglob("*") if p.is_file()]
    assert len(files) >= 30 and {p.suffix for p in files} == DOC_SUFFIXES
    questions = demo_questions()
    assert len(questions) >= 60
    assert sum(not q["answerable"] for q in questions) >= 10
    for q in questions:
        for doc in q["expected_docs"]:
            assert (docs / doc).is_file(), f"{q['id']} expects missing {doc}"


@pytest.mark.slow
def test_demo_answers_a_question_with_a_cited_source(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tandem.cli", "demo", "--no-chat"],
        capture_output=True,
        text=True,
        env={**os.environ, "TANDEM_CACHE_DIR": str(tmp_path), "COLUMNS": "200"},
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "published version 1" in result.stdout
    assert "Sources" in result.stdout and "[1]" in result.stdout
    assert "policies/returns.md" in result.stdout or "faq.csv" in result.stdout
    (index,) = tmp_path.glob("demo-index-*")
    manifest = json.loads((index / "versions" / "v000001" / "manifest.json").read_text())
    assert manifest["documents"] >= 30
