"""onnxruntime backend (fp32 or dynamic int8), pooling and normalisation in numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from tandem.encode.base import WordPieceCounter, normalise
from tandem.encode.model_files import EncoderFiles
from tandem.encode.onnx_export import onnx_model_path


def onnx_session(path: Path, threads: int):
    """A CPU inference session with all graph optimisations on `threads` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average of the token vectors where the attention mask is 1."""
    weights = mask[..., None].astype(np.float32)
    return (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


class OnnxEncoder(WordPieceCounter):
    """Runs the exported transformer in onnxruntime; `quantised=True` uses the int8 model."""

    def __init__(self, files: EncoderFiles, threads: int = 1, quantised: bool = False) -> None:
        super().__init__(files)
        self.session = onnx_session(onnx_model_path(files, quantised), threads)
        self.batch_tokenizer = Tokenizer.from_file(str(files.tokenizer_file))
        self.batch_tokenizer.enable_truncation(files.max_seq_length)
        self.batch_tokenizer.enable_padding()
        self.pooling = files.pooling
        self.model_id = files.model_id
        self.backend = "onnx-int8" if quantised else "onnx"
        self.dimension = int(self.session.get_outputs()[0].shape[-1] or self._probe_dimension())

    def _probe_dimension(self) -> int:
        return int(self._encode_batch(["dimension probe"]).shape[1])

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.batch_tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (tokens,) = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        if self.pooling == "cls":
            return tokens[:, 0]
        return mean_pool(tokens, mask)

    def encode_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Each text's vector and, from the same forward pass, a vector per character span of it:
        the mean of the span's token vectors, which attended to the whole text ("late chunking",
        Günther et al. 2024). A span cut off by truncation gets None."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        order = np.argsort([len(t) for t in texts])
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        pooled: list[list[np.ndarray | None]] = [[] for _ in texts]
        for i in range(0, len(texts), batch_size):
            picked = order[i : i + batch_size]
            encodings = self.batch_tokenizer.encode_batch([texts[j] for j in picked])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            (tokens,) = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )
            out[picked] = tokens[:, 0] if self.pooling == "cls" else mean_pool(tokens, mask)
            for row, (j, encoding) in enumerate(zip(picked, encodings, strict=True)):
                offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
                real = (np.array(encoding.special_tokens_mask) == 0) & (mask[row] == 1)
                for start, end in spans[j]:
                    inside = real & (offsets[:, 0] < end) & (offsets[:, 1] > start)
                    pooled[j].append(tokens[row][inside].mean(axis=0) if inside.any() else None)
        return normalise(out), [
            [None if v is None else normalise(v[None, :])[0] for v in vectors] for vectors in pooled
        ]

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            picked = order[i : i + batch_size]
            out[picked] = self._encode_batch([texts[j] for j in picked])
        return normalise(out)
