"""Train one label set: an encoder classifier (LoRA or frozen head) plus a lexical model, calibrated.

Steps: stratified split -> lexical model -> encoder training with early stopping on validation
accuracy -> choose the mix of the models and a temperature on the validation set -> refit the
lexical model and the kNN memory on every message -> metrics. Nothing is written here;
`artefact.save_classifier` stores the result.

The time budget covers all of it. After a few LoRA steps the training measures its own speed and
sets the number of steps so that the rest still fits; the learning-rate schedule is fitted to that
number, so a slower machine trains for fewer steps but still ends its schedule (rather than being
cut off half way with a high learning rate).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from tandem.encode.classifier_head import SCALE, EncoderClassifier
from tandem.encode.model_files import EncoderFiles
from tandem.errors import InputError
from tandem.route.data import LabelledData, stratified_split
from tandem.route.knn import knn_log_probs
from tandem.route.lexical import LexicalClassifier, label_coefficients
from tandem.route.lora import Progress, TimeBudget, fit_lora, seed_everything
from tandem.route.metrics import classification_report, log_softmax, softmax

LEXICAL_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.3, 1.6, 2.0)
TEMPERATURES = tuple(round(0.3 + 0.05 * i, 2) for i in range(75))


@dataclass
class TrainOptions:
    """How to train; the defaults are the recommended ones (measured in bench/route.py)."""

    method: Literal["lora", "frozen"] = "lora"
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    head_learning_rate: float = 3e-3
    lora_rank: int = 16
    frozen_layers: int = 3  # bottom layers without LoRA, computed once per message: steps 2.4x faster
    label_smoothing: float = 0.1
    lexical: bool = True
    knn: bool = True
    validation_share: float = 0.1
    patience: int = 1
    time_budget_s: float | None = 540.0  # the whole training; start-up and saving come on top
    threads: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise InputError(f"epochs must be at least 1. Currently it is {self.epochs}.")
        if self.frozen_layers < 0:
            raise InputError(f"frozen layers must be 0 or more. Currently it is {self.frozen_layers}.")
        if not 0.0 <= self.validation_share < 0.5:
            raise InputError(
                f"validation share must be in [0, 0.5). Currently it is {self.validation_share}."
            )


@dataclass
class TrainedClassifier:
    """Everything `artefact.save_classifier` stores for one label set."""

    labels: list[str]
    model: EncoderClassifier
    lexical: LexicalClassifier | None
    lexical_weight: float
    temperature: float
    options: TrainOptions
    head_weight: float = 1.0
    knn_weight: float = 0.0
    memory: np.ndarray | None = None
    memory_labels: np.ndarray | None = None
    validation: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    train_count: int = 0

    def summary(self) -> dict:
        return {
            "labels": len(self.labels),
            "train_count": self.train_count,
            "validation": {k: v for k, v in self.validation.items() if k != "per_label"},
            "head_weight": self.head_weight,
            "knn_weight": self.knn_weight,
            "lexical_weight": self.lexical_weight,
            "temperature": self.temperature,
            "seconds": round(self.seconds, 1),
            "history": self.history,
            "options": asdict(self.options),
        }


def train_classifier(
    data: LabelledData,
    encoder_files: EncoderFiles,
    options: TrainOptions | None = None,
    progress: Progress | None = None,
) -> TrainedClassifier:
    """Train on `data`; `progress(stage, done, total)` is called as work advances."""
    options = options or TrainOptions()
    started = time.perf_counter()
    labels = data.label_names
    if len(labels) < 2:
        raise InputError(f"need at least 2 different labels to train; the data has only {labels}")
    index = {name: i for i, name in enumerate(labels)}
    targets = np.array([index[label] for label in data.labels])
    train_rows, validation_rows = stratified_split(data.labels, options.validation_share, options.seed)
    train = data.subset(train_rows)
    validation = data.subset(validation_rows)
    y_train, y_validation = targets[train_rows], targets[validation_rows]

    lexical = None
    lexical_seconds = 0.0
    if options.lexical:
        if progress:
            progress("lexical", 0, 1)
        lexical_started = time.perf_counter()
        lexical = LexicalClassifier.fit(train.texts, y_train, len(labels))
        lexical_seconds = time.perf_counter() - lexical_started
        if progress:
            progress("lexical", 1, 1)

    seed_everything(options.seed)
    model = EncoderClassifier(encoder_files, len(labels), options.threads)
    history: list[dict] = []
    if options.method == "frozen":
        _fit_frozen_head(model, train.texts, y_train, progress)
    else:
        budget = None
        if options.time_budget_s is not None:
            # What must still fit after training: the lexical refit on every message (its first fit
            # scaled by size) and the served model's export and passes over the messages, estimated
            # from torch's forward time (generous: the int8 passes are faster, which covers the export).
            refit = lexical_seconds * len(data) / max(len(train), 1) if len(validation) else 0.0
            after = math.ceil(len(validation) / options.batch_size)  # the calibration's validation pass
            after += math.ceil(len(data) / options.batch_size) if options.knn else 0
            budget = TimeBudget(started + options.time_budget_s, refit + 10.0, after)
        history = fit_lora(
            model, train.texts, y_train, validation.texts, y_validation, options, progress, budget
        )

    result = TrainedClassifier(labels, model, lexical, 0.0, 1.0, options, history=history)
    result.train_count = len(train)
    needed = data.texts if options.knn else validation.texts  # the memory needs every message
    served = _served_vectors(model, encoder_files, needed, options.threads, progress)
    vectors = served if options.knn else None
    if len(validation):
        parts = Parts(
            model.head_logits(served[validation_rows] if options.knn else served),
            lexical.logits(validation.texts) if lexical else None,
            knn_log_probs(vectors[validation_rows], vectors[train_rows], y_train, len(labels))
            if vectors is not None
            else None,
        )
        mix = _calibrate(parts, y_validation)
        result.head_weight, result.knn_weight, result.lexical_weight, result.temperature = mix
        probabilities = softmax(parts.combine(*mix))
        result.validation = classification_report(
            y_validation, probabilities.argmax(1), probabilities.max(1), labels
        )
        if lexical is not None:  # weights chosen; the lexical model now learns from every message
            result.lexical = LexicalClassifier.fit(data.texts, targets, len(labels))
    elif lexical:
        result.lexical_weight = 0.3
    if vectors is not None:
        result.memory, result.memory_labels = vectors.astype(np.float16), targets.astype(np.int32)
        result.knn_weight = result.knn_weight if len(validation) else 1.0
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class Parts:
    """Per-model scores for the same messages: head logits, lexical logits, kNN log-probabilities."""

    head: np.ndarray
    lexical: np.ndarray | None = None
    knn: np.ndarray | None = None

    def combine(self, head_weight: float, knn_weight: float, lexical_weight: float, temperature: float):
        """Log-linear mix of the models, divided by the calibration temperature."""
        mixed = head_weight * log_softmax(self.head)
        if self.knn is not None and knn_weight:
            mixed = mixed + knn_weight * self.knn
        if self.lexical is not None and lexical_weight:
            mixed = mixed + lexical_weight * log_softmax(self.lexical)
        return mixed / temperature


def combine(
    encoder_logits: np.ndarray, lexical_logits: np.ndarray | None, lexical_weight: float, temperature: float
) -> np.ndarray:
    """Head and lexical model only (kept for callers without a kNN memory)."""
    return Parts(encoder_logits, lexical_logits).combine(1.0, 0.0, lexical_weight, temperature)


def _served_vectors(
    model: EncoderClassifier,
    encoder_files: EncoderFiles,
    texts: list[str],
    threads: int,
    progress: Progress | None,
) -> np.ndarray:
    """Every labelled message's vector from the model as it will be served (adapter merged, int8
    ONNX), for the kNN memory and the calibration: serving's vectors, not torch's fp32 ones."""
    import tempfile

    from tandem.encode.served import ServedEncoder

    if progress:
        progress("export", 0, 1)
    with tempfile.TemporaryDirectory(prefix="tandem-adapter-") as scratch:
        adapter = None
        if model.has_adapter:
            adapter = Path(scratch) / "adapter"
            model.save_adapter(adapter)  # the same bytes `save_classifier` writes: one cached export
        encoder = ServedEncoder(encoder_files, adapter, threads)
    if progress:
        progress("export", 1, 1)
    vectors = np.zeros((len(texts), 0), np.float32)
    for row, text in enumerate(texts):  # one at a time, as serving encodes a message: int8
        vector = encoder.encode([text])[0]  # activations are quantised per batch
        if vectors.shape[1] == 0:
            vectors = np.zeros((len(texts), len(vector)), np.float32)
        vectors[row] = vector
        if progress and (row % 256 == 255 or row == len(texts) - 1):
            progress("memory", row + 1, len(texts))
    return vectors


def _calibrate(parts: Parts, truth: np.ndarray) -> tuple[float, float, float, float]:
    """Mixing weights with the best validation accuracy (ties: lower NLL), then the best temperature."""
    rows = np.arange(len(truth))
    head_weights = (0.0, 0.5, 1.0) if parts.knn is not None else (1.0,)
    knn_weights = (0.0, 0.5, 1.0) if parts.knn is not None else (0.0,)
    lexical_weights = LEXICAL_WEIGHTS if parts.lexical is not None else (0.0,)
    best, best_key = (1.0, 0.0, 0.0), (-1.0, 0.0)
    for head_weight in head_weights:
        for knn_weight in knn_weights:
            if not head_weight and not knn_weight:
                continue
            for lexical_weight in lexical_weights:
                scores = parts.combine(head_weight, knn_weight, lexical_weight, 1.0)
                accuracy = float((scores.argmax(1) == truth).mean())
                nll = float(-log_softmax(scores)[rows, truth].mean())
                if (accuracy, -nll) > best_key:
                    best, best_key = (head_weight, knn_weight, lexical_weight), (accuracy, -nll)
    best_temperature, best_nll = 1.0, math.inf
    for temperature in TEMPERATURES:
        nll = float(-log_softmax(parts.combine(*best, temperature))[rows, truth].mean())
        if nll < best_nll:
            best_temperature, best_nll = temperature, nll
    return (*best, best_temperature)


def _fit_frozen_head(
    model: EncoderClassifier, texts: list[str], targets: np.ndarray, progress: Progress | None
) -> None:
    """Logistic regression on the frozen encoder's sentence vectors (seconds, not minutes)."""
    from sklearn.linear_model import LogisticRegression

    torch = model.torch
    vectors = []
    with torch.inference_mode():
        for start in range(0, len(texts), 128):
            vectors.append(model.embed(texts[start : start + 128]).numpy())
            if progress:
                progress("encode", min(start + 128, len(texts)), len(texts))
    features = np.concatenate(vectors) * SCALE
    regression = LogisticRegression(C=1.0, max_iter=3000).fit(features, targets)
    weight, bias = label_coefficients(regression, model.head.out_features)
    with torch.no_grad():
        model.head.weight.copy_(torch.from_numpy(weight))
        model.head.bias.copy_(torch.from_numpy(bias))
