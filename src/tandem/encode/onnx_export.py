"""One-time export of a sentence-transformers model to ONNX (fp32) and its int8 quantisation.

Exports are cached under the Tandem cache folder, keyed by the model's fingerprint, and written
atomically so an interrupted export never leaves a half-written model behind.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

from tandem.encode.model_files import EncoderFiles
from tandem.errors import ModelError


def cache_root() -> Path:
    root = os.environ.get("TANDEM_CACHE_DIR") or Path.home() / ".cache" / "tandem"
    return Path(root)


def _atomic_target(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(handle)
    return Path(temporary)


def export_fp32(files: EncoderFiles, target: Path) -> Path:
    """Trace the transformer with torch.onnx (token embeddings out; pooling happens in numpy)."""
    try:
        from transformers import AutoModel
    except ImportError:
        raise ModelError(
            "exporting the encoder to ONNX needs torch and transformers; install them or use "
            "TANDEM_ENCODER_BACKEND=torch"
        ) from None
    model = AutoModel.from_pretrained(str(files.path), attn_implementation="eager")
    return export_transformer(model, target)


def export_transformer(model, target: Path) -> Path:
    """Export a loaded transformers encoder (e.g. with a merged LoRA adapter) to `target`."""
    import torch

    class _TokenEmbeddings(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            output = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return output.last_hidden_state

    wrapper = _TokenEmbeddings(model).eval()
    example = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    temporary = _atomic_target(target)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (example, example, torch.zeros_like(example)),
            str(temporary),
            input_names=names,
            output_names=["token_embeddings"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "token_embeddings"]},
            opset_version=17,
            dynamo=False,
        )
    os.replace(temporary, target)
    return target


INT8_FILE = "model.int8-r7.onnx"  # renamed with the quantisation settings: old caches re-quantise


def quantise_int8(source: Path, target: Path) -> Path:
    """Dynamic int8 quantisation of the weights (activations quantised at run time).

    Weights use 7 of the 8 bits (`reduce_range`): on CPUs without VNNI (AVX2, AVX-512F) onnxruntime
    multiplies u8 activations by s8 weights with an instruction whose 16-bit sums can saturate. On
    such a CPU, full-range weights ranked an expected document first for 88 of 103 demo questions
    against 91 with reduce_range (fp32: 90); on SQuAD, dense nDCG@10 0.846 against 0.848 (torch
    0.851). docs/benchmarks.md has the runs.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    temporary = _atomic_target(target)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs a pre-processing hint on the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(source),
                str(temporary),
                weight_type=QuantType.QInt8,
                per_channel=True,
                reduce_range=True,
            )
    finally:
        root.setLevel(level)
    os.replace(temporary, target)
    return target


def onnx_model_path(files: EncoderFiles, quantised: bool) -> Path:
    """Path of the cached ONNX model, exporting (and quantising) it on first use."""
    folder = cache_root() / "onnx" / f"{files.path.name}-{files.fingerprint()}"
    fp32 = folder / "model.onnx"
    if not fp32.is_file():
        export_fp32(files, fp32)
    if not quantised:
        return fp32
    int8 = folder / INT8_FILE
    if not int8.is_file():
        quantise_int8(fp32, int8)
    return int8
