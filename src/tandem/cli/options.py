"""Options every command shares, and how a command opens `Tandem` from them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tandem.index.filters import SearchFilters

if TYPE_CHECKING:
    from tandem.config import Settings
    from tandem.pipeline import Tandem

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
RouterOption = Annotated[
    Path | None,
    typer.Option("--router", help="Route every question: a router folder or TOML (default: $TANDEM_ROUTER)."),
]


def load_settings(config: Path | None, **overrides: object) -> Settings:
    """The settings from `config` (and the environment) plus `overrides`; pydantic loads on first use."""
    from tandem.config import Settings

    return Settings.load(config, **overrides)


def open_tandem(index: Path | None, config: Path | None, **overrides: object) -> Tandem:
    """`Tandem` over `index` with the settings of `config` (and the environment), plus `overrides`."""
    from tandem.pipeline import Tandem

    return Tandem(index, load_settings(config, **overrides))


def search_filters(source: list[str] | None, tag: list[str] | None) -> SearchFilters | None:
    """The --source and --tag options as filters, or None when neither was given."""
    filters = SearchFilters(tuple(source or ()), tuple(tag or ()))
    return filters or None
