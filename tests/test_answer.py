"""Real generation with the bundled SmolLM2 model: cited answers and abstentions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.answer import ABSTAIN_TEXT


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, settings, encoder):
    from tandem.pipeline import Tandem

    from .conftest import DATA

    tandem = Tandem(tmp_path_factory.mktemp("answer") / "index", settings)
    tandem._encoder = encoder
    tandem.ingest([DATA / "kb"])
    return tandem


def test_answer_cites_the_passage_that_backs_it(bot) -> None:
    answer = bot.ask("How long does the frame warranty last?")
    assert not answer.abstained, answer.to_dict()
    assert answer.citations and answer.citations[0].doc_id == "warranty.txt"
    assert "10" in answer.text
    assert "[1]" in answer.text
    citation = answer.citations[0]
    source_text = Path(citation.source).read_text()
    assert citation.sentence and citation.end > citation.start
    assert source_text[citation.start : citation.end] in (p.chunk.text for p in answer.passages)
    chunk_text = source_text[citation.start : citation.end]
    assert citation.evidence and citation.evidence in chunk_text  # the backing sentence, verbatim
    assert "10" in citation.evidence
    assert answer.versions["prompt"] and answer.versions["index_version"] == 1
    assert answer.timings["generate_ms"] > 0 and answer.diagnostics["completion_tokens"] > 0


def test_streaming_yields_verified_sentences_then_the_answer(bot) -> None:
    events = list(bot.ask_stream("Which error means the speed sensor lost the magnet?"))
    assert events[-1].kind == "answer" and events[-1].answer is not None
    sentences = [e.text for e in events if e.kind == "sentence"]
    assert sentences and " ".join(sentences) == events[-1].answer.text
    assert events[-1].answer.citations[0].doc_id == "art-101"


def test_unrelated_question_abstains(bot) -> None:
    answer = bot.ask("What is the boiling point of mercury in Kelvin?")
    assert answer.abstained and answer.text == ABSTAIN_TEXT and not answer.citations


def test_answer_json_shape(bot) -> None:
    data = bot.ask("Can I pay in instalments?").to_dict()
    assert set(data) >= {"answer", "citations", "passages", "abstained", "timings_ms", "versions"}
    if not data["abstained"]:
        assert data["citations"][0]["doc_id"] == "faq.csv"
