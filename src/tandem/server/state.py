"""What one server process holds: the pipeline, the generation queue, stores and metrics."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from tandem.config import Settings
from tandem.guard.pii import mask_pii
from tandem.pipeline import Tandem
from tandem.server.admission import AdmissionQueue
from tandem.server.metrics import Metrics
from tandem.storage import FeedbackStore, KeyStore, open_store

log = logging.getLogger("tandem.server")


class ServerState:
    """Shared by every request; the models load once, in the background, at start."""

    def __init__(self, bot: Tandem, auth: bool = True) -> None:
        s = bot.settings
        self.bot = bot
        self.settings: Settings = s
        self.auth = auth
        self.queue = AdmissionQueue(s.generation_concurrency, s.generation_queue, s.generation_wait_s)
        # Uploads are ingested one at a time, in order of arrival; the rest wait their turn.
        self.ingest_queue = AdmissionQueue(1, s.upload_queue, s.upload_wait_s, what="ingestion")
        self.metrics = Metrics(self.queue)
        self.generation_pool = ThreadPoolExecutor(s.generation_concurrency, thread_name_prefix="tandem-gen")
        self.started = time.time()
        self.ready = threading.Event()
        self.warm_up_error: str | None = None

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(open_store(self.settings, "main"))

    @cached_property
    def feedback(self) -> FeedbackStore:
        return FeedbackStore(open_store(self.settings, "main"), redact=mask_pii)

    def warm_up(self) -> None:
        """Load every model and open the index so the first request is not the slow one."""
        try:
            bot = self.bot
            bot.warm_up()
            if self.settings.trace_retention_days is not None:
                removed = bot.traces.prune(self.settings.trace_retention_days)
                log.info("pruned %d trace(s) older than %g days", removed, self.settings.trace_retention_days)
            expired = bot.conversations.prune()
            if expired:
                log.info("removed %d expired conversation(s)", expired)
            if self.auth:
                _ = self.keys
            _ = self.feedback
        except Exception as exc:  # reported by /readyz; requests will show the error themselves
            self.warm_up_error = f"{type(exc).__name__}: {exc}"
            log.error("warm-up failed: %s", self.warm_up_error)
        finally:
            self.ready.set()

    def close(self) -> None:
        self.generation_pool.shutdown(wait=False, cancel_futures=True)
        self.bot.close()
