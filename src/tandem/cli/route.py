"""`tandem route ...`: train, evaluate and try routers (label-set classifiers + policy)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tandem.cli.output import console, errors

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

app = typer.Typer(
    help="Route messages: classify intent/urgency/risk and decide answer, flag or hand off.",
    no_args_is_help=True,
)

TextColumn = Annotated[str, typer.Option("--text-column", help="Column holding the message.")]
LabelColumn = Annotated[str, typer.Option("--label-column", help="Column holding the label.")]
LabelSetOption = Annotated[
    str | None, typer.Option("--label-set", help="Label set to train/evaluate (default: the label column).")
]


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="CSV (with header) or JSONL of labelled messages.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Router folder to create or update.")],
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    label_set: LabelSetOption = None,
    router_config: Annotated[
        Path | None, typer.Option("--router-config", help="Router TOML (label sets, policy) to store.")
    ] = None,
    method: Annotated[str, typer.Option(help="lora (best) or frozen (seconds).")] = "lora",
    epochs: Annotated[int, typer.Option(min=1, help="Most epochs of LoRA training.")] = 5,
    learning_rate: Annotated[float, typer.Option(help="LoRA peak learning rate.")] = 1e-3,
    frozen_layers: Annotated[
        int,
        typer.Option(min=0, help="Bottom encoder layers without LoRA (computed once: faster steps)."),
    ] = 3,
    lexical: Annotated[bool, typer.Option(help="Mix in a TF-IDF model (measurably helps).")] = True,
    validation_share: Annotated[float, typer.Option(help="Share held out for early stopping.")] = 0.1,
    time_budget: Annotated[
        float,
        typer.Option(help="Seconds for the whole training; LoRA steps are fitted to it (0: no limit)."),
    ] = 540.0,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads for training.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training summary as JSON.")] = False,
) -> None:
    """Train a label set from labelled messages and publish a new router version in --out."""
    from tandem.route.data import read_labelled
    from tandem.route.router import train_router
    from tandem.route.train import TrainOptions

    if method not in ("lora", "frozen"):
        raise typer.BadParameter(f"method must be lora or frozen, not {method!r}", param_hint="--method")
    labelled = read_labelled(data, text_column, label_column)
    for warning in labelled.warnings:
        errors.print(f"[yellow]warning:[/] {warning}")
    options = TrainOptions(
        method=method,  # type: ignore[arg-type]
        epochs=epochs,
        learning_rate=learning_rate,
        frozen_layers=frozen_layers,
        lexical=lexical,
        validation_share=validation_share,
        time_budget_s=time_budget or None,
        threads=threads,
    )
    config_text = router_config.read_text(encoding="utf-8") if router_config else None
    name = label_set or label_column
    errors.print(
        f"training label set {name!r} on {len(labelled)} messages, {len(labelled.label_names)} labels"
    )
    with _progress(enabled=sys.stderr.isatty()) as progress:
        version, trained = train_router(labelled, out, name, options, config_text, progress)
    summary = {"router": str(out), "version": version.name, "label_set": name, **trained.summary()}
    if as_json:
        console.print_json(data=summary)
        return
    validation = trained.validation
    console.print(
        f"[bold]published {version.name}[/] in {out}: label set {name!r}, {len(trained.labels)} labels, "
        f"{trained.seconds:.0f} s; validation accuracy {validation.get('accuracy', float('nan')):.4f}, "
        f"macro-F1 {validation.get('macro_f1', float('nan')):.4f}, "
        f"ECE {validation.get('ece', float('nan')):.4f}"
    )


@app.command("eval")
def evaluate(
    data: Annotated[Path, typer.Argument(help="CSV or JSONL of labelled messages the router has not seen.")],
    router: Annotated[Path, typer.Option("--router", "-r", help="Router folder or TOML config.")],
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    label_set: LabelSetOption = None,
    confusion: Annotated[
        Path | None, typer.Option("--confusion", help="Write the confusion matrix PNG here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (accuracy, macro_f1, ...).")] = False,
) -> None:
    """Accuracy, macro-F1, per-label precision/recall, calibration error and latency."""
    from tandem.route.data import read_labelled
    from tandem.route.evaluate import evaluate_router
    from tandem.route.router import Router

    loaded = Router.from_config(router)
    name = _pick_label_set(loaded.label_sets, label_set, label_column)
    labelled = read_labelled(data, text_column, label_column)
    for warning in labelled.warnings:
        errors.print(f"[yellow]warning:[/] {warning}")
    report = evaluate_router(loaded, labelled, name, confusion)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    latency = report["latency_ms"]
    console.print(
        f"[bold]{name}[/] ({report['method']}) on {report['count']} messages: "
        f"accuracy {report['accuracy']:.4f}, "
        f"macro-F1 {report['macro_f1']:.4f}, ECE {report['ece']:.4f}; "
        f"latency p50 {latency['p50']} ms, p95 {latency['p95']} ms"
    )
    worst = sorted(report["per_label"].items(), key=lambda item: item[1]["f1"])[:5]
    for label, scores in worst:
        console.print(
            f"  weakest: {label}: precision {scores['precision']:.2f}, recall {scores['recall']:.2f}, "
            f"support {scores['support']}"
        )
    if confusion:
        console.print(f"confusion matrix: {confusion}")


@app.command()
def classify(
    message: Annotated[str, typer.Argument(help="The message to route.")],
    router: Annotated[Path, typer.Option("--router", "-r", help="Router folder or TOML config.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the labels, confidences and the action the policy picks for one message."""
    from tandem.route.router import Router

    decision = Router.from_config(router).classify(message)
    if as_json:
        console.print_json(data=decision.to_dict())
        return
    console.print(f"[bold]action:[/] {decision.action}")
    for name, prediction in decision.predictions.items():
        others = ", ".join(f"{label} {score:.2f}" for label, score in prediction.alternatives)
        console.print(
            f"  {name}: {prediction.label} ({prediction.confidence:.2f}, {prediction.method}); next: {others}"
        )
    for reason in decision.reasons:
        console.print(f"  why: {reason}")


