"""The `tandem` command: a thin layer over the library (`tandem.Tandem`), one module per group."""

from __future__ import annotations

import sys

import typer

from tandem.cli import ask, chat, demo
from tandem.cli.chat import app as conversations_app
from tandem.cli.eval import app as eval_app
from tandem.cli.feedback import app as feedback_app
from tandem.cli.guard import app as guard_app
from tandem.cli.index import app as index_app
from tandem.cli.output import errors
from tandem.cli.route import app as route_app
from tandem.cli.serve import keys_app, serve
from tandem.cli.traces import app as traces_app
from tandem.errors import TandemError

app = typer.Typer(
    help="Tandem: grounded, cited answers from your own documents, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in (ask.ingest, ask.search, ask.ask, chat.chat, demo.demo):
    app.command()(command)
app.add_typer(route_app, name="route")
app.add_typer(guard_app, name="guard")
app.add_typer(traces_app, name="traces")
app.add_typer(keys_app, name="keys")
app.add_typer(index_app, name="index")
app.add_typer(feedback_app, name="feedback")
app.add_typer(eval_app, name="eval")
app.add_typer(conversations_app, name="conversations")
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
