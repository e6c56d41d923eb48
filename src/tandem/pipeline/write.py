"""Quote or generate, then verify: the answer flow's last steps, after the evidence is selected.

The selected units are quoted word for word; without the selector (or with `prefer_quotes` off) the
decoder writes from the evidence and each sentence it writes is kept only when a passage supports it,
falling back to a quote, else to an abstention.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator

import numpy as np

from tandem.answer import ABSTAIN_TEXT, Answer, Citation, Diagnostics
from tandem.config import Settings
from tandem.generate.base import GenerationStats
from tandem.generate.prompt import ANSWER_GRAMMAR, build_messages
from tandem.pipeline.components import Components
from tandem.pipeline.events import AnswerEvent
from tandem.retrieve.hybrid import SearchResult
from tandem.retrieve.passage import Passage
from tandem.select.compose import evidence_passages, quoted_answer
from tandem.select.selector import ScoredUnit
from tandem.trace.spans import Tracer
from tandem.verify.draft import MODEL_DECLINED, DraftVerifier
from tandem.verify.quote import closest_quote
from tandem.verify.stream import StreamingVerification
from tandem.verify.support import PreparedPassages, SupportJudge

QUOTED_NO_GENERATOR = "none (quoted)"  # versions["generator"] of an answer no model wrote


class WriteSteps:
    """The writing steps of `AnswerFlow`, which provides the state below, `finish` and `single`."""

    parts: Components
    settings: Settings
    question: str
    result: SearchResult
    tracer: Tracer
    cancel: threading.Event | None
    timings: dict[str, float]
    versions: dict[str, str | int]
    diagnostics: Diagnostics

    @property
    def passages(self) -> list[Passage]:
        return self.result.passages

    @property
    def query_vector(self) -> np.ndarray:
        """The question's vector, from retrieval (which always encodes it)."""
        vector = self.result.query_vector
        assert vector is not None, "the question is encoded by retrieval, before any later step"
        return vector

    def finish(self, text: str, citations: list[Citation], reason: str, mode: str, draft: str = "") -> Answer:
        raise NotImplementedError  # AnswerFlow's

    def single(self, answer: Answer) -> Iterator[AnswerEvent]:
        raise NotImplementedError  # AnswerFlow's

    def quote_selected(self, selected: list[ScoredUnit], reason: str, draft: str = "") -> Answer:
        """The selected units quoted word for word, each cited with its exact span."""
        self.versions.setdefault("generator", QUOTED_NO_GENERATOR)
        text, citations = quoted_answer(selected, self.passages, self.question)
        return self.finish(text, citations, reason, "extractive", draft)

    def quote_closest(self, closest: tuple[int, str, float], reason: str, draft: str = "") -> Answer | None:
        """The passage sentence closest to the question, cited, when it is close enough."""
        quoted = closest_quote(closest, self.passages, self.settings.min_extractive_similarity)
        return self.finish(*quoted, reason, "extractive", draft) if quoted is not None else None

    def prepare_checks(self, checked: list[Passage]) -> PreparedPassages:
        """Split and encode the passages every answer sentence is checked against."""
        started = time.perf_counter()
        with self.tracer.span("verify_prepare", passages=len(checked)):
            prepared = SupportJudge(self.parts.encoder).prepare([p.chunk.text for p in checked])
        self.timings["verify_ms"] = (time.perf_counter() - started) * 1000
        self.diagnostics["extractive_candidates"] = [
            {"doc": checked[i].chunk.doc_id, "similarity": round(similarity, 4)}
            for i, similarity in enumerate(prepared.best_per_passage(self.query_vector))
        ]
        return prepared

    def generate_and_verify(self, selected: list[ScoredUnit] | None) -> Iterator[AnswerEvent]:
        """Quote the closest sentence (`prefer_quotes`, no selector), or let the decoder write from
        the evidence and keep the sentences a passage supports; fall back to a quote, else abstain."""
        s = self.settings
        if selected is None:
            shown = self.passages[: s.prompt_passages]
            checked = self.passages[: max(s.prompt_passages, s.extractive_passages)]
        else:
            shown = checked = evidence_passages(selected, self.passages)
        prepared = self.prepare_checks(checked)
        closest = prepared.best_sentence(self.query_vector, s.extractive_passages)
        if s.prefer_quotes and selected is None:
            with self.tracer.span("quote", threshold=s.min_extractive_similarity) as attributes:
                quoted = self.quote_closest(closest, "quoted")
                attributes.update(quoted=quoted is not None, similarity=round(closest[2], 4))
            if quoted is not None:
                self.versions["generator"] = QUOTED_NO_GENERATOR
                yield from self.single(quoted)
                return
        stream = yield from self.stream_verified(shown, checked, prepared)
        if stream.cancelled:
            return
        draft = stream.draft
        if stream.kept:
            answer = self.finish(
                " ".join(stream.kept), stream.verifier.citations, "supported", "generated", draft
            )
            yield AnswerEvent("answer", answer=answer)
            return
        if selected:
            yield from self.single(self.quote_selected(selected, "extractive_fallback", draft))
            return
        quoted = self.quote_closest(closest, "extractive_fallback", draft)
        yield from self.single(
            quoted or self.finish(ABSTAIN_TEXT, [], "unsupported_draft", "abstained", draft)
        )

    def stream_verified(
        self, shown: list[Passage], checked: list[Passage], prepared: PreparedPassages
    ) -> Generator[AnswerEvent, None, StreamingVerification]:
        """Generate from `shown`, yielding each sentence a passage of `checked` supports; returns the
        `StreamingVerification` with the draft and the kept sentences."""
        s, tracer, generator = self.settings, self.tracer, self.parts.generator
        self.versions["generator"] = generator.model_id
        stats = GenerationStats()
        verifier = DraftVerifier(self.question, self.query_vector, prepared, checked, self.parts.encoder, s)
        sources = [self.question, *(p.chunk.text for p in checked)]
        stream = StreamingVerification(verifier, sources, self.diagnostics, self.cancel)
        generate_start = tracer.now_ms()
        pieces = generator.stream(
            build_messages(self.question, shown), s.max_answer_tokens, stats, ANSWER_GRAMMAR
        )
        for sentence in stream.sentences(pieces):
            yield AnswerEvent("sentence", sentence)
        if stream.cancelled:
            return stream
        self.timings["verify_ms"] += verifier.elapsed_ms
        self.timings["generate_ms"] = stats.total_ms
        tracer.add(
            "generate", generate_start, tracer.now_ms(), None,
            model=generator.model_id, prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens, verify_ms=round(verifier.elapsed_ms, 3),
        )  # fmt: skip
        first_token = generate_start + stats.first_token_ms
        tracer.add("prefill", generate_start, first_token, "generate")
        tracer.add("decode", first_token, generate_start + stats.total_ms, "generate")
        self.timings["first_token_ms"] = stats.first_token_ms
        self.diagnostics.update(
            Diagnostics(
                sentences=verifier.log,
                prompt_tokens=stats.prompt_tokens,
                completion_tokens=stats.completion_tokens,
                decode_tokens_per_s=round(stats.decode_tokens_per_s, 1),
                model_declined=bool(MODEL_DECLINED.search(stream.draft)),
            )
        )
        return stream
