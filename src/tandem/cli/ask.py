"""`tandem ingest`, `tandem search` and `tandem ask`: the library's three operations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tandem.cli.options import (
    ConfigOption,
    IndexOption,
    JsonOption,
    RouterOption,
    SourceOption,
    TagOption,
    open_tandem,
    search_filters,
)
from tandem.cli.output import console, errors, show_passages, show_report, show_sources, show_units
from tandem.errors import TandemError
from tandem.index.filters import SearchFilters

if TYPE_CHECKING:
    from tandem.pipeline import Tandem


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    index: IndexOption = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag every ingested document.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="[ADDRESS]",
            help="Parse, chunk and embed on Ray: a local instance, or the cluster at ADDRESS "
            "(auto, ray://HOST:10001). Put it after the paths, or write --ray=ADDRESS.",
        ),
    ] = None,
) -> None:
    """Parse, chunk and embed documents into a new index version (unchanged files are reused)."""
    bot = open_tandem(index, config)
    progress = not as_json and sys.stderr.isatty()
    report = bot.ingest(paths, tuple(tag or ()), show_progress=progress, ray=ray)
    if as_json:
        console.print_json(data={**report.__dict__, "ok": report.ok})
    else:
        show_report(report, str(bot.settings.index_dir))
    if not report.ok:
        why = "" if report.files_seen else f": no files found in {', '.join(map(str, paths))}"
        errors.print(f"[red]error:[/] nothing could be ingested{why}")
        raise typer.Exit(1)


def search(
    query: Annotated[str | None, typer.Argument(help="The search text.")] = None,
    index: IndexOption = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="How many results.")] = 5,
    mode: Annotated[str | None, typer.Option(help="hybrid, dense or bm25.")] = None,
    queries: Annotated[
        Path | None, typer.Option(help="JSONL file of queries (`_id`, `text`) to run as a batch.")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="Batch output: trec or jsonl.")] = "trec",
    source: SourceOption = None,
    tag: TagOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hybrid search over the index; with --queries, a batch run in TREC format."""
    if mode not in (None, "hybrid", "dense", "bm25"):
        raise TandemError(f"--mode must be hybrid, dense or bm25, not {mode!r}")
    bot = open_tandem(index, config)
    filters = search_filters(source, tag)
    if queries is not None:
        from tandem.cli.batch import run_queries

        run_queries(bot, queries, k, output_format, filters, mode)
        return
    if query is None:
        raise TandemError("give a QUERY, or --queries FILE.jsonl for a batch")
    passages = bot.search(query, k, filters, mode)
    if as_json:
        console.print_json(data=[p.to_dict() for p in passages])
    else:
        show_passages(passages)


def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: IndexOption = None,
    source: SourceOption = None,
    tag: TagOption = None,
    router: RouterOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show the evidence units the selector scored, best first.")
    ] = False,
) -> None:
    """Answer from the documents, citing the passages used (or say they don't cover it)."""
    bot = open_tandem(index, config, router=router)
    print_answer(bot, question, search_filters(source, tag), as_json, explain)


def print_answer(
    bot: Tandem,
    question: str,
    filters: SearchFilters | None,
    as_json: bool,
    explain: bool = False,
    conversation_id: str | None = None,
) -> None:
    """Stream the verified sentences to the terminal, then the sources (or the whole answer as JSON);
    `conversation_id`: the stored conversation this question continues."""
    if as_json:
        console.print_json(data=bot.ask(question, filters, conversation_id=conversation_id).to_dict())
        return
    answer = None
    for event in bot.ask_stream(question, filters, conversation_id=conversation_id):
        if event.kind == "sentence":
            console.print(event.text, end=" ", markup=False)
        answer = event.answer or answer
    console.print()
    assert answer is not None  # without a `cancel` event the stream always ends with the answer
    show_sources(answer)
    if explain:
        show_units(answer)
