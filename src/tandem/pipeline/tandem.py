"""`Tandem`: the library API that the CLI, the server and the evaluator call.

>>> from tandem import Tandem
>>> bot = Tandem("tandem-index")                 # cheap: nothing loads until first use
>>> answer = bot.ask("How long do refunds take?")  # doctest: +SKIP
>>> answer.text, [c.source for c in answer.citations]  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from tandem.answer import Answer
from tandem.config import Settings
from tandem.converse.escalation import EarlierTurn
from tandem.converse.session import LOCAL_OWNER, TurnLocks, earlier_turns, load
from tandem.documents.chunking import Chunker
from tandem.encode import Encoder
from tandem.generate.base import Generator
from tandem.guard.corpus_guard import CorpusGuard
from tandem.guard.input_guard import InputGuard
from tandem.guard.policy import ContentPolicy
from tandem.index.filters import SearchFilters
from tandem.index.layout import IndexLayout
from tandem.index.snapshot import IndexSnapshot
from tandem.index.vector_store import VectorStoreConfig
from tandem.ingest.ingestor import Ingestor, IngestReport
from tandem.ingest.prepare import DocumentProcessor
from tandem.pipeline.ask import AnswerEvent, AnswerFlow, validate_question
from tandem.pipeline.components import Components
from tandem.pipeline.conversation import conversation_policy, exchange_of, history_window
from tandem.retrieve.hybrid import HybridRetriever
from tandem.retrieve.passage import Passage
from tandem.route.router import Router
from tandem.route.tickets import TicketStore
from tandem.select.selector import EvidenceSelector
from tandem.select.unit_store import UnitVectorStep
from tandem.storage.conversations import ConversationStore
from tandem.trace.otel import OtlpExporter
from tandem.trace.record import build_trace
from tandem.trace.spans import Tracer
from tandem.trace.store import TraceStore

PRUNE_EVERY_S = 3600.0  # how often starting a conversation also removes expired ones


class Tandem:
    """Grounded question answering over one index folder.

    Every model loads on first use; pass `encoder`, `generator`, `router`, `selector`,
    `input_guard` or `content_policy` to use one already loaded. `warm_up()` loads them all now;
    `close()` (or leaving `with Tandem(...) as bot:`) releases the index and the routing thread.
    """

    def __init__(
        self,
        index_dir: str | Path | None = None,
        settings: Settings | None = None,
        *,
        encoder: Encoder | None = None,
        generator: Generator | None = None,
        router: Router | None = None,
        selector: EvidenceSelector | None = None,
        input_guard: InputGuard | None = None,
        content_policy: ContentPolicy | None = None,
    ) -> None:
        settings = settings or Settings.load()
        if index_dir is not None:
            settings = settings.model_copy(update={"index_dir": Path(index_dir)})
        self.settings = settings
        self.components = Components(
            settings,
            encoder=encoder,
            generator=generator,
            router=router,
            selector=selector,
            input_guard=input_guard,
            content_policy=content_policy,
        )
        self._side: ThreadPoolExecutor | None = None  # routes a question while it is retrieved
        self._turns = TurnLocks()  # one turn at a time per stored conversation
        self._pruned = -PRUNE_EVERY_S  # when expired conversations were last removed (monotonic)

    # -- the components (see `Components`) ------------------------------------------------------
    @property
    def layout(self) -> IndexLayout:
        return self.components.layout

    @property
    def encoder(self) -> Encoder:
        return self.components.encoder

    @property
    def generator(self) -> Generator:
        return self.components.generator

    @property
    def snapshot(self) -> IndexSnapshot:
        return self.components.snapshot

    @property
    def router(self) -> Router | None:
        return self.components.router

    @property
    def selector(self) -> EvidenceSelector:
        return self.components.selector

    @property
    def input_guard(self) -> InputGuard:
        return self.components.input_guard

    @property
    def content_policy(self) -> ContentPolicy | None:
        return self.components.content_policy

    @property
    def guard_encoder(self) -> Encoder:
        return self.components.guard_encoder

    @property
    def tickets(self) -> TicketStore:
        return self.components.tickets

    @property
    def traces(self) -> TraceStore:
        return self.components.traces

    @property
    def otlp(self) -> OtlpExporter | None:
        return self.components.otlp

    @property
    def vector_store(self) -> VectorStoreConfig:
        return self.components.vector_store

    def retriever(self) -> HybridRetriever:
        return self.components.retriever()

    # -- lifecycle ------------------------------------------------------------------------------
    def warm_up(self, generator: bool = True) -> None:
        """Load the models and open the index now, so that the first question is not the slow one."""
        s = self.settings
        self.encoder.encode(["warm-up"])
        if self.layout.exists():
            _ = self.snapshot
        if s.input_guard:
            self.input_guard.check("warm-up question")
        if self.router is not None:
            self.router.classify("warm-up")
        if s.answer_selector:
            _ = self.selector
        if generator:
            _ = self.generator

    def close(self) -> None:
        """Release the index snapshot and the routing thread (both reopen if the object is used again)."""
        if self._side is not None:
            self._side.shutdown(wait=False, cancel_futures=True)
            self._side = None
        self.components.close()

    def __enter__(self) -> Tandem:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- operations -----------------------------------------------------------------------------
    def ingest(
        self,
        paths: list[Path],
        tags: tuple[str, ...] = (),
        show_progress: bool = False,
        ray: str | None = None,
        wait_s: float = 0.0,
    ) -> IngestReport:
        """Add `paths` as a new index version. `ray` ("local", "auto", "ray://HOST:10001") parses,
        chunks and embeds on Ray workers (`tandem.ingest.ray`); this process still writes the index.
        `wait_s`: how long to wait for another ingest into the same index to finish (default: fail)."""
        if ray is not None:
            from tandem.ingest.ray import ray_processor

            with ray_processor(ray, self.settings, lambda: self.encoder) as processor:
                return self._ingestor(processor).ingest(paths, tags, show_progress, wait_s)
        return self._ingestor().ingest(paths, tags, show_progress, wait_s)

    def _ingestor(self, processor: DocumentProcessor | None = None) -> Ingestor:
        s = self.settings
        encoder = self.components.ingest_encoder
        chunker = Chunker(encoder, s.chunk_tokens, s.chunk_overlap)
        scan_here = s.corpus_guard != "off" and processor is None
        guard = CorpusGuard(self.guard_encoder) if scan_here else None
        return Ingestor(
            s.index_dir,
            encoder,
            chunker,
            s.keep_versions,
            s.encode_batch_size,
            s.sentence_vectors,
            guard,
            quarantine=s.corpus_guard == "quarantine",
            vector_store=self.vector_store,
            processor=processor,
            late_sentences=s.late_sentence_vectors,
            max_file_bytes=int(s.max_file_mb * 1_000_000),
            unit_vectors=UnitVectorStep(encoder) if s.unit_vectors else None,
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

    def ask(
        self,
        question: str,
        filters: SearchFilters | None = None,
        history: Sequence[str | EarlierTurn] = (),
        conversation_id: str | None = None,
        owner: str = LOCAL_OWNER,
    ) -> Answer:
        """Answer `question`. `history`: the conversation's earlier user turns, oldest first (a
        follow-up such as "And the Fold F1?" is searched as the question it continues); or
        `conversation_id`: a stored conversation of `owner` (see `start_conversation`), whose turns
        are the history and which this turn is added to."""
        answer = None
        for event in self.ask_stream(question, filters, None, history, conversation_id, owner):
            answer = event.answer or answer
        assert answer is not None
        return answer

    def ask_stream(
        self,
        question: str,
        filters: SearchFilters | None = None,
        cancel: threading.Event | None = None,
        history: Sequence[str | EarlierTurn] = (),
        conversation_id: str | None = None,
        owner: str = LOCAL_OWNER,
    ) -> Iterator[AnswerEvent]:
        """Retrieve, generate, verify each sentence as it completes, then yield the Answer (traced).

        Setting `cancel` (e.g. when an HTTP client disconnects) stops generation at the next token;
        the stream then ends without an answer. With `conversation_id`, turns of one conversation run
        one at a time and each answered turn is stored (an unknown id raises NotFoundError); its
        stored turns are the history, or `history` while it has none (a client's earlier messages).
        """
        if conversation_id is None:
            yield from self._answer_events(question, filters, cancel, history, None)
            return
        store = self.components.conversations
        with self._turns.hold(conversation_id):
            window = history_window(conversation_policy(self.router))
            stored = earlier_turns(load(store, conversation_id, owner, window))
            earlier: Sequence[str | EarlierTurn] = stored or history
            for event in self._answer_events(question, filters, cancel, earlier, conversation_id):
                if event.answer is not None:
                    event.answer.conversation_id = conversation_id
                    event.answer.turn = store.append(conversation_id, owner, exchange_of(event.answer))
                yield event

    def _answer_events(
        self,
        question: str,
        filters: SearchFilters | None,
        cancel: threading.Event | None,
        history: Sequence[str | EarlierTurn],
        conversation_id: str | None,
    ) -> Iterator[AnswerEvent]:
        tracer = Tracer()
        if self._side is None:
            self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-route")
        flow = AnswerFlow(
            self.components, self._side, question, filters, tracer, cancel, history, conversation_id
        )
        for event in flow.events():
            if event.answer is not None and self.settings.trace:
                trace = build_trace(event.answer, tracer)
                event.answer.trace_id = self.traces.add(trace)
                if self.otlp is not None:
                    self.otlp.export(trace)
            yield event

    def start_conversation(self, owner: str = LOCAL_OWNER) -> str:
        """A new stored conversation of `owner` (an API key id; "local" by default); pass its id to
        `ask(..., conversation_id=...)`."""
        store = self.components.conversations
        if time.monotonic() - self._pruned >= PRUNE_EVERY_S:  # not on every request of a busy server
            store.prune()
            self._pruned = time.monotonic()
        return store.start(owner)

    @property
    def conversations(self) -> ConversationStore:
        return self.components.conversations

    def validate_question(self, question: str) -> str:
        """The question stripped, or an InputError when it is empty or over the size limit."""
        return validate_question(question, self.settings.max_question_chars)
