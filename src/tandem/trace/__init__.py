"""Provenance traces: what every answer was built from, stage by stage, stored for later reading."""

from tandem.trace.spans import Span, Tracer
from tandem.trace.store import TraceStore

__all__ = ["Span", "TraceStore", "Tracer"]
