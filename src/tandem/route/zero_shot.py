"""Zero-shot classification: how close a message is to each label's description and examples."""

from __future__ import annotations

import numpy as np

from tandem.encode import Encoder
from tandem.route.config import LabelSet
from tandem.route.metrics import softmax

# Softmax temperature over cosine similarities (a label set may set its own in the router config).
TEMPERATURE = 0.05


class ZeroShotClassifier:
    """A label's score is its best cosine over its prompts (description, then examples)."""

    method = "zero-shot"

    def __init__(self, encoder: Encoder, label_set: LabelSet, temperature: float = TEMPERATURE) -> None:
        self.encoder = encoder
        self.labels = label_set.names
        self.temperature = temperature
        prompts: list[str] = []
        self._owner: list[int] = []
        for index, label in enumerate(label_set.labels):
            for prompt in label.prompts():
                prompts.append(prompt)
                self._owner.append(index)
        self._prompt_vectors = encoder.encode(prompts)
        self._owner_array = np.array(self._owner)

    def probabilities(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Label probabilities per text; pass the texts' encoder vectors when already computed."""
        if vectors is None:
            vectors = self.encoder.encode(texts)
        similarity = vectors @ self._prompt_vectors.T
        per_label = np.full((len(vectors), len(self.labels)), -1.0, dtype=np.float32)
        for index in range(len(self.labels)):
            per_label[:, index] = similarity[:, self._owner_array == index].max(axis=1)
        return softmax(per_label / self.temperature)
