"""An encoder with a LoRA adapter, exactly as it is served: adapter merged, int8 ONNX.

Used by trained routers (serving, and training's kNN memory and calibration, so the weights and
temperature are chosen on the vectors serving produces) and by the injection guard's classifier.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tandem.encode.classifier_head import MAX_TOKENS
from tandem.encode.model_files import EncoderFiles
from tandem.encode.onnx_export import (
    INT8_FILE,
    cache_root,
    export_transformer,
    onnx_model_path,
    quantise_int8,
)


def merged_export(adapter: Path, encoder_files: EncoderFiles, cache_prefix: str) -> Path:
    """Int8 ONNX file of base encoder + adapter: exported on first use (torch and peft, about half a
    minute), then cached under `cache_prefix` and the adapter's hash.

    Dynamic int8 served Banking77 at the same or better held-out accuracy than fp32 (0.941 vs 0.936)
    in about half the time (bench/route.py, docs/benchmarks.md).
    """
    digest = hashlib.sha256((adapter / "adapter_model.safetensors").read_bytes()).hexdigest()[:16]
    folder = cache_root() / "onnx" / f"{cache_prefix}-{encoder_files.fingerprint()}-{digest}"
    fp32, int8 = folder / "model.onnx", folder / INT8_FILE
    if not int8.is_file():
        if not fp32.is_file():
            from tandem.encode.classifier_head import EncoderClassifier

            model = EncoderClassifier(encoder_files, 1, attention="eager")  # the head is not exported
            model.load_adapter(adapter)
            export_transformer(model.encoder, fp32)
        quantise_int8(fp32, int8)
    return int8


class ServedEncoder:
    """Mean-pooled, normalised sentence vectors (what `EncoderClassifier.embed` gives in training)
    from the base encoder with `adapter` merged in, or from the plain int8 base encoder."""

    def __init__(
        self,
        encoder_files: EncoderFiles,
        adapter: Path | None,
        threads: int = 1,
        cache_prefix: str = "router",
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        from tokenizers import Tokenizer

        from tandem.encode.onnx_backend import onnx_session

        model_path = (
            merged_export(adapter, encoder_files, cache_prefix)
            if adapter is not None
            else onnx_model_path(encoder_files, quantised=True)
        )
        self.model_id = encoder_files.model_id
        self.session = onnx_session(model_path, threads)
        self.tokenizer = Tokenizer.from_file(str(encoder_files.tokenizer_file))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Vectors of `texts`, `batch_size` per call (int8 vectors shift slightly with the batch)."""
        from tandem.encode.base import normalise
        from tandem.encode.onnx_backend import mean_pool

        parts = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            (tokens,) = self.session.run(None, feeds)
            parts.append(normalise(mean_pool(tokens, mask)))
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
