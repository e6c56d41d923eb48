"""What the answer flow streams."""

from __future__ import annotations

from dataclasses import dataclass

from tandem.answer import Answer


@dataclass(frozen=True)
class AnswerEvent:
    """Streamed by `ask_stream`: verified sentences as they are ready, then the full answer."""

    kind: str  # "sentence" | "answer"
    text: str = ""
    answer: Answer | None = None
