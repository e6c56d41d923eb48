"""Late-chunked sentence vectors against the separate sentence pass they replace (real encoder).

Stated tolerance: chunk vectors agree with a separate encode to cosine >= 0.98 (int8 activations
are quantised per batch, so batch composition moves them slightly); each late sentence vector is
nearer its own separately encoded sentence than any other sentence of its chunk for at least 70%
of sentences, and has cosine >= 0.5 with it; a sentence past the encoder's token limit is encoded
alone by the separate pass, as before. Retrieval with late vectors on all of SQuAD-dev: `bench/retrieval.py`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tandem.documents.chunking import Chunker
from tandem.documents.models import Chunk
from tandem.documents.text_utils import split_sentences
from tandem.ingest.late_chunking import late_vectors, sentence_offsets

from .conftest import DATA


def _chunks(encoder) -> list[Chunk]:
    from tandem.documents.loaders import discover, load_documents

    chunker = Chunker(encoder, 220, 32)
    chunks = []
    for path, doc_id in discover(DATA / "kb"):
        try:
            documents = load_documents(path, doc_id)
        except Exception:
            continue
        for document in documents:
            chunks += chunker.chunk(document)
    return chunks


def _sentence_texts(chunk: Chunk) -> list[str]:
    context = chunk.context_line
    return [f"{context}\n{s}" if context else s for s in split_sentences(chunk.text) or [chunk.text]]


def test_sentence_offsets_point_at_the_sentences_in_the_indexed_text(encoder) -> None:
    for chunk in _chunks(encoder):
        indexed = chunk.indexed_text()
        sentences = split_sentences(chunk.text) or [chunk.text]
        assert [indexed[s:e] for s, e in sentence_offsets(chunk)] == sentences


def test_late_vectors_agree_with_the_separate_pass_within_the_stated_tolerance(encoder) -> None:
    chunks = _chunks(encoder)
    texts = [_sentence_texts(c) for c in chunks]
    late = late_vectors(encoder, chunks, texts, 32)
    flat = [t for group in texts for t in group]
    separate = encoder.encode([c.indexed_text() for c in chunks] + flat, 32)
    n = len(chunks)
    assert late.shape == separate.shape
    assert float((late[:n] * separate[:n]).sum(axis=1).min()) >= 0.98
    nearest_own, offset = [], n
    for group in texts:
        own = late[offset : offset + len(group)] @ separate[offset : offset + len(group)].T
        nearest_own += [int(np.argmax(row)) == i for i, row in enumerate(own)]
        assert float(np.diag(own).min()) >= 0.5
        offset += len(group)
    assert np.mean(nearest_own) >= 0.7, np.mean(nearest_own)  # 0.77 measured on this kb


def test_a_sentence_past_the_token_limit_is_encoded_alone(encoder, tmp_path: Path) -> None:
    long = " ".join(f"Filler sentence number {i} about the frame and the brakes." for i in range(60))
    text = long + " The last sentence names the warranty."
    chunk = Chunk("long#0", "long", str(tmp_path), "Long", text, (), None, 0, len(text), 700)
    texts = [_sentence_texts(chunk)]
    late = late_vectors(encoder, [chunk], texts, 32)
    last = encoder.encode([texts[0][-1]])[0]
    assert (
        float(late[-1] @ last) > 0.98
    )  # beyond 256 tokens: the separate pass (batched with the others cut off)


def test_an_index_without_late_chunking_keeps_the_manifest_older_versions_read() -> None:
    from tandem.index.manifest import ChunkingInfo

    plain = ChunkingInfo(max_tokens=220, overlap=32, sentence_vectors=True)
    assert "late_sentences" not in plain.model_dump_json()  # a rollback can still open the index
    late = ChunkingInfo(max_tokens=220, overlap=32, sentence_vectors=True, late_sentences=True)
    assert ChunkingInfo.model_validate_json(late.model_dump_json()) == late != plain
