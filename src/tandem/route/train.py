"""Train one label set: an encoder classifier (LoRA or frozen head) plus a lexical model, calibrated.

Steps: stratified split -> encoder training with early stopping on validation accuracy -> lexical
model -> choose the mix of the two and a temperature on the validation set -> metrics. Nothing is
written here; `artefact.save_classifier` stores the result.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from tandem.encode.model_files import EncoderFiles
from tandem.errors import InputError
from tandem.route.data import LabelledData, stratified_split
from tandem.route.encoder_head import SCALE, EncoderClassifier
from tandem.route.knn import knn_log_probs
from tandem.route.lexical import LexicalClassifier, label_coefficients
from tandem.route.metrics import classification_report, log_softmax, softmax

LEXICAL_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.3, 1.6, 2.0)
TEMPERATURES = tuple(round(0.3 + 0.05 * i, 2) for i in range(75))

Progress = Callable[[str, int, int], None]


@dataclass
class TrainOptions:
    """How to train; the defaults are the recommended ones (measured in bench/route.py)."""

    method: Literal["lora", "frozen"] = "lora"
    epochs: int = 4
    batch_size: int = 32
    learning_rate: float = 1e-3
    head_learning_rate: float = 3e-3
    lora_rank: int = 16
    label_smoothing: float = 0.1
    lexical: bool = True
    knn: bool = True
    validation_share: float = 0.1
    patience: int = 1
    time_budget_s: float | None = 540.0
    threads: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise InputError(f"epochs must be at least 1. Currently it is {self.epochs}.")
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

    _seed(options.seed)
    model = EncoderClassifier(encoder_files, len(labels), options.threads)
    history: list[dict] = []
    if options.method == "frozen":
        _fit_frozen_head(model, train.texts, y_train, progress)
    else:
        history = _fit_lora(model, train.texts, y_train, validation.texts, y_validation, options, progress)

    lexical = None
    if options.lexical:
        if progress:
            progress("lexical", 0, 1)
        lexical = LexicalClassifier.fit(train.texts, y_train, len(labels))
        if progress:
            progress("lexical", 1, 1)

    result = TrainedClassifier(labels, model, lexical, 0.0, 1.0, options, history=history)
    result.train_count = len(train)
    vectors = _sentence_vectors(model, data.texts, progress) if options.knn else None
    if len(validation):
        parts = Parts(
            model.logits(validation.texts),
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


def _sentence_vectors(model: EncoderClassifier, texts: list[str], progress: Progress | None) -> np.ndarray:
    """The trained encoder's vectors of every labelled message, in length-sorted batches."""
    order = np.argsort([len(t) for t in texts])
    vectors = np.zeros((len(texts), model.encoder.config.hidden_size), dtype=np.float32)
    with model.torch.inference_mode():
        for start in range(0, len(texts), 128):
            rows = order[start : start + 128]
            vectors[rows] = model.embed([texts[i] for i in rows]).float().numpy()
            if progress:
                progress("memory", min(start + 128, len(texts)), len(texts))
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


def _fit_lora(
    model: EncoderClassifier,
    texts: list[str],
    targets: np.ndarray,
    validation_texts: list[str],
    validation_targets: np.ndarray,
    options: TrainOptions,
    progress: Progress | None,
) -> list[dict]:
    """LoRA fine-tuning with linear warm-up and decay; keeps the epoch with the best validation accuracy."""
    torch = model.torch
    model.add_lora(options.lora_rank, 2.0 * options.lora_rank)
    model.encoder.train()
    parameters = [
        {"params": [p for p in model.encoder.parameters() if p.requires_grad], "lr": options.learning_rate},
        {"params": list(model.head.parameters()), "lr": options.head_learning_rate},
    ]
    optimiser = torch.optim.AdamW(parameters, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(texts) / options.batch_size)
    total_steps = options.epochs * steps_per_epoch
    warmup = max(1, total_steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(total_steps - warmup, 1))),
    )
    loss_function = torch.nn.CrossEntropyLoss(label_smoothing=options.label_smoothing)
    all_targets = torch.from_numpy(targets)
    history: list[dict] = []
    best_accuracy, best_state, stale = -1.0, None, 0
    started = time.perf_counter()
    rng = random.Random(options.seed)
    for epoch in range(1, options.epochs + 1):
        batches = _length_bucketed_batches(texts, options.batch_size, rng)
        for step, rows in enumerate(batches, start=1):
            logits = model.logits_tensor([texts[i] for i in rows])
            loss = loss_function(logits, all_targets[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            if progress:
                progress(f"epoch {epoch}/{options.epochs}", step, len(batches))
        model.encoder.eval()
        accuracy = (
            float((model.logits(validation_texts).argmax(1) == validation_targets).mean())
            if len(validation_texts)
            else float("nan")
        )
        model.encoder.train()
        elapsed = time.perf_counter() - started
        history.append(
            {"epoch": epoch, "validation_accuracy": round(accuracy, 4), "seconds": round(elapsed, 1)}
        )
        if not len(validation_texts) or accuracy > best_accuracy:
            best_accuracy, stale = accuracy, 0
            best_state = _snapshot(model)
        else:
            stale += 1
            if stale > options.patience:
                break
        per_epoch = elapsed / epoch
        if options.time_budget_s is not None and elapsed + per_epoch > options.time_budget_s:
            if epoch < options.epochs:
                history[-1]["stopped"] = "time budget"
            break
    if best_state is not None:
        _restore(model, best_state)
    model.encoder.eval()
    return history


def _length_bucketed_batches(texts: list[str], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length, so little compute goes to padding."""
    rows = list(range(len(texts)))
    rng.shuffle(rows)
    pool = batch_size * 20
    batches = []
    for start in range(0, len(rows), pool):
        chunk = sorted(rows[start : start + pool], key=lambda i: len(texts[i]))
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _snapshot(model: EncoderClassifier) -> dict:
    trainable = {
        name: tensor.detach().clone()
        for name, tensor in model.encoder.named_parameters()
        if tensor.requires_grad
    }
    head = {name: tensor.detach().clone() for name, tensor in model.head.state_dict().items()}
    return {"encoder": trainable, "head": head}


def _restore(model: EncoderClassifier, state: dict) -> None:
    torch = model.torch
    with torch.no_grad():
        parameters = dict(model.encoder.named_parameters())
        for name, tensor in state["encoder"].items():
            parameters[name].copy_(tensor)
    model.head.load_state_dict(state["head"])


def _seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
