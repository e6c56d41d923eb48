"""A retrieved chunk with the scores that ranked it: what answers, prompts and citations carry."""

from __future__ import annotations

from dataclasses import dataclass

from tandem.documents.models import Chunk


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with every score that ranked it."""

    chunk: Chunk
    rank: int
    score: float
    dense_score: float
    lexical_score: float
    dense_rank: int | None
    lexical_rank: int | None

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "rank": self.rank,
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "source": c.source,
            "title": c.title,
            "heading_path": list(c.heading_path),
            "page": c.page,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "score": round(self.score, 6),
            "dense_score": round(self.dense_score, 6),
            "lexical_score": round(self.lexical_score, 6),
            "dense_rank": self.dense_rank,
            "lexical_rank": self.lexical_rank,
        }
