"""The `tandem` command: `app.py` assembles one module per command group; `main` is the entry point."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    """`from tandem.cli import main` keeps working without importing the command groups eagerly."""
    if name == "main":
        return importlib.import_module("tandem.cli.app").main
    raise AttributeError(f"module 'tandem.cli' has no attribute {name!r}")
