"""Sentence encoders: one contract, torch and onnxruntime backends."""

from __future__ import annotations

from tandem.encode.base import Encoder, WordPieceCounter
from tandem.encode.model_files import EncoderFiles, resolve_encoder
from tandem.errors import ConfigError

BACKENDS = ("torch", "onnx", "onnx-int8")


def load_encoder(name: str, backend: str, threads: int) -> Encoder:
    """Load encoder `name` (bundled id or folder) with `backend` on `threads` CPU threads."""
    files = resolve_encoder(name)
    if backend == "torch":
        from tandem.encode.torch_backend import TorchEncoder

        return TorchEncoder(files, threads)
    if backend in ("onnx", "onnx-int8"):
        from tandem.encode.onnx_backend import OnnxEncoder

        return OnnxEncoder(files, threads, quantised=backend == "onnx-int8")
    raise ConfigError(f"encoder_backend must be one of {', '.join(BACKENDS)}. Currently it is {backend!r}.")


__all__ = [
    "BACKENDS",
    "Encoder",
    "EncoderFiles",
    "WordPieceCounter",
    "load_encoder",
    "resolve_encoder",
]
