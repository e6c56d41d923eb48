"""Turn an Answer and its spans into the trace that is stored (personal data already masked)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TypedDict

from tandem.answer import Answer
from tandem.guard.pii import mask_pii
from tandem.trace.spans import Tracer

if TYPE_CHECKING:
    from tandem.route.policy import RouteRecord


class TraceRecord(TypedDict, total=False):
    """What is stored for one answer (`TraceStore.add`, `OtlpExporter.export`); `id` is set on storing."""

    id: str
    created: float
    question: str  # masked when the input guard ran
    answer: str
    mode: str
    reason: str
    abstained: bool
    retrieved: list[dict[str, Any]]  # each passage's ids, ranks and scores (no text)
    citations: list[dict[str, Any]]
    route: RouteRecord | None
    ticket: str | None
    guard: dict[str, Any] | None  # the guard record without the question text
    versions: dict[str, str | int]
    tokens: dict[str, int | None]
    timings_ms: dict[str, float]
    total_ms: float
    spans: list[dict[str, Any]]


def build_trace(answer: Answer, tracer: Tracer) -> TraceRecord:
    """Question (redacted when the guard ran), passages with scores and ranks, citations, spans."""
    question = answer.guard["text"] if answer.guard else mask_pii(answer.question)
    return {  # a TraceRecord
        "created": time.time(),
        "question": question,
        "answer": answer.text,
        "mode": answer.mode,
        "reason": answer.reason,
        "abstained": answer.abstained,
        "retrieved": [
            {
                key: value
                for key, value in p.to_dict().items()
                if key not in ("text", "title", "heading_path", "start", "end", "page")
            }
            for p in answer.passages
        ],
        "citations": [
            {
                "number": c.number,
                "chunk_id": c.chunk_id,
                "doc_id": c.doc_id,
                "sentence": c.sentence,
                "support": c.support,
            }
            for c in answer.citations
        ],
        "route": answer.route,
        "ticket": answer.ticket,
        "guard": {k: v for k, v in answer.guard.items() if k != "text"} if answer.guard else None,
        "versions": answer.versions,
        "tokens": {
            "prompt": answer.diagnostics.get("prompt_tokens"),
            "completion": answer.diagnostics.get("completion_tokens"),
        },
        "timings_ms": {k: round(v, 3) for k, v in answer.timings.items()},
        "total_ms": round(answer.timings.get("total_ms", tracer.now_ms()), 3),
        "spans": [span.to_dict() for span in sorted(tracer.spans, key=lambda s: s.start_ms)],
    }
