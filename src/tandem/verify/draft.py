"""Checks a streamed draft sentence by sentence: keep and cite what a passage backs, drop the rest."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from tandem.answer import Citation
from tandem.config import Settings
from tandem.encode import Encoder
from tandem.retrieve.passage import Passage
from tandem.verify.harm import harmful_instruction
from tandem.verify.support import PreparedPassages, restates, strip_citation_marks, strip_lead_in

MODEL_DECLINED = re.compile(
    r"doesn'?t cover|does not cover|not (?:mentioned|covered|provided|specified|stated)|"
    r"no information|cannot answer|can'?t answer",
    re.IGNORECASE,
)
_LIST_MARKER = re.compile(r"\(?\d{1,2}[.)]")


@dataclass
class DraftVerifier:
    """Verifies the sentences of one draft against the passages the model was shown.

    `citations` and `log` accumulate over the draft; `elapsed_ms` is the time spent checking.
    """

    question: str
    query_vector: np.ndarray
    prepared: PreparedPassages
    passages: list[Passage]
    encoder: Encoder
    settings: Settings
    citations: list[Citation] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def check(self, sentence: str) -> str | None:
        """The sentence with its [n] citation if a passage supports it, else None."""
        started = time.perf_counter()
        try:
            return self._check(sentence)
        finally:
            self.elapsed_ms += (time.perf_counter() - started) * 1000

    def _rejection(self, clean: str) -> str:
        if not clean:
            return "empty"
        if MODEL_DECLINED.search(clean):
            return "declined"
        if clean.endswith("?"):
            return "question"
        if restates(clean, self.question):
            return "restates the question"
        return ""

    def _check(self, sentence: str) -> str | None:
        clean = strip_lead_in(strip_citation_marks(sentence)[0])
        if _LIST_MARKER.fullmatch(clean):
            return None
        rejected = self._rejection(clean)
        if rejected:
            self.log.append({"sentence": clean, "support": 0.0, "kept": False, "rejected": rejected})
            return None
        s = self.settings
        vector = self.encoder.encode([clean])  # encoded once: for support and for relevance
        row = self.prepared.score([clean], vector)[0][: s.prompt_passages]
        best = max(row, key=lambda support: support.score)
        relevance = float(vector[0] @ self.query_vector)
        passage = self.passages[best.passage_index]
        if harm := harmful_instruction(clean, passage.chunk.text):
            self.log.append({"sentence": clean, "support": 0.0, "kept": False, "rejected": harm})
            return None
        kept = (
            best.score >= s.min_support
            and best.lexical >= s.min_lexical_support
            and best.numbers_ok
            and relevance >= s.min_answer_relevance
        )
        self.log.append(
            {
                "sentence": clean,
                "support": round(best.score, 4),
                "semantic": round(best.semantic, 4),
                "lexical": round(best.lexical, 4),
                "numbers_ok": best.numbers_ok,
                "relevance": round(relevance, 4),
                "passage": passage.chunk.chunk_id,
                "doc": passage.chunk.doc_id,
                "kept": kept,
            }
        )
        if not kept:
            return None
        number = next(
            (c.number for c in self.citations if c.chunk_id == passage.chunk.chunk_id),
            len({c.chunk_id for c in self.citations}) + 1,
        )
        self.citations.append(Citation.of(number, passage, clean, best.score, best.evidence))
        return f"{clean.rstrip()} [{number}]"
