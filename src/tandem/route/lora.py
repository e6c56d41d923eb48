"""LoRA fine-tuning of an encoder classifier within a time budget.

After `PROBE_STEPS` steps the training measures its own speed and sets the number of steps so that
the rest still fits the budget; the learning-rate schedule follows that number, so a slower machine
trains for fewer steps but still ends its schedule.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tandem.encode.classifier_head import SCALE, EncoderClassifier
from tandem.encode.layer_cache import LowerLayerCache
from tandem.errors import InputError

if TYPE_CHECKING:
    from tandem.route.train import TrainOptions

PROBE_STEPS = 20  # the LoRA plan is revised every this many steps, from the speed measured so far
FORWARD_SHARE = 0.6  # an inference batch's share of a training step's time, until one is measured
Progress = Callable[[str, int, int], None]


@dataclass
class TimeBudget:
    """When training must end, and what still has to run after the last LoRA step."""

    deadline: float  # time.perf_counter() value
    fixed_reserve_s: float  # seconds of work after training that does not scale with step time
    forward_batches: int  # inference batches (of the training batch size) after training

    def steps_that_fit(
        self, seconds_per_step: float, seconds_per_forward: float, forward_batches: int
    ) -> int:
        """Training steps that still fit from now, leaving room for `forward_batches` inference
        batches still due during training (validation passes) and for the work after it."""
        forward_s = seconds_per_forward * (self.forward_batches + forward_batches)
        left = self.deadline - time.perf_counter() - self.fixed_reserve_s - forward_s
        return max(0, int(left / seconds_per_step))


def fit_lora(
    model: EncoderClassifier,
    texts: list[str],
    targets: np.ndarray,
    validation_texts: list[str],
    validation_targets: np.ndarray,
    options: TrainOptions,
    progress: Progress | None,
    budget: TimeBudget | None = None,
) -> list[dict]:
    """LoRA fine-tuning with linear warm-up and decay; keeps the epoch with the best validation accuracy.

    With a `budget`, the total number of steps is revised every PROBE_STEPS steps to what still fits
    (possibly ending part way through an epoch); the decay follows the revised total."""
    torch = model.torch
    frozen = options.frozen_layers
    if frozen >= model.layer_count:
        raise InputError(
            f"frozen layers must be fewer than the encoder's {model.layer_count} layers. "
            f"Currently it is {frozen}."
        )
    model.add_lora(options.lora_rank, 2.0 * options.lora_rank, first_layer=frozen)
    # Cached rows: the training messages, then the validation messages after them.
    cache = LowerLayerCache(model, frozen, [*texts, *validation_texts]) if frozen else None

    def batch_logits(rows: list[int]) -> Any:
        """Logits of the training messages at `rows`, with gradients."""
        if cache is not None:
            return model.head(cache.embed(rows) * SCALE)
        return model.logits_tensor([texts[i] for i in rows])

    def validation_accuracy() -> float:
        if cache is None:
            return float((model.logits(validation_texts).argmax(1) == validation_targets).mean())
        order = np.argsort([len(t) for t in validation_texts], kind="stable")  # little padding
        predicted = np.zeros(len(validation_texts), np.int64)
        with torch.inference_mode():
            for start in range(0, len(order), 128):
                rows = order[start : start + 128]
                vectors = cache.embed(rows + len(texts))
                predicted[rows] = model.head(vectors * SCALE).argmax(1).numpy()
        return float((predicted == validation_targets).mean())

    model.encoder.train()
    parameters = [
        {"params": [p for p in model.encoder.parameters() if p.requires_grad], "lr": options.learning_rate},
        {"params": list(model.head.parameters()), "lr": options.head_learning_rate},
    ]
    optimiser = torch.optim.AdamW(parameters, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(texts) / options.batch_size)
    plan = {"total": options.epochs * steps_per_epoch}
    warmup = max(1, plan["total"] // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min(
            (step + 1) / warmup, max(0.0, (plan["total"] - step) / max(plan["total"] - warmup, 1))
        ),
    )
    loss_function = torch.nn.CrossEntropyLoss(label_smoothing=options.label_smoothing)
    all_targets = torch.from_numpy(targets)
    validation_batches = math.ceil(len(validation_texts) / options.batch_size)  # in training-batch units
    history: list[dict] = []
    best_accuracy, best_state, stale = -1.0, None, 0
    started = time.perf_counter()
    step_seconds = 0.0  # training steps only
    forward_per_batch = None  # seconds per inference batch, once a validation pass has been timed
    rng = random.Random(options.seed)
    done = 0
    for epoch in range(1, options.epochs + 1):
        batches = _length_bucketed_batches(texts, options.batch_size, rng)
        for step, rows in enumerate(batches, start=1):
            if done >= plan["total"]:
                break
            step_started = time.perf_counter()
            logits = batch_logits(rows)
            loss = loss_function(logits, all_targets[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step_seconds += time.perf_counter() - step_started
            done += 1
            if budget is not None and done % PROBE_STEPS == 0:  # (re)plan from the speed so far
                per_step = step_seconds / done
                per_forward = forward_per_batch if forward_per_batch is not None else FORWARD_SHARE * per_step
                passes_left = options.epochs - epoch + 1
                fits = budget.steps_that_fit(per_step, per_forward, validation_batches * passes_left)
                plan["total"] = max(PROBE_STEPS, min(options.epochs * steps_per_epoch, done + fits))
            if progress:
                progress(f"epoch {epoch}/{math.ceil(plan['total'] / steps_per_epoch)}", step, len(batches))
        model.encoder.eval()
        validation_started = time.perf_counter()
        accuracy = validation_accuracy() if len(validation_texts) else float("nan")
        if validation_batches:
            forward_per_batch = (time.perf_counter() - validation_started) / validation_batches
        model.encoder.train()
        entry: dict[str, int | float | str] = {
            "epoch": epoch,
            "validation_accuracy": round(accuracy, 4),
            "steps": done,
        }
        entry["seconds"] = round(time.perf_counter() - started, 1)
        history.append(entry)
        if not len(validation_texts) or accuracy > best_accuracy:
            best_accuracy, stale = accuracy, 0
            best_state = _snapshot(model)
        else:
            stale += 1
            if stale > options.patience:
                break
        if done >= plan["total"]:
            if plan["total"] < options.epochs * steps_per_epoch:
                entry["stopped"] = f"time budget: {plan['total']} of {options.epochs * steps_per_epoch} steps"
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


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
