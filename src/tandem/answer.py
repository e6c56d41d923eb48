"""What `ask` returns: the answer text, its citations, the passages, and how it was made."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from tandem.retrieve.passage import Passage

if TYPE_CHECKING:
    from tandem.guard.input_guard import GuardRecord
    from tandem.route.policy import RouteRecord

ABSTAIN_TEXT = "The documentation doesn't cover this."


@dataclass(frozen=True)
class Citation:
    """[number] in the answer text -> the chunk that backs the sentence it ends."""

    number: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    heading_path: tuple[str, ...]
    page: int | None
    start: int
    end: int
    sentence: str
    support: float
    evidence: str = ""  # the passage sentence that backs `sentence` (verbatim from the chunk)
    span_start: int | None = None  # where `evidence` starts in the chunk's text, when known exactly
    span_end: int | None = None

    @classmethod
    def of(
        cls,
        number: int,
        passage: Passage,
        sentence: str,
        support: float,
        evidence: str = "",
        span: tuple[int, int] | None = None,
    ) -> Citation:
        c = passage.chunk
        return cls(
            number,
            c.chunk_id,
            c.doc_id,
            c.source,
            c.title,
            c.heading_path,
            c.page,
            c.start,
            c.end,
            sentence,
            round(support, 4),
            evidence,
            span[0] if span else None,
            span[1] if span else None,
        )

    @property
    def location(self) -> str:
        """Source (relative to the working folder when inside it), page, title and headings."""
        source = self.source
        with contextlib.suppress(ValueError):
            source = str(Path(source).resolve().relative_to(Path.cwd()))
        where = " > ".join(p for p in (self.title, *self.heading_path) if p)
        page = f", page {self.page}" if self.page else ""
        return f"{source}{page} ({where})" if where else f"{source}{page}"


class Diagnostics(TypedDict, total=False):
    """How an answer was reached; each path through the answer flow fills the keys it computes."""

    retrieval_confidence: float  # the best dense score of the retrieved passages
    resolved_question: str  # a follow-up turn as searched, made standalone from the conversation
    answered_as_asked: bool  # ...whose standalone form found no answer, answered as the customer asked it
    units: list[dict[str, Any]]  # the selector's top units, best first
    selector_threshold: float
    extractive_candidates: list[dict[str, Any]]  # the closest sentence's similarity per passage
    sentences: list[dict[str, Any]]  # each drafted sentence: support, kept or why not
    prompt_tokens: int
    completion_tokens: int
    decode_tokens_per_s: float
    model_declined: bool
    redacted_unsourced_pii: list[str]  # kinds of personal data the model invented, masked


@dataclass
class Answer:
    """A grounded answer; `abstained` is True when the documents did not support one."""

    question: str
    text: str
    citations: list[Citation]
    passages: list[Passage]
    abstained: bool
    reason: str
    mode: str
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str | int] = field(default_factory=dict)
    draft: str = ""
    diagnostics: Diagnostics = field(default_factory=lambda: Diagnostics())
    route: RouteRecord | None = None
    ticket: str | None = None
    guard: GuardRecord | None = None
    trace_id: str | None = None
    conversation_id: str | None = None
    turn: int | None = None  # the turn's number in its stored conversation (from 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "reason": self.reason,
            "mode": self.mode,
            "citations": [{**asdict(c), "heading_path": list(c.heading_path)} for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v, 2) for k, v in self.timings.items()},
            "versions": self.versions,
            "draft": self.draft,
            "diagnostics": self.diagnostics,
            "route": self.route,
            "ticket": self.ticket,
            "guard": self.guard,
            "trace_id": self.trace_id,
            "conversation_id": self.conversation_id,
            "turn": self.turn,
        }
