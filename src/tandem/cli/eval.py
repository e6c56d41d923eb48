"""`tandem eval ...`: run a question set, render its report, compare two runs, check the judge."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from tandem.cli.options import ConfigOption, IndexOption, JsonOption
from tandem.cli.output import console, errors

if TYPE_CHECKING:
    # typer >= 0.2x vendors click; TyperGroup.parse_args takes the vendored Context, not click's
    from typer._click.core import Context


class _EvalGroup(TyperGroup):
    """`tandem eval QUESTIONS.jsonl ...` is short for `tandem eval run QUESTIONS.jsonl ...`."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_EvalGroup,
    no_args_is_help=True,
    help="Evaluate answers: `tandem eval QUESTIONS.jsonl --index DIR --out RUN_DIR` runs a question "
    "set (same as `tandem eval run ...`); `tandem eval compare RUN_A RUN_B` compares two runs.",
)


def _progress(total: int):
    """A progress bar on a terminal, a line every ~10% otherwise; returns (callback, stop)."""
    if errors.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       TextColumn("{task.description}"), console=errors)  # fmt: skip
        task = bar.add_task("", total=total)
        bar.start()

        def update(done: int, _total: int, row: dict) -> None:
            bar.update(task, completed=done, description=escape(row["id"]))

        return update, bar.stop
    step = max(1, total // 10)

    def report(done: int, _total: int, row: dict) -> None:
        if done % step == 0 or done == total:
            errors.print(f"evaluated {done}/{total}")

    return report, lambda: None


def summary_table(metrics: dict) -> Table:
    from tandem.evaluate.report import fmt
    from tandem.evaluate.summary import headline

    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for _key, label, value, _up in headline(metrics):
        table.add_row(label, fmt(value))
    return table


@app.command()
def run(
    questions: Annotated[
        Path,
        typer.Argument(help="JSONL: id, question, answerable, expected_docs, reference, expected_route."),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run folder to create (results, metrics, report).")
    ],
    index: IndexOption = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="Depth for recall@k and the rank plot.")] = 10,
    router: Annotated[
        Path | None,
        typer.Option("--router", help="Route first: a router folder or TOML (for routing accuracy)."),
    ] = None,
    judge_min_support: Annotated[
        float | None,
        typer.Option(
            help="Support bar for citation correctness (default: min_support, as the output guard)."
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in --out.")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask every question, score the answers, write results.jsonl, metrics.json and report.html."""
    from tandem.config import Settings
    from tandem.evaluate import CitationJudge, EvalRunner, load_questions, render_report
    from tandem.pipeline import Tandem

    question_set = load_questions(questions, limit)
    bot = Tandem(index, Settings.load(config, router=router))
    judge = None
    if judge_min_support is not None:
        judge = CitationJudge.from_settings(bot.encoder, bot.settings, judge_min_support)
    runner = EvalRunner(bot, judge, k)
    for warning in runner.warnings(question_set):
        errors.print(f"[yellow]warning:[/] {escape(warning)}")
    update, stop = _progress(len(question_set.items))
    try:
        result = runner.run(question_set, out, update, overwrite)
    finally:
        stop()
    report = render_report(out)
    metrics = result.metrics["metrics"]
    if as_json:
        print(json.dumps(result.metrics, indent=2))
    else:
        console.print(summary_table(metrics))
        console.print(f"\nwrote {out / 'results.jsonl'}, {out / 'metrics.json'} and {report}")
    if metrics["errors"]:
        errors.print(
            f"[yellow]warning:[/] {metrics['errors']} questions failed; see `error` in results.jsonl"
        )
    if metrics["errors"] == metrics["questions"]:
        raise typer.Exit(1)


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="The baseline run folder.")],
    run_b: Annotated[Path, typer.Argument(help="The run to compare with it.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file (default: RUN_B/compare.html).")
    ] = None,
    f1_margin: Annotated[float, typer.Option(min=0.0, help="Smallest F1 change that counts.")] = 0.1,
    as_json: JsonOption = False,
) -> None:
    """Per-metric deltas A -> B, and the questions that got better or worse (also as compare.html)."""
    from tandem.evaluate import compare_runs, render_compare
    from tandem.evaluate.compare import format_delta
    from tandem.evaluate.report import fmt

    comparison = compare_runs(run_a, run_b, f1_margin)
    html = render_compare(comparison, out or run_b / "compare.html")
    if as_json:
        print(json.dumps({**comparison.to_dict(), "html": str(html)}, indent=2))
        return
    for note in comparison.notes:
        errors.print(f"[yellow]note:[/] {escape(note)}")
    table = Table(show_header=True, header_style="bold", box=None)
    for name, justify in (("metric", "left"), ("A", "right"), ("B", "right"), ("B - A", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]

    for d in comparison.deltas:
        colour = {True: "green", False: "red", None: "dim"}[d.better]
        table.add_row(d.label, fmt(d.a), fmt(d.b), f"[{colour}]{format_delta(d.delta)}[/]")
    console.print(table)
    for direction, colour in (("worse", "red"), ("better", "green"), ("mixed", "yellow")):
        items = comparison.of(direction)
        console.print(f"\n[bold {colour}]{direction}[/] ({len(items)} questions)")
        for change in items:
            reasons = "; ".join(change.regressed + change.improved)
            console.print(f"  {escape(change.id)}: {escape(reasons)}  [dim]{escape(change.question[:70])}[/]")
    console.print(f"\nwrote {html}")


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="A run folder from `tandem eval run`.")]) -> None:
    """Render RUN_DIR/report.html again from its results.jsonl and metrics.json."""
    from tandem.evaluate import render_report

    console.print(f"wrote {render_report(run_dir)}")


@app.command()
def judge(
    labels: Annotated[
        Path | None, typer.Argument(help="JSONL of sentence, passage, label (default: the shipped set).")
    ] = None,
    min_support: Annotated[float | None, typer.Option(help="Support bar (default: min_support).")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Agreement of the citation support judge with hand-labelled sentence/passage pairs."""
    from tandem.config import Settings
    from tandem.encode import load_encoder
    from tandem.evaluate import CitationJudge, agreement, load_labels

    settings = Settings.load(config)
    encoder = load_encoder(settings.encoder, settings.encoder_backend, settings.encoder_threads)
    result = agreement(CitationJudge.from_settings(encoder, settings, min_support), load_labels(labels))
    if as_json:
        print(json.dumps(result, indent=2))
        return
    console.print(
        f"{result['pairs']} pairs ({result['supported_labels']} labelled supported), "
        f"min_support {result['judge']['min_support']}: accuracy {result['accuracy']:.3f}, "
        f"precision {result['precision'] or 0:.3f}, recall {result['recall'] or 0:.3f}, "
        f"kappa {result['kappa']:.3f}"
    )
    for kind, entry in sorted(result["by_kind"].items()):
        console.print(f"  {kind:<18} {entry['agree']}/{entry['n']} agree")
    sys.stdout.flush()
