"""Turn an Answer and its spans into the trace that is stored (personal data already masked)."""

from __future__ import annotations

import time

from tandem.answer import Answer
from tandem.trace.spans import Tracer


def build_trace(answer: Answer, tracer: Tracer) -> dict:
    """Question (redacted when the guard ran), passages with scores and ranks, citations, spans."""
    question = answer.guard["text"] if answer.guard else answer.question
    return {
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
