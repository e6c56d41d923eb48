"""Unit vectors stored with the index at ingest (real encoder, real index), and read by the selector."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tandem.config import Settings
from tandem.encode import load_encoder
from tandem.index.layout import IndexLayout
from tandem.index.snapshot import IndexSnapshot
from tandem.index.unit_vectors import UNITS_FILE, StoredUnitVectors, UnitVectorWriter, encoder_label
from tandem.select.unit_embedding import embed_alone, unit_vectors, usable
from tandem.select.unit_store import unit_texts


class CountingEncoder:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, encoder) -> None:
        self.inner = encoder
        self.model_id, self.backend, self.dimension = encoder.model_id, encoder.backend, encoder.dimension
        self.texts = 0

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.encode(texts, batch_size)

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return self.inner.token_spans(texts)


def _passages(index: Path) -> list[tuple[str, str]]:
    """(text, context line) of every chunk of the index's current version."""
    snapshot = IndexSnapshot(IndexLayout(index).current_folder())
    try:
        return [(c.text, c.context_line) for c in snapshot.chunks(list(range(snapshot.size)))]
    finally:
        snapshot.close()


def test_ingest_stores_the_vector_of_every_unit_text_as_a_question_would_embed_it(
    kb_index: Path, encoder, settings: Settings
) -> None:
    folder = IndexLayout(kb_index).current_folder()
    stored = StoredUnitVectors.open(folder)
    assert stored is not None and usable(stored, encoder) is stored
    texts = unit_texts(_passages(kb_index))
    found = stored.get(texts)
    assert len(texts) > 30 and len(found) == len(texts)
    # The ingest encoder runs 2 threads, the question encoder 1: a text embedded alone gets the same
    # vector either way, so the stored vector is the one a question would compute.
    sample = texts[::25]
    np.testing.assert_array_equal(
        np.stack([found[i] for i in range(0, len(texts), 25)]), embed_alone(encoder, sample)
    )
    two = load_encoder(settings.encoder, settings.encoder_backend, 2)
    np.testing.assert_array_equal(embed_alone(two, sample), embed_alone(encoder, sample))
    stored.close()


def test_a_question_on_an_index_with_unit_vectors_embeds_no_unit(
    copy_kb_index: Callable[..., Path], settings: Settings, encoder
) -> None:
    from tandem.pipeline import Tandem

    question = "How long is the warranty on the frame?"
    answers = []
    for keep_units in (True, False):
        index = copy_kb_index()
        if not keep_units:
            (IndexLayout(index).current_folder() / UNITS_FILE).unlink()
        bot = Tandem(index, settings, encoder=encoder)
        counting = CountingEncoder(encoder)
        bot.components.selector.units.encoder = counting
        result = bot.ask(question)
        answers.append((result.text, result.abstained, result.diagnostics["units"]))
        if keep_units:
            assert counting.texts == 0
        else:
            assert counting.texts > 10  # every unit of the passages read, embedded now
    assert not answers[0][1] and answers[0][2]  # answered, from scored units
    assert answers[0] == answers[1]  # stored or embedded now, the same vectors and the same answer


def test_reingest_copies_the_vectors_of_unchanged_texts(make_tandem, kb: Path) -> None:
    bot = make_tandem()
    first = bot.ingest([kb])
    assert first.unit_vectors_embedded > 30
    changed = next(p for p in sorted(kb.rglob("*.md")))
    changed.write_text(changed.read_text() + "\n\nThe loaner bike must be returned within 14 days.\n")
    second = bot.ingest([kb])
    assert second.published and 0 < second.unit_vectors_embedded < 10
    stored = StoredUnitVectors.open(IndexLayout(bot.settings.index_dir).current_folder())
    assert stored is not None
    texts = unit_texts(_passages(bot.settings.index_dir))
    assert len(stored.get(texts)) == len(texts)
    stored.close()


def test_an_index_built_without_unit_vectors_gets_them_on_its_next_ingest(
    make_tandem, kb: Path, tmp_path: Path
) -> None:
    index = tmp_path / "plain"
    without = make_tandem(index, unit_vectors=False).ingest([kb])
    assert without.published and without.unit_vectors_embedded == 0
    assert not (IndexLayout(index).current_folder() / UNITS_FILE).exists()
    again = make_tandem(index).ingest([kb])  # nothing changed but the setting
    assert again.published and again.version == without.version + 1 and again.unit_vectors_embedded > 30
    assert (IndexLayout(index).current_folder() / UNITS_FILE).is_file()
    assert not make_tandem(index).ingest([kb]).published  # and then it is up to date


def test_vectors_made_by_another_encoder_or_unreadable_are_not_used(tmp_path: Path, encoder) -> None:
    texts = ["Returns are accepted within 30 days.", "Returns"]
    writer = UnitVectorWriter(tmp_path, encoder_label(encoder.model_id, "torch"))
    writer.add(texts, np.ones((2, encoder.dimension), np.float32))
    writer.finish()
    stored = StoredUnitVectors.open(tmp_path)
    assert stored is not None and len(stored.get(texts)) == 2
    assert usable(stored, encoder) is None  # made by the torch backend: this encoder embeds them
    np.testing.assert_array_equal(unit_vectors(encoder, texts, stored), embed_alone(encoder, texts))
    stored.close()
    (tmp_path / UNITS_FILE).write_bytes(b"not a database")
    assert StoredUnitVectors.open(tmp_path) is None
    assert StoredUnitVectors.open(tmp_path / "missing") is None


def test_a_failed_write_leaves_no_units_file(tmp_path: Path, encoder) -> None:
    from tandem.select.unit_store import store_unit_vectors

    class Failing(CountingEncoder):
        def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
            raise RuntimeError("encoder died")

    with pytest.raises(RuntimeError, match="encoder died"):
        store_unit_vectors(
            tmp_path, None, [("Returns are accepted within 30 days.", "Returns")], Failing(encoder)
        )
    assert not (tmp_path / UNITS_FILE).exists()


def test_a_file_damaged_after_ingest_falls_back_to_embedding(tmp_path: Path, encoder) -> None:
    texts = [f"Unit {i}: the frame is covered for 10 years." for i in range(3000)]
    writer = UnitVectorWriter(tmp_path, encoder_label(encoder.model_id, encoder.backend))
    writer.add(texts, np.ones((len(texts), encoder.dimension), np.float32))
    writer.finish()
    path = tmp_path / UNITS_FILE
    with path.open("r+b") as handle:  # garbage over every page but the first two
        for offset in range(8192, path.stat().st_size, 4096):
            handle.seek(offset)
            handle.write(b"\xff" * 64)
    stored = StoredUnitVectors.open(tmp_path)
    assert stored is not None and stored.get(texts) == {}
    np.testing.assert_array_equal(unit_vectors(encoder, texts[:2], stored), embed_alone(encoder, texts[:2]))
    stored.close()
