"""Index versions and rollback; feedback on a real answer, exported as evaluation cases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import DATA
from .test_cli import tandem


def _versions(index: Path) -> list[dict]:
    result = tandem("index", "versions", "--index", str(index), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_versions_and_rollback(tmp_path: Path, make_tandem) -> None:
    kb, index = tmp_path / "kb", tmp_path / "index"
    shutil.copytree(DATA / "kb", kb)
    bot = make_tandem(index)
    bot.ingest([kb])
    (kb / "zebra.md").write_text("# Zebra mode\n\nZebra mode flashes the lights in stripes.\n")
    bot.ingest([kb])
    found = _versions(index)
    assert [v["number"] for v in found] == [1, 2] and found[1]["current"] and found[1]["parent"] == 1
    assert found[1]["documents"] == found[0]["documents"] + 1

    result = tandem("index", "rollback", "1", "--index", str(index))
    assert result.returncode == 0, result.stderr
    assert [v["current"] for v in _versions(index)] == [True, False]
    assert bot.snapshot.version == 1
    assert all(p.chunk.doc_id != "zebra.md" for p in bot.search("zebra mode stripes", k=10))

    bot.ingest([kb])  # builds on version 1 and gets a new number
    newest = _versions(index)[-1]
    assert newest["number"] == 3 and newest["parent"] == 1 and newest["current"]

    bad = tandem("index", "rollback", "9", "--index", str(index))
    assert bad.returncode == 1 and "no version 9" in bad.stderr and "available: 1, 2, 3" in bad.stderr
    assert tandem("index", "rollback", "latest", "--index", str(index)).returncode == 1


def test_versions_of_a_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    result = tandem("index", "versions", "--index", str(tmp_path / "nothing"))
    assert result.returncode == 1 and "tandem ingest" in result.stderr


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory, settings, encoder, copy_kb_index):
    from tandem.pipeline import Tandem

    folder = tmp_path_factory.mktemp("feedback")
    data_dir, index = folder / "data", copy_kb_index(folder / "index")
    bot = Tandem(index, settings.model_copy(update={"data_dir": data_dir}), encoder=encoder)
    return folder, bot.ask("What does error E04 mean on the display?")


@pytest.mark.slow
def test_feedback_from_the_cli_becomes_an_eval_case(answered, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, answer = answered
    env_args = ("--index", str(folder / "index"))
    monkeypatch.setenv("TANDEM_DATA_DIR", str(folder / "data"))
    comment = "wrong error code, mail me at jo.probe@example.com"
    down = tandem("feedback", "add", answer.trace_id, "--down", "--comment", comment, *env_args)
    assert down.returncode == 0, down.stderr
    up = tandem("feedback", "add", answer.trace_id, "--up", *env_args)
    assert up.returncode == 0, up.stderr
    missing = tandem("feedback", "add", "no-such-trace", "--down", *env_args)
    assert missing.returncode == 1 and "no-such-trace" in missing.stderr

    out = folder / "cases.jsonl"
    exported = tandem("feedback", "export", "--out", str(out), *env_args)
    assert exported.returncode == 0, exported.stderr
    cases = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(cases) == 1  # only the thumbs-down
    case = cases[0]
    assert case["question"] == "What does error E04 mean on the display?"
    assert case["feedback"]["comment"] == "wrong error code, mail me at [EMAIL]"  # masked when stored
    assert case["feedback"]["trace_id"] == answer.trace_id
    assert case["feedback"]["cited_docs"] == sorted({c.doc_id for c in answer.citations})
    listed = tandem("feedback", "list", "--json", *env_args)
    assert len(json.loads(listed.stdout)) == 2
