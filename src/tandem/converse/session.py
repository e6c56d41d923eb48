"""Stored conversations as the answer flow reads them, and one turn at a time per conversation."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from tandem.converse.escalation import EarlierTurn
from tandem.errors import NotFoundError
from tandem.storage.conversations import Conversation, ConversationStore

LOCAL_OWNER = "local"  # the owner of conversations started without an API key (CLI, auth off)
UNANSWERED_MODES = ("abstained",)


def earlier_turns(conversation: Conversation) -> list[EarlierTurn]:
    """The stored exchanges as earlier turns: user text, route labels, whether it was answered."""
    return [
        EarlierTurn(e.question, e.labels or None, e.mode not in UNANSWERED_MODES, e.answer, e.ticket)
        for e in conversation.exchanges
    ]


def load(
    store: ConversationStore, conversation_id: str, owner: str | None, last: int | None = None
) -> Conversation:
    """The conversation of `owner` (None: anyone's) with its `last` exchanges (None: all), or a
    NotFoundError that says what to do."""
    conversation = store.get(conversation_id, owner, last=last)
    if conversation is None:
        kept = f"{store.retention_days:g} days" if store.retention_days is not None else "forever"
        raise NotFoundError(
            f"conversation {conversation_id!r} does not exist for this caller: it is unknown, belongs "
            f"to another API key, or expired (conversations are kept {kept} after their last turn); "
            "start a new conversation instead (a request without conversation_id, or `tandem chat` "
            "without --conversation)"
        )
    return conversation


class TurnLocks:
    """One turn at a time per conversation in this process: a second turn waits for the first to be
    stored, so it sees it in its history. (Across processes the store's turn numbering still keeps
    every turn, once.)"""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, conversation_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.get(conversation_id)
            if lock is None:
                lock = threading.Lock()
                self._locks[conversation_id] = lock
        with lock:
            yield
