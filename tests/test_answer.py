"""Real generation with the bundled SmolLM2 model and the default quote-first answers: citations and
abstentions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.answer import ABSTAIN_TEXT


@pytest.fixture(scope="module")
def index_dir(copy_kb_index) -> Path:
    return copy_kb_index()


def open_bot(index_dir: Path, settings, encoder, **overrides):
    from tandem.pipeline import Tandem

    tandem = Tandem(index_dir, settings.model_copy(update=overrides), encoder=encoder)
    return tandem


@pytest.fixture(scope="module")
def bot(index_dir: Path, settings, encoder):
    """Generates for every question (quotes only as the fallback): the decoder's path."""
    return open_bot(index_dir, settings, encoder, prefer_quotes=False)


@pytest.fixture(scope="module")
def quoting_bot(index_dir: Path, settings, encoder):
    """Without the evidence selector: the closest passage sentence when it is close enough, else
    generation (the selector's default path is tested in test_select.py)."""
    return open_bot(index_dir, settings, encoder, answer_selector=False)


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


def test_similarity_path_quotes_the_closest_sentence_without_generating(quoting_bot) -> None:
    answer = quoting_bot.ask("How long does the frame warranty last?")
    assert (answer.mode, answer.reason, answer.abstained) == ("extractive", "quoted", False)
    citation = answer.citations[0]
    assert citation.doc_id == "warranty.txt" and "10" in citation.sentence
    assert answer.text == f"{citation.sentence} [1]"
    assert citation.sentence in answer.passages[0].chunk.text  # verbatim from the cited passage
    assert "generate_ms" not in answer.timings and answer.draft == ""
    assert answer.versions["generator"] == "none (quoted)" and answer.versions["prompt"]
    assert not quoting_bot.components.loaded("generator")  # the decoder was never loaded
    assert answer.diagnostics["extractive_candidates"][0]["similarity"] >= 0.45
    # the trace says the answer was quoted, and how close the sentence was
    spans = {s["name"]: s for s in quoting_bot.traces.get(answer.trace_id)["spans"]}
    assert spans["quote"]["attributes"]["quoted"] is True
    assert spans["quote"]["attributes"]["similarity"] >= spans["quote"]["attributes"]["threshold"]
    assert "generate" not in spans


def test_similarity_path_generates_when_no_sentence_is_close_enough(index_dir, settings, encoder) -> None:
    strict = open_bot(index_dir, settings, encoder, min_extractive_similarity=0.99, answer_selector=False)
    answer = strict.ask("How long does the frame warranty last?")
    assert answer.draft and answer.timings["generate_ms"] > 0
    assert answer.reason in ("supported", "unsupported_draft")
    assert answer.mode in ("generated", "abstained")


def test_similarity_path_still_abstains_on_an_unrelated_question(quoting_bot) -> None:
    answer = quoting_bot.ask("What is the boiling point of mercury in Kelvin?")
    assert answer.abstained and answer.text == ABSTAIN_TEXT and not answer.citations
