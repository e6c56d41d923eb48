"""The Encoder contract shared by every backend, and the tokenizer it counts tokens with."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from tokenizers import Tokenizer

from tandem.encode.model_files import EncoderFiles


class Encoder(Protocol):
    """Maps texts to L2-normalised float32 vectors."""

    model_id: str
    backend: str
    dimension: int

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]: ...


class WordPieceCounter:
    """Counts tokens with the encoder's own tokenizer (no special tokens, no truncation)."""

    def __init__(self, files: EncoderFiles) -> None:
        self.tokenizer = Tokenizer.from_file(str(files.tokenizer_file))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        return [list(e.offsets) for e in encodings]


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
