"""The components an answer is built with, each constructed on first use or passed in.

>>> parts = Components(Settings(), encoder=my_encoder)  # doctest: +SKIP
>>> parts.loaded("generator")                           # doctest: +SKIP
False
"""

from __future__ import annotations

from tandem.config import Settings
from tandem.converse.person_request import PersonRequestDetector
from tandem.encode import Encoder, load_encoder, resolve_encoder
from tandem.encode.model_files import BUNDLED_ENCODER, BUNDLED_ENCODER_ID
from tandem.errors import IndexError_
from tandem.generate.base import Generator, load_generator
from tandem.generate.threads import decode_threads, runnable_tasks
from tandem.guard.input_guard import InputGuard
from tandem.guard.pii import mask_pii
from tandem.guard.policy import ContentPolicy
from tandem.index.layout import IndexLayout
from tandem.index.snapshot import IndexSnapshot
from tandem.index.vector_store import VectorStoreConfig
from tandem.retrieve.hybrid import HybridRetriever
from tandem.route.router import Router
from tandem.route.tickets import TicketStore
from tandem.select.cross import CrossScorer
from tandem.select.model import SelectorModel
from tandem.select.selector import EvidenceSelector
from tandem.storage.conversations import ConversationStore
from tandem.storage.open import open_store
from tandem.trace.otel import OtlpExporter
from tandem.trace.store import TraceStore

_PASSABLE = ("encoder", "generator", "router", "selector", "input_guard", "content_policy")


class Components:
    """Builds each component from the settings the first time it is used; any of the models can
    be given instead (tests and benchmarks share one loaded encoder that way)."""

    def __init__(
        self,
        settings: Settings,
        *,
        encoder: Encoder | None = None,
        generator: Generator | None = None,
        router: Router | None = None,
        selector: EvidenceSelector | None = None,
        input_guard: InputGuard | None = None,
        content_policy: ContentPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.layout = IndexLayout(settings.index_dir)
        self._encoder = encoder
        self._encoder_given = encoder is not None
        self._ingest_encoders: dict[int, Encoder] = {}  # by thread count
        self._generator = generator
        self._router = router
        self._selector = selector
        self._input_guard = input_guard
        self._content_policy = content_policy
        self._guard_encoder: Encoder | None = None
        self._person_requests: PersonRequestDetector | None = None
        self._snapshot: IndexSnapshot | None = None
        self._snapshot_name = ""
        self._otlp: OtlpExporter | None = None

    def loaded(self, name: str) -> bool:
        """Whether `name` (encoder, generator, router, selector, input_guard, content_policy) exists
        yet: passed in, or built by a use."""
        if name not in _PASSABLE:
            raise ValueError(f"no component {name!r}; one of {', '.join(_PASSABLE)}")
        return getattr(self, f"_{name}") is not None

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            s = self.settings
            self._encoder = load_encoder(s.encoder, s.encoder_backend, s.encoder_threads)
        return self._encoder

    @property
    def ingest_encoder(self) -> Encoder:
        """The encoder for bulk embedding at one ingest: `ingest_encoder_threads` threads while no
        other process holds the cores (counted now, as the decoder counts them), fewer when one
        does: a multi-threaded encode beside a busy core runs slower than one thread. The same
        model, loaded beside the question encoder for each thread count it needs; a passed-in
        encoder serves both."""
        s = self.settings
        if self._encoder_given:
            return self.encoder
        threads = decode_threads(s.ingest_encoder_threads, runnable=runnable_tasks())
        if threads == s.encoder_threads:
            return self.encoder
        if threads not in self._ingest_encoders:
            self._ingest_encoders[threads] = load_encoder(s.encoder, s.encoder_backend, threads)
        return self._ingest_encoders[threads]

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
    def person_requests(self) -> PersonRequestDetector:
        """Finds requests for a person by meaning (the conversation policy's patterns come first)."""
        if self._person_requests is None:
            self._person_requests = PersonRequestDetector(self.encoder)
        return self._person_requests

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
            model = SelectorModel.load(path) if path else SelectorModel.load()
            cross = (
                CrossScorer.bundled(self.settings.encoder_threads) if self.settings.selector_cross else None
            )
            self._selector = EvidenceSelector(self.encoder, model, cross)
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
    def otlp(self) -> OtlpExporter | None:
        """The OpenTelemetry exporter when `otlp_endpoint` is set."""
        if self._otlp is None and self.settings.otlp_endpoint:
            self._otlp = OtlpExporter(self.settings.otlp_endpoint)
        return self._otlp

    @property
    def tickets(self) -> TicketStore:
        """Handoff tickets in the main store: `store_url`, else tandem.sqlite in `data_dir`."""
        return TicketStore(open_store(self.settings, "main"))

    @property
    def conversations(self) -> ConversationStore:
        """Conversations in the main store, PII masked, expiring after `conversation_retention_days`."""
        return ConversationStore(
            open_store(self.settings, "main"), self.settings.conversation_retention_days, mask_pii
        )

    @property
    def traces(self) -> TraceStore:
        """Where every answer's trace goes: `trace_url`, `store_url`, else traces.sqlite beside the index."""
        return TraceStore(open_store(self.settings, "traces"))

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

    def close(self) -> None:
        """Release the open index snapshot (its vector store handle and memory maps)."""
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot, self._snapshot_name = None, ""
