"""Requests for a person found by meaning as well as by pattern.

The conversation policy's patterns ("talk to a human", "speak with a real person") miss wordings
nobody wrote down ("Is there someone on your end who can help me personally?"). The encoder finds
them by comparing the message with a few written requests and look-alikes (how to reach support,
other people, a request turned down): a message asks for a person when its closest example is a
request, at `threshold` cosine or more. The examples and the threshold ship in
`converse/data/person_requests.json`.

>>> detector = PersonRequestDetector(encoder)  # doctest: +SKIP
>>> detector.asks("Is there someone on your end who can help me personally?", patterns)  # doctest: +SKIP
True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources

from tandem.converse.escalation import asks_for_person
from tandem.encode import Encoder

EXAMPLES = resources.files("tandem.converse") / "data" / "person_requests.json"


class PersonRequestDetector:
    """Patterns first, then closeness in meaning to the shipped examples."""

    def __init__(self, encoder: Encoder, threshold: float | None = None) -> None:
        examples = json.loads(EXAMPLES.read_text("utf-8"))
        self.encoder = encoder
        self.threshold = float(examples["threshold"] if threshold is None else threshold)
        self.requests = encoder.encode(examples["requests"])
        self.look_alikes = encoder.encode(examples["look_alikes"])
        self._last: tuple[str, tuple[float, float]] | None = None

    def closeness(self, message: str) -> tuple[float, float]:
        """Cosine of the message to its closest request and to its closest look-alike. The last
        message's is kept: an abstained turn asks again whether its message wants a person."""
        last = self._last
        if last is not None and last[0] == message:
            return last[1]
        vector = self.encoder.encode([message])[0]
        found = float((self.requests @ vector).max()), float((self.look_alikes @ vector).max())
        self._last = (message, found)
        return found

    def asks(self, message: str, patterns: Sequence[str]) -> bool:
        """Whether `message` asks to be handed to a person."""
        if asks_for_person(message, patterns):
            return True
        request, look_alike = self.closeness(message)
        return request >= self.threshold and request > look_alike
