"""The trained selector's weights and what they were trained on: a self-describing artefact.

A small network over `FEATURE_NAMES` (one hidden layer, or none: logistic regression), stored as
plain arrays in an `.npz` file (no pickles), with the abstention threshold chosen on development
data, the feature names it expects and the training figures.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from tandem.errors import ModelError
from tandem.select.features import FEATURE_NAMES

MODEL_FILE = Path(str(files("tandem.select") / "data" / "selector.npz"))
_FIX = "reinstall Tandem, or retrain it with `python scripts/train_selector.py`"


@dataclass(frozen=True)
class SelectorModel:
    """Weights of `probability(features)`; `threshold`: below it no unit answers the question."""

    layers: list[tuple[np.ndarray, np.ndarray]]  # (weight [in, out], bias [out]); ReLU between
    threshold: float
    feature_names: tuple[str, ...] = FEATURE_NAMES
    info: dict = field(default_factory=dict)  # data sources, counts, figures, encoder id

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(the unit answers the question) for each row of `features`."""
        x = np.asarray(features, dtype=np.float32)
        for i, (weight, bias) in enumerate(self.layers):
            x = x @ weight + bias
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        return 1.0 / (1.0 + np.exp(-np.clip(x[:, 0], -50.0, 50.0)))

    @property
    def version(self) -> str:
        """A short hash of the weights and threshold: recorded in manifests and traces."""
        digest = hashlib.sha256()
        for weight, bias in self.layers:
            digest.update(weight.tobytes())
            digest.update(bias.tobytes())
        digest.update(np.float32(self.threshold).tobytes())
        return f"selector-{digest.hexdigest()[:12]}"

    def save(self, path: Path) -> None:
        # Any values: mypy checks a **dict's values against every keyword savez takes, allow_pickle included
        arrays: dict[str, Any] = {f"w{i}": w.astype(np.float32) for i, (w, _) in enumerate(self.layers)}
        arrays.update({f"b{i}": b.astype(np.float32) for i, (_, b) in enumerate(self.layers)})
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npz")
        np.savez(
            temporary,
            threshold=np.float32(self.threshold),
            feature_names=np.array(self.feature_names, dtype=np.str_),
            info=np.str_(json.dumps(self.info, sort_keys=True)),
            **arrays,
        )
        temporary.replace(path)  # never a half-written model file

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> SelectorModel:
        """Read a model file, with an error that names the file and the fix when it is unusable."""
        try:
            with np.load(path, allow_pickle=False) as data:
                count = sum(1 for key in data.files if key.startswith("w"))
                layers = [(data[f"w{i}"], data[f"b{i}"]) for i in range(count)]
                names = tuple(str(n) for n in data["feature_names"])
                threshold = float(data["threshold"])
                info = json.loads(str(data["info"]))
        except FileNotFoundError:
            raise ModelError(f"the evidence selector's model file {path} is missing; {_FIX}") from None
        except Exception as exc:
            raise ModelError(
                f"the evidence selector's model file {path} is unreadable ({exc}); {_FIX}"
            ) from None
        if names != FEATURE_NAMES or not layers or layers[0][0].shape[0] != len(names):
            raise ModelError(f"the evidence selector's model file {path} was made for other features; {_FIX}")
        return cls(layers, threshold, names, info)
