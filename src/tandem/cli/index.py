"""`tandem index ...`: list index versions and roll back to one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tandem.cli.options import IndexOption
from tandem.cli.output import console

app = typer.Typer(help="Index versions: list them, roll back to one.", no_args_is_help=True)


def _root(index: Path | None) -> Path:
    from tandem.config import Settings

    return index or Settings.load().index_dir


@app.command("versions")
def versions(
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every version on disk (oldest first); * marks the one being served."""
    from tandem.index.versions import list_versions

    found = list_versions(_root(index))
    if as_json:
        print(json.dumps([v.to_dict() for v in found], indent=2))
        return
    for v in found:
        mark = "*" if v.current else " "
        parent = f"from {v.parent}" if v.parent else "first"
        console.print(
            f"{mark} {v.number:>4}  {v.created_at}  {v.documents:>6} docs  {v.chunks:>7} chunks  {parent}"
        )


@app.command("rollback")
def rollback(
    version: Annotated[str, typer.Argument(help="Version number, e.g. 3 (see `tandem index versions`).")],
    index: IndexOption = None,
) -> None:
    """Serve an earlier (or later) version again; the next ingest builds on it. Nothing is deleted."""
    from tandem.index.versions import rollback as roll_back

    info = roll_back(_root(index), version)
    console.print(f"Now serving version {info.number} ({info.documents} documents, {info.chunks} chunks).")
