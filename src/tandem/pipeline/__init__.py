"""The answer flow composed from the steps: `Tandem` (tandem.py), its `Components`
(components.py) and the flow of one question (ask.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.lazy import lazy_attributes

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


__getattr__ = lazy_attributes(__name__, _NAMES)
