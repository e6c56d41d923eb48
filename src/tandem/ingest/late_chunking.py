"""Sentence vectors from the chunk's own forward pass ("late chunking", Günther et al. 2024).

Instead of a second encoder pass over every sentence (with the chunk's context line prefixed), each
sentence's vector is the mean of its token vectors in the chunk's pass, where every token attended
to the whole chunk. The chunk vectors are the same as before; the sentence pass, a third of an
ingest's encoding work, is gone. A sentence cut off by the encoder's token limit is encoded alone,
as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

import numpy as np

from tandem.documents.models import Chunk
from tandem.documents.text_utils import sentence_spans

K = TypeVar("K")


class SpanEncoder(Protocol):
    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...

    def encode_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]: ...


def can_late_chunk(encoder: object) -> bool:
    """Whether `encoder` returns span vectors from one pass (the ONNX backends do)."""
    return callable(getattr(encoder, "encode_spans", None))


def sentence_offsets(chunk: Chunk) -> list[tuple[int, int]]:
    """The chunk's sentences as character spans of its indexed text (context line, then the text),
    one per sentence the ingest embeds (the whole text when it has none)."""
    shift = len(chunk.indexed_text()) - len(chunk.text)
    spans = sentence_spans(chunk.text) or [(0, len(chunk.text))]
    return [(start + shift, end + shift) for start, end in spans]


def late_vectors(
    encoder: SpanEncoder, chunks: list[Chunk], sentence_texts: list[list[str]], batch_size: int
) -> np.ndarray:
    """The chunks' vectors, then every chunk's sentence vectors in order: the layout of
    `encoder.encode(chunk texts + sentence texts)`, from one pass over the chunks."""
    texts = [c.indexed_text() for c in chunks]
    offsets = [sentence_offsets(c) for c in chunks]
    if any(len(o) != len(s) for o, s in zip(offsets, sentence_texts, strict=True)):
        raise ValueError("sentence spans and sentence texts disagree")
    vectors, per_chunk = encoder.encode_spans(texts, offsets, batch_size)
    pooled = [v for group in per_chunk for v in group]
    flat_texts = [t for group in sentence_texts for t in group]
    missing = [i for i, v in enumerate(pooled) if v is None]
    alone_texts = [flat_texts[i] for i in missing]
    encoded: np.ndarray | list = encoder.encode(alone_texts, batch_size) if missing else []
    alone = dict(zip(missing, encoded, strict=True))
    sentences = [alone[i] if v is None else v for i, v in enumerate(pooled)]  # past the token limit: alone
    stacked = np.stack(sentences) if sentences else np.zeros((0, vectors.shape[1]), np.float32)
    return np.concatenate([vectors, stacked.astype(np.float32)])


def encode_late(
    encoder: SpanEncoder,
    batches: Iterable[tuple[tuple[K, list[list[str]]], list[str]]],
    chunks_of: Callable[[K], list[Chunk]],
    batch_size: int,
) -> Iterator[tuple[tuple[K, list[list[str]]], np.ndarray]]:
    """What `DocumentProcessor.encode` yields for the ingest's batches ((group, sentence texts),
    texts), with the sentence vectors late-chunked: the texts are not encoded one by one."""
    for key, _texts in batches:
        group, sentence_texts = key
        yield key, late_vectors(encoder, chunks_of(group), sentence_texts, batch_size)
