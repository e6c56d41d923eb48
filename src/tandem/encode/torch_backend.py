"""sentence-transformers on torch: the reference backend (fp32)."""

from __future__ import annotations

import numpy as np

from tandem.encode.base import WordPieceCounter, normalise
from tandem.encode.model_files import EncoderFiles


class TorchEncoder(WordPieceCounter):
    """Loads the model folder with sentence-transformers on the CPU."""

    backend = "torch"

    def __init__(self, files: EncoderFiles, threads: int = 1) -> None:
        super().__init__(files)
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(files.path), device="cpu", local_files_only=True)
        self.model.max_seq_length = files.max_seq_length
        self.model_id = files.model_id
        dimension = self.model.get_embedding_dimension()
        assert dimension is not None  # None only for a model without a pooling or dense module
        self.dimension = int(dimension)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return normalise(np.asarray(vectors, dtype=np.float32))
