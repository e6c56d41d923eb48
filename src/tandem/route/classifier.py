"""A trained label-set classifier loaded from a router version, run in onnxruntime for serving.

The LoRA adapter is merged into the base encoder, exported to ONNX and quantised to int8 once,
cached by the adapter's hash (like the base encoder's export); head, kNN and lexical run in numpy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tandem.encode.classifier_head import SCALE
from tandem.encode.model_files import EncoderFiles
from tandem.encode.served import ServedEncoder
from tandem.errors import ConfigError
from tandem.route.knn import knn_log_probs
from tandem.route.lexical import LexicalClassifier
from tandem.route.metrics import softmax
from tandem.route.train import Parts


class TrainedLabelClassifier:
    """Probabilities from the saved encoder classifier mixed with the saved lexical model."""

    def __init__(self, folder: Path, encoder_files: EncoderFiles, threads: int = 1) -> None:
        from safetensors.numpy import load_file

        description = json.loads((folder / "classifier.json").read_text())
        expected = description["encoder"]["fingerprint"]
        if expected != encoder_files.fingerprint():
            raise ConfigError(
                f"router label set {folder.name!r} was trained on encoder "
                f"{description['encoder']['model_id']} ({expected}), not {encoder_files.model_id} "
                f"({encoder_files.fingerprint()}); retrain it with `tandem route train`"
            )
        self.labels: list[str] = description["labels"]
        self.method: str = description["method"]
        self.lexical_weight = float(description["lexical_weight"])
        self.head_weight = float(description.get("head_weight", 1.0))
        self.knn_weight = float(description.get("knn_weight", 0.0))
        self.memory: np.ndarray | None = None
        if self.knn_weight and (folder / "memory.npz").is_file():
            with np.load(folder / "memory.npz", allow_pickle=False) as stored:
                self.memory = stored["vectors"].astype(np.float32)
                self.memory_labels = stored["labels"].astype(np.int64)
        self.temperature = float(description["temperature"])
        self.validation = description.get("validation", {})
        head = load_file(folder / "head.safetensors")
        self.head_matrix, self.head_bias = head["weight"].T.copy(), head["bias"]
        self.dimension = self.head_matrix.shape[0]
        lexical_file = folder / "lexical.npz"
        self.lexical = LexicalClassifier.load(lexical_file) if lexical_file.is_file() else None

        adapter = folder / "adapter"
        self.encoder = ServedEncoder(encoder_files, adapter if adapter.is_dir() else None, threads)

    def sentence_vectors(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    def encoder_parts(self, texts: list[str], batch_size: int = 64) -> tuple[np.ndarray, np.ndarray | None]:
        """Head logits and kNN log-probabilities from the fine-tuned sentence vectors."""
        parts = [
            self.sentence_vectors(texts[start : start + batch_size])
            for start in range(0, len(texts), batch_size)
        ]
        vectors = np.concatenate(parts) if parts else np.zeros((0, self.dimension), np.float32)
        logits = (vectors * SCALE) @ self.head_matrix + self.head_bias
        knn = None
        if self.memory is not None:
            knn = knn_log_probs(vectors, self.memory, self.memory_labels, len(self.labels))
        return logits, knn

    def encoder_logits(self, texts: list[str]) -> np.ndarray:
        return self.encoder_parts(texts)[0]

    def probabilities(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        logits, knn = self.encoder_parts(texts)
        lexical_logits = self.lexical.logits(texts) if self.lexical is not None else None
        scores = Parts(logits, lexical_logits, knn).combine(
            self.head_weight, self.knn_weight, self.lexical_weight, self.temperature
        )
        return softmax(scores)
