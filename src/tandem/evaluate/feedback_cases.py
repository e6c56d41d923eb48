"""Turn feedback into evaluation cases: every thumbs-down becomes a question to re-test."""

from __future__ import annotations

from tandem.errors import InputError
from tandem.storage import FeedbackStore
from tandem.trace.store import TraceStore


def feedback_cases(feedback: FeedbackStore, traces: TraceStore, negative_only: bool = True) -> list[dict]:
    """Eval-set rows (the `tandem eval` question format) from stored feedback, newest first.

    The question comes from the feedback or, failing that, from its trace (PII already masked
    there); the docs the answer cited are listed for a reviewer, who adds `expected_docs` and a
    `reference` before the case is used to score.
    """
    cases = []
    for row in feedback.list(limit=100_000):
        if negative_only and row["rating"] >= 0:
            continue
        trace: dict = {}
        if row["trace_id"]:
            try:
                trace = traces.get(row["trace_id"])
            except InputError:
                trace = {}
        question = row["question"] or trace.get("question", "")
        if not question:
            continue
        cases.append(
            {
                "id": f"feedback-{row['id'][:12]}",
                "question": question,
                "answerable": True,
                "expected_docs": [],
                "feedback": {
                    "rating": row["rating"],
                    "comment": row["comment"],
                    "answer": row["answer"] or trace.get("answer", ""),
                    "cited_docs": sorted({c["doc_id"] for c in trace.get("citations", [])}),
                    "trace_id": row["trace_id"],
                    "created": row["created"],
                },
            }
        )
    return cases
