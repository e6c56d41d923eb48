"""Verifies a streamed draft as it arrives: each sentence is checked the moment it is complete."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from tandem.answer import Diagnostics
from tandem.guard.output_guard import redact_unsourced_pii
from tandem.verify.draft import DraftVerifier

SENTENCE_DONE = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n")


class StreamingVerification:
    """Cuts a token stream into sentences and keeps the ones the verifier supports.

    `draft` is everything the model wrote, `kept` the verified sentences (with their [n] marks),
    `cancelled` whether `cancel` stopped the stream early.
    """

    def __init__(
        self,
        verifier: DraftVerifier,
        sources: list[str],
        diagnostics: Diagnostics,
        cancel: threading.Event | None = None,
    ) -> None:
        self.verifier = verifier
        self.sources = sources
        self.diagnostics = diagnostics
        self.cancel = cancel
        self.draft = ""
        self.kept: list[str] = []
        self.cancelled = False

    def sentences(self, pieces: Iterator[str]) -> Iterator[str]:
        """Yield each verified sentence as soon as the text after it shows that it has ended."""
        pending = ""
        for piece in pieces:
            if self.cancel is not None and self.cancel.is_set():
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()
                self.cancelled = True
                return
            self.draft += piece
            pending += piece
            while (match := SENTENCE_DONE.search(pending)) is not None:
                sentence, pending = pending[: match.end()].strip(), pending[match.end() :]
                if (kept := self._keep(sentence)) is not None:
                    yield kept
        if pending.strip() and (kept := self._keep(pending.strip())) is not None:
            yield kept

    def _keep(self, sentence: str) -> str | None:
        emitted = self.verifier.check(sentence)
        if not emitted:
            return None
        emitted = self._without_invented_pii(emitted)
        self.kept.append(emitted)
        return emitted

    def _without_invented_pii(self, sentence: str) -> str:
        """Mask personal data the model wrote that is in neither the question nor the passages."""
        cleaned, invented = redact_unsourced_pii(sentence, self.sources)
        if invented:
            self.diagnostics.setdefault("redacted_unsourced_pii", []).extend(m.kind for m in invented)
        return cleaned
