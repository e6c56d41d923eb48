"""The sentence encoder with a classification head, for training (LoRA) and for inference.

Logits are a linear layer over the mean-pooled, L2-normalised sentence vector times a fixed scale,
so the head sees the same geometry the encoder was trained for.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, cast

import numpy as np

from tandem.encode.model_files import EncoderFiles

SCALE = 20.0
MAX_TOKENS = 64


class EncoderClassifier:
    """Tokenizer + transformer (optionally with a merged LoRA adapter) + linear head, on torch."""

    def __init__(
        self,
        files: EncoderFiles,
        n_labels: int,
        threads: int = 1,
        attention: str | None = None,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI
        warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
        torch.set_num_threads(threads)
        self.torch = torch
        self.files = files
        self.max_tokens = max_tokens  # longer texts are truncated (a question-unit pair needs more)
        self.tokenizer = AutoTokenizer.from_pretrained(str(files.path), local_files_only=True)
        extra: dict[str, Any] = {"attn_implementation": attention} if attention else {}
        self.encoder: Any = AutoModel.from_pretrained(str(files.path), local_files_only=True, **extra)
        self.encoder.eval()
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, n_labels)

    @property
    def layer_count(self) -> int:
        return int(self.encoder.config.num_hidden_layers)

    def add_lora(self, rank: int, alpha: float, dropout: float = 0.05, first_layer: int = 0) -> None:
        """Wrap the encoder with trainable LoRA adapters on attention and feed-forward layers, from
        layer `first_layer` up (the layers below stay frozen)."""
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(
            r=rank,
            lora_alpha=cast(int, alpha),  # peft annotates int but only divides by it; a float works
            lora_dropout=dropout,
            target_modules=["query", "key", "value", "dense"],
            layers_to_transform=list(range(first_layer, self.layer_count)),
            layers_pattern="layer",
        )
        self.encoder = get_peft_model(self.encoder, config)

    @property
    def has_adapter(self) -> bool:
        return hasattr(self.encoder, "peft_config")

    def save_adapter(self, folder: Path) -> None:
        self.encoder.save_pretrained(str(folder))

    def load_adapter(self, folder: Path) -> None:
        """Apply a saved adapter and fold it into the weights (inference runs at base speed)."""
        from peft import PeftModel

        self.encoder = PeftModel.from_pretrained(self.encoder, str(folder)).merge_and_unload()
        self.encoder.eval()

    def embed(self, texts: list[str]) -> Any:
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self.torch.nn.functional.normalize(pooled, dim=-1)

    def logits_tensor(self, texts: list[str]) -> Any:
        return self.head(self.embed(texts) * SCALE)

    def logits(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        """Head logits of `texts`, in batches of similar length (little padding), in input order."""
        result = np.zeros((len(texts), self.head.out_features), np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        with self.torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                result[rows] = self.logits_tensor([texts[i] for i in rows]).float().numpy()
        return result

    def head_logits(self, vectors: np.ndarray) -> np.ndarray:
        """The head applied to sentence vectors computed elsewhere (the served ONNX model)."""
        weight = self.head.weight.detach().float().numpy()
        bias = self.head.bias.detach().float().numpy()
        return (vectors * SCALE) @ weight.T + bias

    def save_head(self, path: Path) -> None:
        from safetensors.torch import save_file

        save_file({"weight": self.head.weight.detach().contiguous(), "bias": self.head.bias.detach()}, path)

    def load_head(self, path: Path) -> None:
        from safetensors.torch import load_file

        tensors = load_file(path)
        with self.torch.no_grad():
            self.head.weight.copy_(tensors["weight"])
            self.head.bias.copy_(tensors["bias"])
