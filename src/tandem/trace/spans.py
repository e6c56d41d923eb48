"""Spans: named stages with start and end (ms from the request's start), nested by parent name."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field


@dataclass
class Span:
    name: str
    start_ms: float
    end_ms: float
    parent: str | None = None
    attributes: dict = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms

    def to_dict(self) -> dict:
        return {**asdict(self), "start_ms": round(self.start_ms, 3), "end_ms": round(self.end_ms, 3)}


class Tracer:
    """Collects spans for one request; times are milliseconds since the tracer was created."""

    def __init__(self) -> None:
        self.origin = time.perf_counter()
        self.spans: list[Span] = []

    def now_ms(self) -> float:
        return (time.perf_counter() - self.origin) * 1000

    @contextmanager
    def span(self, name: str, parent: str | None = None, **attributes: object) -> Iterator[dict]:
        """Time the block; the yielded dict becomes the span's attributes (add to it inside)."""
        start = self.now_ms()
        values = dict(attributes)
        try:
            yield values
        finally:
            self.spans.append(Span(name, start, self.now_ms(), parent, values))

    def add(self, name: str, start_ms: float, end_ms: float, parent: str | None = None, **attributes) -> Span:
        span = Span(name, start_ms, end_ms, parent, dict(attributes))
        self.spans.append(span)
        return span

    def children_in_sequence(self, parent: str, start_ms: float, durations: dict[str, float]) -> None:
        """Child spans laid end to end from measured durations (e.g. dense, lexical, fusion)."""
        cursor = start_ms
        for name, duration in durations.items():
            self.add(name, cursor, cursor + duration, parent)
            cursor += duration