@app.command()
def tickets(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Tandem data folder (default: ./tandem-data).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N tickets.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List handoff tickets waiting for a person."""
    from rich.markup import escape

    from tandem.config import Settings
    from tandem.route.tickets import TicketStore
    from tandem.storage import open_store

    settings = Settings.load(data_dir=data_dir)  # store_url, when set, wins over --data-dir
    rows = TicketStore(open_store(settings, "main")).recent(limit)
    if as_json:
        console.print_json(data=[row.to_dict() for row in rows])
        return
    if not rows:
        console.print("no tickets")
    for row in rows:
        labels = ", ".join(f"{k}={v}" for k, v in row.labels.items())
        console.print(f"[bold]{row.ticket}[/] {row.created} queue={row.queue} {labels}")
        console.print(f"  {row.message}", markup=False)
        for turn in (row.transcript or [])[:-1]:  # the conversation before the message
            console.print(f"    turn {turn['turn']}: {turn['user']}", markup=False)
        if row.reasons:
            console.print(f"  [dim]{escape('; '.join(row.reasons))}[/]")


def _pick_label_set(available: list[str], wanted: str | None, label_column: str) -> str:
    from tandem.errors import InputError

    if wanted:
        return wanted
    if len(available) == 1:
        return available[0]
    if label_column in available:
        return label_column
    raise InputError(
        f"the router has several label sets ({', '.join(available)}); choose one with --label-set"
    )


class _progress:
    """A rich progress bar driven by `progress(stage, done, total)` callbacks (quiet when not a TTY)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.bar = Progress(
            "{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=errors
        )
        self.bar.start()
        return self.update

    def update(self, stage: str, done: int, total: int) -> None:
        assert self.bar is not None  # __enter__ hands this method out only after starting the bar
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
