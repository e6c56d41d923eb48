"""Tandem: grounded, cited answers from your own documents, offline."""

__version__ = "0.1.0"

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
