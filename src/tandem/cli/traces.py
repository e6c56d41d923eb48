"""`tandem traces ...`: read back what every answer was built from."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tandem.cli.options import IndexOption
from tandem.cli.output import console

app = typer.Typer(help="Read answer traces: passages, scores, citations, route, versions, timings.",
                  no_args_is_help=True)  # fmt: skip


def _store(index: Path | None):
    """trace_url or store_url when set, else traces.sqlite beside --index (or the configured index)."""
    from tandem.config import Settings
    from tandem.storage import open_store
    from tandem.trace.store import TraceStore

    settings = Settings.load(index_dir=index)
    return TraceStore(open_store(settings, "traces"))


def _since(value: str | None) -> float | None:
    """'2h', '3d', '30m' or an ISO date/time."""
    if not value:
        return None
    units = {"m": 60, "h": 3600, "d": 86400}
    if value[-1:] in units and value[:-1].replace(".", "", 1).isdigit():
        return dt.datetime.now().timestamp() - float(value[:-1]) * units[value[-1]]
    try:
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise typer.BadParameter(
            f"use 30m, 2h, 3d or an ISO date, not {value!r}", param_hint="--since"
        ) from None


@app.command("list")
def list_traces(
    index: IndexOption = None,
    since: Annotated[str | None, typer.Option(help="Only newer than 30m, 2h, 3d or an ISO date.")] = None,
    route: Annotated[str | None, typer.Option(help="Only this route action, e.g. handoff or answer.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The newest traces, one line each."""
    rows = _store(index).list(_since(since), route, limit)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print("no traces")
    for row in rows:
        when = dt.datetime.fromtimestamp(row["created"]).strftime("%Y-%m-%d %H:%M:%S")
        console.print(
            f"[bold]{row['id']}[/] {when} {row['mode']:<10} {row['route'] or '-':<16} "
            f"{row['total_ms']:>8.0f} ms  {escape(row['question'][:60])}"
        )


@app.command()
def show(
    trace_id: Annotated[str, typer.Argument(help="Trace id (from `tandem traces list` or answer.trace_id).")],
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One trace as a tree: stages with timings, passages with scores, sentence-to-citation map."""
    trace = _store(index).get(trace_id)
    if as_json:
        print(json.dumps(trace, indent=2))
        return
    console.print(f"[bold]{escape(trace['question'])}[/]\n-> {escape(trace['answer'])}")
    console.print(f"[dim]{trace['mode']} ({escape(trace['reason'])}), {trace['total_ms']:.0f} ms, "
                  f"versions {escape(json.dumps(trace['versions']))}[/]")  # fmt: skip
    console.print("\n[bold]Stages[/]")
    for span in trace["spans"]:
        indent = "    " if span["parent"] else "  "
        took = span["end_ms"] - span["start_ms"]
        console.print(
            f"{indent}{span['name']:<16} {span['start_ms']:>8.1f} -> {span['end_ms']:>8.1f} ms ({took:.1f})"
        )
    console.print("\n[bold]Retrieved[/]")
    for passage in trace["retrieved"]:
        console.print(
            f"  #{passage['rank']} {escape(passage['chunk_id'])}  fused {passage['score']:.3f}  "
            f"dense {passage['dense_score']:.3f} (#{passage['dense_rank']})  "
            f"bm25 {passage['lexical_score']:.3f} (#{passage['lexical_rank']})"
        )
    if trace["citations"]:
        console.print("\n[bold]Citations[/]")
        for citation in trace["citations"]:
            console.print(
                "  "
                + escape(f"[{citation['number']}] {citation['chunk_id']}")
                + f" (support {citation['support']:.2f}) backs: {escape(citation['sentence'])}"
            )
    if trace.get("route"):
        console.print(
            f"\n[bold]Route[/] {trace['route']['action']}: {escape('; '.join(trace['route']['reasons']))}"
        )
    if trace.get("guard") and trace["guard"]["findings"]:
        fired = ", ".join(f"{f['guard']}:{f['kind']}" for f in trace["guard"]["findings"])
        console.print(f"[bold]Guard[/] {escape(fired)}")


@app.command()
def prune(
    days: Annotated[
        float | None, typer.Option(min=0.0, help="Keep this many days (default: trace_retention_days).")
    ] = None,
    index: IndexOption = None,
) -> None:
    """Delete traces older than the retention period."""
    from tandem.config import Settings

    keep = days if days is not None else Settings.load().trace_retention_days
    if keep is None:
        raise typer.BadParameter("give --days or set trace_retention_days", param_hint="--days")
    removed = _store(index).prune(keep)
    console.print(f"Deleted {removed} trace(s) older than {keep:g} days.")
