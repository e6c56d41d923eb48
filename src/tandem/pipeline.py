"""`Tandem`: the library API that the CLI (and later the server) call.

>>> from tandem import Tandem
>>> bot = Tandem("tandem-index")                 # cheap: nothing loads until first use
>>> answer = bot.ask("How long do refunds take?")  # doctest: +SKIP
>>> answer.text, [c.source for c in answer.citations]  # doctest: +SKIP
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tandem.answer import ABSTAIN_TEXT, Answer, Citation
from tandem.config import Settings
from tandem.documents.chunking import Chunker
from tandem.encode import Encoder, load_encoder, resolve_encoder
from tandem.encode.model_files import BUNDLED_ENCODER, BUNDLED_ENCODER_ID
from tandem.errors import IndexError_, InputError
from tandem.generate.base import GenerationStats, Generator, load_generator
from tandem.generate.prompt import ANSWER_GRAMMAR, PROMPT_VERSION, build_messages
from tandem.guard.corpus_guard import CorpusGuard
from tandem.guard.input_guard import GuardFinding, GuardReport, InputGuard
from tandem.guard.output_guard import redact_unsourced_pii
from tandem.guard.policy import ContentPolicy
from tandem.index.layout import IndexLayout
from tandem.index.snapshot import IndexSnapshot, SearchFilters
from tandem.index.vector_store import VectorStoreConfig
from tandem.ingest import Ingestor, IngestReport
from tandem.prepare import DocumentProcessor
from tandem.retrieve import HybridRetriever, Passage
from tandem.route.config import Policy
from tandem.route.policy import RoutingDecision
from tandem.route.router import Router
from tandem.route.tickets import TicketStore
from tandem.select.compose import chosen_units, evidence_passages, quoted_answer
from tandem.select.features import question_type
from tandem.select.model import SelectorModel
from tandem.select.selector import EvidenceSelector, Selection
from tandem.storage.open import open_store
from tandem.trace.otel import OtlpExporter
from tandem.trace.record import build_trace
from tandem.trace.spans import Tracer
from tandem.trace.store import TraceStore
from tandem.verify.draft import MODEL_DECLINED, DraftVerifier
from tandem.verify.support import SupportJudge

QUOTED_NO_GENERATOR = "none (quoted)"  # versions["generator"] of an answer no model wrote
_SENTENCE_DONE = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n")


@dataclass(frozen=True)
class AnswerEvent:
    """Streamed by `ask_stream`: verified sentences as they are ready, then the full answer."""

    kind: str  # "sentence" | "answer"
    text: str = ""
    answer: Answer | None = None


class Tandem:
    """Grounded question answering over one index folder."""

    def __init__(self, index_dir: str | Path | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        if index_dir is not None:
            self.settings = self.settings.model_copy(update={"index_dir": Path(index_dir)})
        self.layout = IndexLayout(self.settings.index_dir)
        self._encoder: Encoder | None = None
        self._generator: Generator | None = None
        self._snapshot: IndexSnapshot | None = None
        self._snapshot_name = ""
        self._router: Router | None = None
        self._input_guard: InputGuard | None = None
        self._guard_encoder: Encoder | None = None
        self._content_policy: ContentPolicy | None = None
        self._otlp: OtlpExporter | None = None
        self._selector: EvidenceSelector | None = None
        self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-route")

    # -- components, loaded on first use -------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            s = self.settings
            self._encoder = load_encoder(s.encoder, s.encoder_backend, s.encoder_threads)
        return self._encoder

    @property
    def generator(self) -> Generator:
        """llama.cpp in this process, or an OpenAI-compatible server when `generator_url` is set."""
        if self._generator is None:
            self._generator = load_generator(self.settings)
        return self._generator

    @property
    def snapshot(self) -> IndexSnapshot:
        """The current index version; reopened when an ingest publishes a newer one."""
        name = self.layout.current_name()
        if self._snapshot is None or name != self._snapshot_name:
            snapshot = IndexSnapshot(self.layout.versions / name, self.vector_store)
            built = snapshot.manifest.encoder
            configured = resolve_encoder(self.settings.encoder).model_id
            if built.model_id != configured:
                snapshot.close()
                raise IndexError_(
                    f"index {self.layout.root} was built with encoder {built.model_id}, but "
                    f"{configured} is configured; re-index with `tandem ingest PATH --index NEW_DIR` "
                    f"or set TANDEM_ENCODER to the encoder the index was built with"
                )
            if self._snapshot is not None:
                self._snapshot.close()
            self._snapshot, self._snapshot_name = snapshot, name
        return self._snapshot

    @property
    def router(self) -> Router | None:
        """The configured router (`settings.router`), or None: every message is answered."""
        if self._router is None and self.settings.router is not None:
            self._router = Router.from_config(self.settings.router, encoder=self.encoder)
        return self._router

    @property
    def selector(self) -> EvidenceSelector:
        """The evidence selector: which unit of the passages answers the question, if any."""
        if self._selector is None:
            path = self.settings.selector_model
            self._selector = EvidenceSelector(
                self.encoder, SelectorModel.load(path) if path else SelectorModel.load()
            )
        return self._selector

    @property
    def guard_encoder(self) -> Encoder:
        """The guards' classifier was trained on the bundled encoder: share it, or load it beside."""
        if self.encoder.model_id == BUNDLED_ENCODER_ID:
            return self.encoder
        if self._guard_encoder is None:
            self._guard_encoder = load_encoder(BUNDLED_ENCODER, "onnx-int8", 1)
        return self._guard_encoder

    @property
    def input_guard(self) -> InputGuard:
        """Injection rules + classifier and PII redaction for incoming questions."""
        if self._input_guard is None:
            s = self.settings
            self._input_guard = InputGuard(
                self.guard_encoder,
                s.max_question_chars,
                s.injection_threshold,
                long_injection_threshold=s.injection_long_threshold,
            )
        return self._input_guard

    @property
    def content_policy(self) -> ContentPolicy | None:
        """Topics and patterns to refuse or hand off (`settings.guard_policy`), or None."""
        if self._content_policy is None and self.settings.guard_policy is not None:
            self._content_policy = ContentPolicy.load(self.settings.guard_policy, self.encoder)
        return self._content_policy

    @property
    def tickets(self) -> TicketStore:
        """Handoff tickets in the main store: `store_url`, else tandem.sqlite in `data_dir`."""
        return TicketStore(open_store(self.settings, "main"))

    @property
    def vector_store(self) -> VectorStoreConfig:
        """Where new index versions keep their vectors (`vector_store`, `milvus_uri`, `milvus_token`)."""
        s = self.settings
        token = s.milvus_token.get_secret_value() if s.milvus_token is not None else None
        return VectorStoreConfig(s.vector_store, s.milvus_uri, token)

    def retriever(self) -> HybridRetriever:
        s = self.settings
        return HybridRetriever(
            self.snapshot, self.encoder, s.search_mode, s.fusion, s.dense_weight, s.coverage_weight
        )

    # -- operations ---------------------------------------------------------------------------
    def ingest(
        self,
        paths: list[Path],
        tags: tuple[str, ...] = (),
        show_progress: bool = False,
        ray: str | None = None,
    ) -> IngestReport:
        """Add `paths` as a new index version. `ray` ("local", "auto", "ray://HOST:10001") parses,
        chunks and embeds on Ray workers (`tandem.ingest_ray`); this process still writes the index."""
        if ray is not None:
            from tandem.ingest_ray import ray_processor

            with ray_processor(ray, self.settings, lambda: self.encoder) as processor:
                return self._ingestor(processor).ingest(paths, tags, show_progress)
        return self._ingestor().ingest(paths, tags, show_progress)

    def _ingestor(self, processor: DocumentProcessor | None = None) -> Ingestor:
        s = self.settings
        chunker = Chunker(self.encoder, s.chunk_tokens, s.chunk_overlap)
        scan_here = s.corpus_guard != "off" and processor is None
        guard = CorpusGuard(self.guard_encoder) if scan_here else None
        return Ingestor(
            s.index_dir,
            self.encoder,
            chunker,
            s.keep_versions,
            s.encode_batch_size,
            s.sentence_vectors,
            guard,
            quarantine=s.corpus_guard == "quarantine",
            vector_store=self.vector_store,
            processor=processor,
        )

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: SearchFilters | None = None,
        mode: str | None = None,
    ) -> list[Passage]:
        query = self.validate_question(query)
        return self.retriever().search(query, k or self.settings.top_k, filters, mode).passages

    def ask(self, question: str, filters: SearchFilters | None = None) -> Answer:
        answer = None
        for event in self.ask_stream(question, filters):
            answer = event.answer or answer
        assert answer is not None
        return answer

    def ask_stream(
        self,
        question: str,
        filters: SearchFilters | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[AnswerEvent]:
        """Retrieve, generate, verify each sentence as it completes, then yield the Answer (traced).

        Setting `cancel` (e.g. when an HTTP client disconnects) stops generation at the next token;
        the stream then ends without an answer.
        """
        tracer = Tracer()
        for event in self._answer_events(question, filters, tracer, cancel):
            if event.answer is not None and self.settings.trace:
                trace = build_trace(event.answer, tracer)
                event.answer.trace_id = self.traces.add(trace)
                if self.otlp is not None:
                    self.otlp.export(trace)
            yield event

    @property
    def otlp(self) -> OtlpExporter | None:
        """The OpenTelemetry exporter when `otlp_endpoint` is set."""
        if self._otlp is None and self.settings.otlp_endpoint:
            self._otlp = OtlpExporter(self.settings.otlp_endpoint)
        return self._otlp

    @property
    def traces(self) -> TraceStore:
        """Where every answer's trace goes: `trace_url`, `store_url`, else traces.sqlite beside the index."""
        return TraceStore(open_store(self.settings, "traces"))

    def _answer_events(
        self,
        question: str,
        filters: SearchFilters | None,
        tracer: Tracer,
        cancel: threading.Event | None = None,
    ) -> Iterator[AnswerEvent]:
        started = tracer.origin
        question = self.validate_question(question)
        s = self.settings
        guarded = None
        if s.input_guard:
            with tracer.span("guard") as attributes:
                guarded = self.input_guard.check(question)
                attributes.update(blocked=guarded.blocked, fired=[f.guard for f in guarded.findings])
        if guarded is not None and guarded.blocked:
            answer = self._blocked(question, guarded, started)
            yield AnswerEvent("sentence", answer.text)
            yield AnswerEvent("answer", answer=answer)
            return
        router = self.router

        def route() -> RoutingDecision:
            with tracer.span("route") as attributes:
                decision = router.classify(question)  # type: ignore[union-attr]
                attributes.update(action=decision.action, labels=decision.labels())
            return decision

        routing: Future[RoutingDecision] | None = self._side.submit(route) if router is not None else None
        with tracer.span("retrieve", k=s.top_k, mode=s.search_mode) as attributes:
            retrieve_start = tracer.now_ms()
            result = self.retriever().search(question, s.top_k, filters)
            attributes["chunk_ids"] = [p.chunk.chunk_id for p in result.passages]
        tracer.children_in_sequence(
            "retrieve", retrieve_start, {k.removesuffix("_ms"): v for k, v in result.timings.items()}
        )
        passages = result.passages
        timings = dict(result.timings)
        timings["retrieve_ms"] = (time.perf_counter() - started) * 1000
        decision = routing.result() if routing is not None else None
        versions: dict[str, str | int] = {
            "index_version": self.snapshot.version,
            "encoder": f"{self.encoder.model_id} ({self.encoder.backend})",
            "prompt": PROMPT_VERSION,
        }
        confidence = max((p.dense_score for p in passages), default=0.0)
        diagnostics: dict = {"retrieval_confidence": round(confidence, 4)}

        def finish(text: str, citations: list[Citation], reason: str, mode: str, draft: str = "") -> Answer:
            timings["total_ms"] = (time.perf_counter() - started) * 1000
            return Answer(
                question,
                text,
                citations,
                passages,
                not citations,
                reason,
                mode,
                timings,
                versions,
                draft,
                diagnostics,
                decision.to_dict() if decision else None,
                None,
                guarded.to_dict() if guarded else None,
            )

        if guarded is not None:
            timings["guard_ms"] = guarded.elapsed_ms
        if decision is not None:
            timings["route_ms"] = decision.seconds * 1000
        if self.content_policy is not None:
            with tracer.span("policy") as attributes:
                labels = decision.labels() if decision else None
                hit = self.content_policy.check(question, labels, result.query_vector)
                attributes["hit"] = hit.to_dict() if hit else None
            if hit is not None:
                decision = RoutingDecision(
                    hit.action,
                    decision.predictions if decision else {},
                    [f"guard policy {hit.kind} {hit.rule!r} ({hit.score:.2f})"],
                    message=hit.message,
                )
                if guarded is not None:
                    guarded.findings.append(
                        GuardFinding("policy", hit.rule, hit.score, hit.action, f"{hit.kind} matched")
                    )
        if decision is not None and not decision.answers:
            answer = self._route_reply(question, decision, finish)
            yield AnswerEvent("sentence", answer.text)
            yield AnswerEvent("answer", answer=answer)
            return

        if not passages or confidence < s.min_retrieval_score:
            answer = finish(ABSTAIN_TEXT, [], "low_retrieval_confidence", "abstained")
            yield AnswerEvent("sentence", answer.text)
            yield AnswerEvent("answer", answer=answer)
            return

        selected = None
        if s.answer_selector:
            selection = self._select(question, result.query_vector, passages, tracer, diagnostics, versions)
            timings["select_ms"] = selection.elapsed_ms
            if not selection.answers:
                answer = finish(ABSTAIN_TEXT, [], "no_answering_evidence", "abstained")
                yield AnswerEvent("sentence", answer.text)
                yield AnswerEvent("answer", answer=answer)
                return
            steps = question_type(question) == "steps"
            selected = chosen_units(selection, s.evidence_units, steps)
            if s.prefer_quotes:
                versions["generator"] = QUOTED_NO_GENERATOR
                text, citations = quoted_answer(selected, passages)
                answer = finish(text, citations, "selected", "extractive")
                yield AnswerEvent("sentence", answer.text)
                yield AnswerEvent("answer", answer=answer)
                return
            passages_for_prompt = evidence_passages(selected, passages)
        else:
            passages_for_prompt = passages[: s.prompt_passages]

        verify_started = time.perf_counter()
        checked = (
            passages[: max(s.prompt_passages, s.extractive_passages)]
            if selected is None
            else passages_for_prompt
        )
        with tracer.span("verify_prepare", passages=len(checked)):
            prepared = SupportJudge(self.encoder).prepare([p.chunk.text for p in checked])
        timings["verify_ms"] = (time.perf_counter() - verify_started) * 1000
        diagnostics["extractive_candidates"] = [
            {"doc": checked[i].chunk.doc_id, "similarity": round(similarity, 4)}
            for i, similarity in enumerate(prepared.best_per_passage(result.query_vector))
        ]
        closest = prepared.best_sentence(result.query_vector, s.extractive_passages)
        quoted = None
        if s.prefer_quotes and selected is None:
            with tracer.span("quote") as attributes:
                quoted = self._quote(closest, passages, finish, "quoted")
                attributes.update(
                    quoted=quoted is not None,
                    similarity=round(closest[2], 4),
                    threshold=s.min_extractive_similarity,
                )
        if quoted is not None:
            versions["generator"] = QUOTED_NO_GENERATOR
            yield AnswerEvent("sentence", quoted.text)
            yield AnswerEvent("answer", answer=quoted)
            return
        versions["generator"] = self.generator.model_id
        stats = GenerationStats()
        messages = build_messages(question, passages_for_prompt)
        verifier = DraftVerifier(question, result.query_vector, prepared, checked, self.encoder, s)
        kept: list[str] = []
        sources = [question, *(p.chunk.text for p in checked)]
        draft, pending = "", ""
        generate_start = tracer.now_ms()
        pieces = self.generator.stream(messages, s.max_answer_tokens, stats, ANSWER_GRAMMAR)
        for piece in pieces:
            if cancel is not None and cancel.is_set():
                pieces.close()  # type: ignore[attr-defined]
                return
            draft += piece
            pending += piece
            while (match := _SENTENCE_DONE.search(pending)) is not None:
                sentence, pending = pending[: match.end()].strip(), pending[match.end() :]
                if emitted := verifier.check(sentence):
                    emitted = self._without_invented_pii(emitted, sources, diagnostics)
                    kept.append(emitted)
                    yield AnswerEvent("sentence", emitted)
        if pending.strip() and (emitted := verifier.check(pending.strip())):
            emitted = self._without_invented_pii(emitted, sources, diagnostics)
            kept.append(emitted)
            yield AnswerEvent("sentence", emitted)
        timings["verify_ms"] += verifier.elapsed_ms
        timings["generate_ms"] = stats.total_ms
        tracer.add(
            "generate", generate_start, tracer.now_ms(), None,
            model=self.generator.model_id, prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens, verify_ms=round(verifier.elapsed_ms, 3),
        )  # fmt: skip
        first_token = generate_start + stats.first_token_ms
        tracer.add("prefill", generate_start, first_token, "generate")
        tracer.add("decode", first_token, generate_start + stats.total_ms, "generate")
        timings["first_token_ms"] = stats.first_token_ms
        diagnostics.update(
            sentences=verifier.log,
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            decode_tokens_per_s=round(stats.decode_tokens_per_s, 1),
            model_declined=bool(MODEL_DECLINED.search(draft)),
        )
        if kept:
            answer = finish(" ".join(kept), verifier.citations, "supported", "generated", draft)
        elif selected:
            text, citations = quoted_answer(selected, passages)
            answer = finish(text, citations, "extractive_fallback", "extractive", draft)
            yield AnswerEvent("sentence", answer.text)
        else:
            answer = self._quote(closest, passages, finish, "extractive_fallback", draft) or finish(
                ABSTAIN_TEXT, [], "unsupported_draft", "abstained", draft
            )
            yield AnswerEvent("sentence", answer.text)
        yield AnswerEvent("answer", answer=answer)

    # -- steps --------------------------------------------------------------------------------
    def _select(
        self,
        question: str,
        query_vector: np.ndarray,
        passages: list[Passage],
        tracer: Tracer,
        diagnostics: dict,
        versions: dict[str, str | int],
    ) -> Selection:
        """Score the units of the top passages; record the top units in the diagnostics and trace."""
        top = passages[: self.settings.selector_passages]
        with tracer.span("select", passages=len(top)) as attributes:
            scored = [(p.chunk.text, p.chunk.context_line, p.dense_score) for p in top]
            selection = self.selector.select(question, query_vector, scored, self.snapshot.lexical)
            if self.settings.selector_threshold is not None:
                selection = Selection(
                    selection.ranked, self.settings.selector_threshold, selection.elapsed_ms
                )
            best = selection.best
            attributes.update(
                units=len(selection.ranked),
                best=round(best.probability, 4) if best else None,
                threshold=round(selection.threshold, 4),
                answers=selection.answers,
            )
        versions["selector"] = self.selector.version
        diagnostics["units"] = [
            {**u.to_dict(), "chunk_id": top[u.passage_index].chunk.chunk_id} for u in selection.ranked[:5]
        ]
        diagnostics["selector_threshold"] = round(selection.threshold, 4)
        return selection

    def validate_question(self, question: str) -> str:
        """The question stripped, or an InputError when it is empty or over the size limit."""
        question = (question or "").strip()
        if not question:
            raise InputError('the question is empty; ask something, e.g. `tandem ask "How do refunds work?"`')
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InputError(
                f"the question is {len(question):,} characters long; the limit is {limit:,} "
                "(shorten it, or raise TANDEM_MAX_QUESTION_CHARS)"
            )
        return question

    @staticmethod
    def _without_invented_pii(sentence: str, sources: list[str], diagnostics: dict) -> str:
        """Mask personal data the model wrote that is in neither the question nor the passages."""
        cleaned, invented = redact_unsourced_pii(sentence, sources)
        if invented:
            diagnostics.setdefault("redacted_unsourced_pii", []).extend(m.kind for m in invented)
        return cleaned

    def _blocked(self, question: str, guarded: GuardReport, started: float) -> Answer:
        """The input guard stopped the question: no retrieval, no generation, the findings kept."""
        fired = sorted({f"{f.guard}:{f.kind}" for f in guarded.findings if f.action == "block"})
        timings = {"guard_ms": guarded.elapsed_ms, "total_ms": (time.perf_counter() - started) * 1000}
        reason = "blocked by " + ", ".join(fired)
        answer = Answer(question, self.settings.blocked_message, [], [], True, reason, "blocked", timings)
        answer.guard = guarded.to_dict()
        return answer

    def _route_reply(self, question: str, decision: RoutingDecision, finish) -> Answer:
        """A handoff (with a stored ticket) or a refusal instead of an answer."""
        from tandem.guard.pii import redact_pii

        policy = self.router.config.policy if self.router else Policy()
        ticket = None
        if decision.queue is not None:
            ticket = self.tickets.create(redact_pii(question)[0], decision)
            template = decision.message or policy.handoff_message
            mode, reason = "handoff", f"routed to {decision.queue}"
        else:
            template = decision.message or policy.refuse_message
            mode, reason = "refused", "refused by policy"
        text = template.replace("{queue}", decision.queue or "").replace("{ticket}", ticket or "")
        answer = finish(text, [], reason, mode)
        answer.ticket = ticket
        return answer

    def _quote(
        self, closest: tuple[int, str, float], passages, finish, reason: str, draft: str = ""
    ) -> Answer | None:
        """The passage sentence closest to the question (`PreparedPassages.best_sentence`), cited,
        when it is close enough; else None.

        With `prefer_quotes` this is the answer whenever it exists (no generation); otherwise it is
        the fallback when no generated sentence was supported.
        """
        index, sentence, similarity = closest
        if not sentence or similarity < self.settings.min_extractive_similarity:
            return None
        citation = Citation.of(1, passages[index], sentence, similarity, sentence)
        return finish(f"{sentence} [1]", [citation], reason, "extractive", draft)
