"""The selector's second stage: a cross-encoder that reads the question and a unit together.

The first stage (features and a logistic model, `selector.py`) ranks every unit cheaply. The
`CROSS_UNITS` it ranks best are read again by the bundled encoder with a LoRA adapter, question and
unit (with its context line) in one sequence, so attention can match "minimum age" to "at least
16" where two separate sentence vectors cannot. Its logit and the first stage's are combined by a
two-weight logistic model fitted on training questions the adapter never saw.

Files (written by `scripts/train_selector_cross.py`): `data/cross_adapter/` (the LoRA adapter, merged
into the encoder, exported to int8 ONNX and cached on first use, as the router's is) and
`data/cross_head.npz` (head, combiner, threshold and training figures; plain arrays, no pickles).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from tandem.encode.classifier_head import SCALE
from tandem.errors import ModelError
from tandem.select.units import Unit

DATA_DIR = Path(str(files("tandem.select") / "data"))
ADAPTER_DIR = DATA_DIR / "cross_adapter"
HEAD_FILE = DATA_DIR / "cross_head.npz"
CROSS_UNITS = 4  # units re-read by the cross-encoder, the first stage's best (8 cost 50 ms more, no better)
MAX_TOKENS = 128  # question and unit together
MAX_QUESTION_CHARS = 300  # the question's share of the sequence; the unit gets the rest
_FIX = "reinstall Tandem, or retrain it with `python scripts/train_selector_cross.py`"


def pair_text(question: str, unit: Unit) -> str:
    """What the cross-encoder reads: the question, a separator, the unit with its context line."""
    return f"{question[:MAX_QUESTION_CHARS].strip()} [SEP] {unit.with_context()}"


@dataclass(frozen=True)
class CrossHead:
    """Head over the pooled pair vector, and the combiner with the first stage.

    P(answers) = sigmoid(combine[0] * first-stage logit + combine[1] * cross logit + combine[2]).
    """

    weight: np.ndarray  # [2, hidden]: "does not answer", "answers"
    bias: np.ndarray  # [2]
    combine: np.ndarray  # [3]
    threshold: float
    info: dict = field(default_factory=dict)

    def cross_logits(self, vectors: np.ndarray) -> np.ndarray:
        logits = (vectors * SCALE) @ self.weight.T + self.bias
        return (logits[:, 1] - logits[:, 0]).astype(np.float32)

    def combined(self, first_probability: np.ndarray, cross_logit: np.ndarray) -> np.ndarray:
        p = np.clip(first_probability, 1e-6, 1 - 1e-6)
        z = self.combine[0] * np.log(p / (1 - p)) + self.combine[1] * cross_logit + self.combine[2]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    @property
    def version(self) -> str:
        digest = hashlib.sha256()
        for array in (self.weight, self.bias, self.combine):
            digest.update(np.asarray(array, np.float32).tobytes())
        digest.update(np.float32(self.threshold).tobytes())
        digest.update(str(self.info.get("adapter_sha256", "")).encode())
        return digest.hexdigest()[:12]

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {
            "weight": self.weight.astype(np.float32),
            "bias": self.bias.astype(np.float32),
            "combine": self.combine.astype(np.float32),
            "threshold": np.float32(self.threshold),
            "info": np.str_(json.dumps(self.info, sort_keys=True)),
        }
        temporary = path.with_suffix(".tmp.npz")
        np.savez(temporary, **arrays)
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path = HEAD_FILE) -> CrossHead:
        try:
            with np.load(path, allow_pickle=False) as data:
                head = cls(
                    data["weight"],
                    data["bias"],
                    data["combine"],
                    float(data["threshold"]),
                    json.loads(str(data["info"])),
                )
        except FileNotFoundError:
            raise ModelError(f"the selector's cross-encoder head {path} is missing; {_FIX}") from None
        except Exception as exc:
            raise ModelError(
                f"the selector's cross-encoder head {path} is unreadable ({exc}); {_FIX}"
            ) from None
        if head.weight.ndim != 2 or head.weight.shape[0] != 2 or head.combine.shape != (3,):
            raise ModelError(f"the selector's cross-encoder head {path} has the wrong shape; {_FIX}")
        return head


class CrossScorer:
    """Cross logits of (question, unit) pairs: the adapted encoder, int8 ONNX, one batch per call."""

    def __init__(self, head: CrossHead, adapter: Path = ADAPTER_DIR, threads: int = 1) -> None:
        from tandem.encode.model_files import BUNDLED_ENCODER, resolve_encoder
        from tandem.encode.served import ServedEncoder

        if not (adapter / "adapter_model.safetensors").is_file():
            raise ModelError(f"the selector's cross-encoder adapter {adapter} is missing; {_FIX}")
        self.head = head
        self.encoder = ServedEncoder(
            resolve_encoder(str(head.info.get("encoder", BUNDLED_ENCODER))),
            adapter,
            threads,
            cache_prefix="selector-cross",
            max_tokens=MAX_TOKENS,
        )

    @classmethod
    def bundled(cls, threads: int = 1) -> CrossScorer:
        return cls(CrossHead.load(), ADAPTER_DIR, threads)

    @property
    def version(self) -> str:
        return self.head.version

    def logits(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """Cross logits of pair texts (`pair_text`), batched by length (little padding)."""
        if not texts:
            return np.zeros(0, np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        vectors = self.encoder.encode([texts[i] for i in order], batch_size=batch_size)
        result = np.empty(len(texts), np.float32)
        result[order] = self.head.cross_logits(vectors)
        return result
