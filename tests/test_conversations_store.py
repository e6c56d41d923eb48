"""Stored conversations on SQLite and PostgreSQL: turns in order, scoped to their owner, expiring,
and concurrent turns each stored once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from tandem.converse.session import LOCAL_OWNER, earlier_turns, load
from tandem.errors import NotFoundError
from tandem.guard.pii import mask_pii
from tandem.storage import Database
from tandem.storage.conversations import ConversationStore, Exchange

from .storage_support import postgres_database, store_url

__all__ = ["postgres_database", "store_url"]  # fixtures used by the tests below


def test_turns_are_stored_in_order_and_read_back(store_url: str) -> None:
    store = ConversationStore(Database(store_url), redact=mask_pii)
    cid = store.start("key-a")
    first = Exchange(
        "How much does the Trail T5 cost?", "EUR 3,890.", "extractive", "answer", {"intent": "q"}
    )
    second = Exchange("And the Fold F1?", "The documentation doesn't cover this.", "abstained",
                      resolved="How much does the Fold F1 cost?")  # fmt: skip
    assert store.append(cid, "key-a", first) == 1
    assert store.append(cid, "key-a", second) == 2
    conversation = store.get(cid, "key-a")
    assert conversation is not None and conversation.turns == 2
    assert conversation.title == "How much does the Trail T5 cost?"
    assert [e.turn for e in conversation.exchanges] == [1, 2]
    assert conversation.exchanges[0].labels == {"intent": "q"}
    assert conversation.exchanges[1].resolved == "How much does the Fold F1 cost?"
    turns = earlier_turns(conversation)
    assert [t.answered for t in turns] == [True, False] and turns[0].labels == {"intent": "q"}
    assert [e.turn for e in store.get(cid, "key-a", last=1).exchanges] == [2]  # type: ignore[union-attr]
    assert [c.id for c in store.recent("key-a")] == [cid]


def test_a_conversation_belongs_to_its_owner(store_url: str) -> None:
    store = ConversationStore(Database(store_url))
    cid = store.start("key-a")
    assert store.get(cid, "key-b") is None
    assert store.append(cid, "key-b", Exchange("hi", "hello", "extractive")) is None  # refused, not added
    assert store.get(cid, "key-a").turns == 0  # type: ignore[union-attr]
    assert store.get(cid, None) is not None  # an admin reads any
    assert store.recent("key-b") == []
    with pytest.raises(NotFoundError, match="another API key"):
        load(store, cid, "key-b")
    with pytest.raises(NotFoundError, match="conv_nope"):
        load(store, "conv_nope", LOCAL_OWNER)


def test_expired_conversations_are_unknown_and_pruned(store_url: str) -> None:
    db = Database(store_url)
    store = ConversationStore(db, retention_days=1)
    old, live = store.start("k"), store.start("k")
    store.append(old, "k", Exchange("old question", "old answer", "extractive"))
    two_days_ago = time.time() - 2 * 86400
    db.transaction(lambda c: c.execute(text("UPDATE conversations SET updated = :t WHERE id = :id"),
                                       {"t": two_days_ago, "id": old}))  # fmt: skip
    assert store.get(old, "k") is None
    assert store.append(old, "k", Exchange("again", "x", "extractive")) is None
    assert [c.id for c in store.recent("k")] == [live]
    assert store.prune() == 1
    assert db.transaction(lambda c: c.execute(text("SELECT COUNT(*) FROM conversation_turns")).scalar()) == 0


def test_concurrent_turns_are_each_stored_once(store_url: str) -> None:
    store = ConversationStore(Database(store_url))
    cid = store.start("k")
    numbers: list[int | None] = []
    lock = threading.Lock()

    def turn(n: int) -> None:
        number = store.append(cid, "k", Exchange(f"question {n}", f"answer {n}", "extractive"))
        with lock:
            numbers.append(number)

    threads = [threading.Thread(target=turn, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 17))  # type: ignore[type-var]
    conversation = store.get(cid, "k")
    assert conversation is not None and conversation.turns == 16
    assert sorted(e.question for e in conversation.exchanges) == sorted(f"question {n}" for n in range(16))


def test_pii_is_masked_before_it_is_written(tmp_path) -> None:
    store = ConversationStore(Database(f"sqlite:///{tmp_path / 's.sqlite'}"), redact=mask_pii)
    cid = store.start("k")
    store.append(
        cid, "k", Exchange("My email is jane.doe@example.com, where is my order?", "ok", "extractive")
    )
    raw = (tmp_path / "s.sqlite").read_bytes()
    assert b"jane.doe@example.com" not in raw
    assert "jane.doe@example.com" not in store.get(cid, "k").exchanges[0].question  # type: ignore[union-attr]
