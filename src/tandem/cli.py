"""The `tandem` command: a thin layer over the library (`tandem.Tandem`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tandem.cli_output import console, errors, show_passages, show_report, show_sources, show_units
from tandem.config import Settings
from tandem.errors import TandemError
from tandem.index.snapshot import SearchFilters

app = typer.Typer(
    help="Tandem: grounded, cited answers from your own documents, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

IndexOption = Annotated[
    Path | None,
    typer.Option("--index", "-i", help="Index folder (default: $TANDEM_INDEX_DIR or ./tandem-index)."),
]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML settings file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SourceOption = Annotated[
    list[str] | None,
    typer.Option("--source", help="Only documents whose id or path matches this glob."),
]
TagOption = Annotated[list[str] | None, typer.Option("--tag", help="Only documents with this tag.")]


def _tandem(index: Path | None, config: Path | None, **overrides: object):
    from tandem.pipeline import Tandem

    return Tandem(index, Settings.load(config, **overrides))


def _filters(source: list[str] | None, tag: list[str] | None) -> SearchFilters | None:
    filters = SearchFilters(tuple(source or ()), tuple(tag or ()))
    return filters or None


@app.command()
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
    bot = _tandem(index, config)
    progress = not as_json and sys.stderr.isatty()
    report = bot.ingest(paths, tuple(tag or ()), show_progress=progress, ray=ray)
    if as_json:
        console.print_json(data={**report.__dict__, "ok": report.ok})
    else:
        show_report(report, str(bot.settings.index_dir))
    if not report.ok:
        errors.print("[red]error:[/] nothing could be ingested")
        raise typer.Exit(1)


@app.command()
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
    bot = _tandem(index, config)
    filters = _filters(source, tag)
    if queries is not None:
        from tandem.batch import run_queries

        run_queries(bot, queries, k, output_format, filters, mode)
        return
    if query is None:
        raise TandemError("give a QUERY, or --queries FILE.jsonl for a batch")
    passages = bot.search(query, k, filters, mode)
    if as_json:
        console.print_json(data=[p.to_dict() for p in passages])
    else:
        show_passages(passages)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: IndexOption = None,
    source: SourceOption = None,
    tag: TagOption = None,
    router: Annotated[
        Path | None,
        typer.Option("--router", help="Route first: a router folder or TOML (default: $TANDEM_ROUTER)."),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show the evidence units the selector scored, best first.")
    ] = False,
) -> None:
    """Answer from the documents, citing the passages used (or say they don't cover it)."""
    bot = _tandem(index, config, router=router)
    _answer(bot, question, _filters(source, tag), as_json, explain)


def _answer(bot, question: str, filters: SearchFilters | None, as_json: bool, explain: bool = False) -> None:
    if as_json:
        console.print_json(data=bot.ask(question, filters).to_dict())
        return
    answer = None
    for event in bot.ask_stream(question, filters):
        if event.kind == "sentence":
            console.print(event.text, end=" ", markup=False)
        answer = event.answer or answer
    console.print()
    show_sources(answer)
    if explain:
        show_units(answer)


@app.command()
def demo(
    question: Annotated[
        str | None,
        typer.Option("--question", "-q", help="Ask this instead of the sample question."),
    ] = None,
    chat: Annotated[
        bool,
        typer.Option(help="Open an interactive chat after the sample answer (when on a terminal)."),
    ] = True,
    config: ConfigOption = None,
) -> None:
    """Ingest the bundled demo knowledge base, answer a sample question, then chat."""
    from tandem.demo import demo_index_dir, demo_kb_root
    from tandem.pipeline import Tandem

    settings = Settings.load(config)
    bot = Tandem(demo_index_dir(), settings)
    docs = demo_kb_root() / "docs"
    console.print(f"[bold]Tandem demo[/]: ingesting {docs} into {demo_index_dir()}")
    show_report(bot.ingest([docs], show_progress=sys.stderr.isatty()), str(demo_index_dir()))
    sample = question or "How long do I have to return a bike for a refund?"
    console.print(f"\n[bold]Q:[/] {sample}\n[bold]A:[/] ", end="")
    _answer(bot, sample, None, as_json=False)
    if not (chat and sys.stdin.isatty()):
        return
    console.print("\nAsk about the fictional Pedalwise e-bikes (empty line or Ctrl-D to quit).")
    while True:
        try:
            line = console.input("[bold]Q:[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            break
        try:
            console.print("[bold]A:[/] ", end="")
            _answer(bot, line, None, as_json=False)
        except TandemError as exc:
            errors.print(f"[red]error:[/] {exc}")


from tandem.cli_eval import app as eval_app  # noqa: E402
from tandem.cli_feedback import app as feedback_app  # noqa: E402
from tandem.cli_guard import app as guard_app  # noqa: E402
from tandem.cli_index import app as index_app  # noqa: E402
from tandem.cli_route import app as route_app  # noqa: E402
from tandem.cli_serve import keys_app, serve  # noqa: E402
from tandem.cli_traces import app as traces_app  # noqa: E402

app.add_typer(route_app, name="route")
app.add_typer(guard_app, name="guard")
app.add_typer(traces_app, name="traces")
app.add_typer(keys_app, name="keys")
app.add_typer(index_app, name="index")
app.add_typer(feedback_app, name="feedback")
app.add_typer(eval_app, name="eval")
app.command()(serve)


def _bare_ray_is_local(args: list[str]) -> list[str]:
    """`--ray` with no address means a local Ray instance (Typer options have no optional values)."""
    last = len(args) - 1
    bare = [a == "--ray" and (i == last or args[i + 1].startswith("-")) for i, a in enumerate(args)]
    return ["--ray=local" if b else a for a, b in zip(args, bare, strict=True)]


def main() -> None:
    """Entry point: TandemErrors become one readable line and exit code 1."""
    try:
        app(args=_bare_ray_is_local(sys.argv[1:]))
    except TandemError as exc:
        errors.print(f"[red]error:[/] {exc}", markup=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
