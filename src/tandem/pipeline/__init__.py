"""The answer flow composed from the steps: `Tandem` (tandem.py), its `Components`
(components.py) and the flow of one question (ask.py)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tandem.pipeline.ask import AnswerEvent
    from tandem.pipeline.components import Components
    from tandem.pipeline.tandem import Tandem

_NAMES = {
    "AnswerEvent": "tandem.pipeline.ask",
    "Components": "tandem.pipeline.components",
    "Tandem": "tandem.pipeline.tandem",
}
__all__ = ["AnswerEvent", "Components", "Tandem"]


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'tandem.pipeline' has no attribute {name!r}")
    return getattr(importlib.import_module(_NAMES[name]), name)
