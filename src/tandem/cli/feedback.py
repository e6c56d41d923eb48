"""`tandem feedback ...`: record thumbs up/down on an answer, list it, export it as eval cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tandem.cli.options import ConfigOption, IndexOption
from tandem.cli.output import console
from tandem.errors import InputError

if TYPE_CHECKING:
    from tandem.storage import FeedbackStore
    from tandem.trace.store import TraceStore

app = typer.Typer(help="Feedback on answers: add, list, export as evaluation cases.", no_args_is_help=True)


def _stores(index: Path | None, config: Path | None) -> tuple[FeedbackStore, TraceStore]:
    from tandem.config import Settings
    from tandem.guard.pii import mask_pii
    from tandem.storage import FeedbackStore, open_store
    from tandem.trace.store import TraceStore

    settings = Settings.load(config, index_dir=index)
    feedback = FeedbackStore(open_store(settings, "main"), redact=mask_pii)
    return feedback, TraceStore(open_store(settings, "traces"))


@app.command("add")
def add(
    trace_id: Annotated[
        str, typer.Argument(help="The answer's trace id (from `tandem ask --json` or traces list).")
    ],
    up: Annotated[bool, typer.Option("--up/--down", help="Helpful (--up) or not (--down).")] = True,
    comment: Annotated[str, typer.Option(help="What was right or wrong.")] = "",
    index: IndexOption = None,
    config: ConfigOption = None,
) -> None:
    """Rate an answer by its trace id; the question and answer are copied from the trace."""
    feedback, traces = _stores(index, config)
    trace = traces.get(trace_id)  # a clear error when the trace does not exist
    feedback_id = feedback.add(1 if up else -1, comment, trace_id, trace["question"], trace["answer"])
    console.print(f"Stored feedback {feedback_id} ({'up' if up else 'down'}) on trace {trace_id}.")


@app.command("list")
def list_feedback(
    limit: Annotated[int, typer.Option(min=1, help="Newest N.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    index: IndexOption = None,
    config: ConfigOption = None,
) -> None:
    """The newest feedback, one line each."""
    rows = _stores(index, config)[0].list(limit)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print("No feedback yet.")
    for row in rows:
        thumb = "up  " if row["rating"] > 0 else "down"
        console.print(
            f"{thumb}  {row['trace_id'] or '-':16}  {row['question'][:50]!r}  {row['comment'][:60]}"
        )


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write (the `tandem eval` format).")],
    negative: Annotated[bool, typer.Option("--negative/--all", help="Only thumbs-down (default).")] = True,
    index: IndexOption = None,
    config: ConfigOption = None,
) -> None:
    """Write feedback as evaluation cases; a reviewer then adds expected_docs and a reference."""
    from tandem.evaluate.feedback_cases import feedback_cases

    cases = feedback_cases(*_stores(index, config), negative_only=negative)
    if out.exists() and out.is_dir():
        raise InputError(f"--out {out} is a folder; give a file name such as feedback-cases.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(c) + "\n" for c in cases))
    console.print(f"Wrote {len(cases)} case(s) to {out}.")
