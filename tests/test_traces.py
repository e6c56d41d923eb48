"""Every answer leaves a trace: stages with consistent timings, passages, citations, route, guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tandem.errors import InputError
from tandem.trace.store import TraceStore

from .conftest import REPO
from .test_cli import tandem


@pytest.fixture(scope="module")
def traced(kb_tandem):
    bot = kb_tandem(router=REPO / "examples/router/router.toml")
    return bot, bot.ask("What does error E04 mean on the display?")


def test_a_real_answer_is_traced(traced) -> None:
    bot, answer = traced
    assert answer.trace_id
    trace = bot.traces.get(answer.trace_id)
    names = [span["name"] for span in trace["spans"]]
    for stage in ("guard", "route", "retrieve", "dense", "lexical", "fusion"):
        assert stage in names
    retrieved = {p["chunk_id"] for p in trace["retrieved"]}
    assert {c["chunk_id"] for c in trace["citations"]} <= retrieved
    assert trace["versions"]["index_version"] == 1 and trace["versions"]["prompt"]
    assert trace["route"]["action"] == answer.route["action"]
    for span in trace["spans"]:
        assert 0 <= span["start_ms"] <= span["end_ms"] <= trace["total_ms"] + 1
    retrieve = next(s for s in trace["spans"] if s["name"] == "retrieve")
    children = [s for s in trace["spans"] if s["parent"] == "retrieve"]
    inside = sum(s["end_ms"] - s["start_ms"] for s in children)
    assert inside <= retrieve["end_ms"] - retrieve["start_ms"] + 0.5
    if answer.mode == "generated":
        assert "prefill" in names and "decode" in names and trace["tokens"]["prompt"] > 0


def test_traced_question_has_personal_data_masked(traced) -> None:
    bot, _ = traced
    answer = bot.ask("My email is jo@example.com - what does error E04 mean?")
    trace = bot.traces.get(answer.trace_id)
    assert "jo@example.com" not in json.dumps(trace) and "[EMAIL]" in trace["question"]


@pytest.mark.slow
def test_traces_list_and_show_from_the_cli(traced) -> None:
    bot, answer = traced
    index = str(bot.settings.index_dir)
    listed = tandem("traces", "list", "--index", index, "--json")
    assert listed.returncode == 0 and answer.trace_id in {row["id"] for row in json.loads(listed.stdout)}
    shown = tandem("traces", "show", answer.trace_id, "--index", index)
    assert shown.returncode == 0 and "Retrieved" in shown.stdout and "retrieve" in shown.stdout
    missing = tandem("traces", "show", "nope", "--index", index)
    assert missing.returncode == 1 and "no trace 'nope'" in missing.stderr


def test_store_filters_and_prunes(tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "t.sqlite")
    body = {"question": "q", "answer": "a", "mode": "generated", "versions": {}, "total_ms": 5.0, "spans": []}
    old = store.add({**body, "created": 1.0, "route": {"action": "handoff:safety"}})
    new = store.add({**body})
    assert [row["id"] for row in store.list(route="handoff")] == [old]
    assert [row["id"] for row in store.list(since=100.0)] == [new]
    assert store.prune(older_than_days=1) == 1
    with pytest.raises(InputError, match="no trace"):
        store.get(old)
