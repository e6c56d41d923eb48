"""Conversations in the main store (tandem.sqlite or PostgreSQL): one row per exchange, scoped to an owner.

An exchange is a user turn and Tandem's reply. Turn numbers are taken by one atomic
`UPDATE ... RETURNING` on the conversation row, so concurrent turns on one conversation get
distinct numbers on SQLite and PostgreSQL alike: nothing is lost or stored twice. Each exchange
carries a client-made uid, so a write retried after a dropped connection is stored once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from tandem.storage.database import Database, Schema, as_database

SCHEMA = Schema(
    "conversations",
    (
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            updated DOUBLE PRECISION NOT NULL,
            turns INTEGER NOT NULL DEFAULT 0,
            title TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX conversations_owner ON conversations(owner, updated);
        CREATE TABLE conversation_turns (
            conversation_id TEXT NOT NULL,
            turn INTEGER NOT NULL,
            uid TEXT NOT NULL UNIQUE,
            created DOUBLE PRECISION NOT NULL,
            question TEXT NOT NULL,
            resolved TEXT NOT NULL,
            answer TEXT NOT NULL,
            mode TEXT NOT NULL,
            action TEXT NOT NULL,
            labels TEXT NOT NULL,
            trace_id TEXT,
            ticket TEXT,
            PRIMARY KEY (conversation_id, turn)
        );
        """,
    ),
)
ID_PREFIX = "conv_"
TITLE_CHARS = 80


@dataclass(frozen=True)
class Exchange:
    """One user turn and the reply: texts as stored (PII masked by the store's `redact`)."""

    question: str
    answer: str
    mode: str  # Answer.mode: answered, extractive, abstained, handoff, blocked, ...
    action: str = "answer"  # the routing action taken
    labels: dict[str, str] = field(default_factory=dict)
    resolved: str = ""  # the standalone question a follow-up was searched as
    trace_id: str | None = None
    ticket: str | None = None
    turn: int = 0
    created: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Conversation:
    id: str
    owner: str
    created: float
    updated: float
    turns: int
    title: str
    exchanges: list[Exchange] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class ConversationStore:
    """Start, continue, read and prune conversations; every read and write names its owner.

    store = ConversationStore(Database("sqlite:///tandem-data/tandem.sqlite"), redact=mask_pii)
    cid = store.start(owner="key_3f2a")
    store.append(cid, "key_3f2a", Exchange("Where is my order?", "It ships in 2 days.", "extractive"))
    store.get(cid, "key_3f2a").turns  # 1; another owner gets None

    `retention_days`: a conversation not continued for longer is expired: reads treat it as
    unknown and `prune()` deletes it. `redact` masks the question, resolved question and answer
    before they are written.
    """

    def __init__(
        self,
        db: Database | str | Path,
        retention_days: float | None = 30.0,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.db = as_database(db)
        self.retention_days = retention_days
        self.redact = redact or (lambda value: value)

    def _oldest_live(self) -> float:
        return 0.0 if self.retention_days is None else time.time() - self.retention_days * 86400

    def start(self, owner: str, conversation_id: str | None = None) -> str:
        """A new, empty conversation of `owner`; returns its id (conv_ + 32 hex digits)."""
        conversation_id = conversation_id or ID_PREFIX + uuid.uuid4().hex
        now = time.time()
        row = {"id": conversation_id, "owner": owner, "created": now, "updated": now}
        self.db.migrate(SCHEMA)
        self.db.transaction(
            lambda c: c.execute(
                text(
                    "INSERT INTO conversations (id, owner, created, updated) "
                    "VALUES (:id, :owner, :created, :updated) ON CONFLICT (id) DO NOTHING"
                ),
                row,
            )
        )
        return conversation_id

    def append(self, conversation_id: str, owner: str, exchange: Exchange) -> int | None:
        """Store `exchange` as the conversation's next turn and return its number (from 1); None
        when the conversation is unknown, expired or another owner's."""
        uid = uuid.uuid4().hex
        now = time.time()
        question = self.redact(exchange.question)
        row: dict[str, object] = {
            "uid": uid,
            "conversation_id": conversation_id,
            "created": now,
            "question": question,
            "resolved": self.redact(exchange.resolved),
            "answer": self.redact(exchange.answer),
            "mode": exchange.mode,
            "action": exchange.action,
            "labels": json.dumps(exchange.labels),
            "trace_id": exchange.trace_id,
            "ticket": exchange.ticket,
        }

        def insert(connection: Connection) -> int | None:
            done = connection.execute(
                text("SELECT turn FROM conversation_turns WHERE uid = :uid"), {"uid": uid}
            ).scalar()
            if done is not None:  # this unit of work ran before and committed
                return int(done)
            # One atomic increment: it locks the row, so concurrent turns queue here.
            turn = connection.execute(
                text(
                    "UPDATE conversations SET turns = turns + 1, updated = :now, "
                    "title = CASE WHEN title = '' THEN :title ELSE title END "
                    "WHERE id = :id AND owner = :owner AND updated >= :live RETURNING turns"
                ),
                {
                    "now": now,
                    "title": question[:TITLE_CHARS],
                    "id": conversation_id,
                    "owner": owner,
                    "live": self._oldest_live(),
                },
            ).scalar()
            if turn is None:
                return None
            connection.execute(
                text(
                    "INSERT INTO conversation_turns (conversation_id, turn, uid, created, question, "
                    "resolved, answer, mode, action, labels, trace_id, ticket) VALUES (:conversation_id, "
                    ":turn, :uid, :created, :question, :resolved, :answer, :mode, :action, :labels, "
                    ":trace_id, :ticket)"
                ),
                {**row, "turn": int(turn)},
            )
            return int(turn)

        self.db.migrate(SCHEMA)
        return self.db.transaction(insert)

    def get(self, conversation_id: str, owner: str | None, last: int | None = None) -> Conversation | None:
        """The conversation with its exchanges (the `last` ones, when given), oldest first; None when
        it is unknown, expired or (with an `owner`) not theirs. `owner=None` reads any (admin)."""
        if not self.db.exists():
            return None
        self.db.migrate(SCHEMA)

        def read(connection: Connection) -> Conversation | None:
            head = connection.execute(
                text(
                    "SELECT id, owner, created, updated, turns, title FROM conversations "
                    "WHERE id = :id AND updated >= :live"
                ),
                {"id": conversation_id, "live": self._oldest_live()},
            ).first()
            if head is None or (owner is not None and head[1] != owner):
                return None
            query = (
                "SELECT turn, created, question, resolved, answer, mode, action, labels, trace_id, "
                "ticket FROM conversation_turns WHERE conversation_id = :id AND turn > :after ORDER BY turn"
            )
            after = max(0, int(head[4]) - last) if last is not None else 0
            rows = connection.execute(text(query), {"id": conversation_id, "after": after}).all()
            exchanges = [
                Exchange(
                    question=r[2], answer=r[4], mode=r[5], action=r[6], labels=json.loads(r[7]),
                    resolved=r[3], trace_id=r[8], ticket=r[9], turn=int(r[0]), created=float(r[1]),
                )
                for r in rows
            ]  # fmt: skip
            return Conversation(
                head[0], head[1], float(head[2]), float(head[3]), int(head[4]), head[5], exchanges
            )

        return self.db.transaction(read, write=False)

    def recent(self, owner: str | None, limit: int = 20) -> list[Conversation]:
        """The live conversations of `owner` (all owners when None), most recently continued first,
        without their exchanges."""
        if not self.db.exists():
            return []
        self.db.migrate(SCHEMA)
        query = "SELECT id, owner, created, updated, turns, title FROM conversations WHERE updated >= :live"
        parameters: dict = {"live": self._oldest_live(), "limit": limit}
        if owner is not None:
            query += " AND owner = :owner"
            parameters["owner"] = owner
        rows = self.db.transaction(
            lambda c: c.execute(text(query + " ORDER BY updated DESC LIMIT :limit"), parameters).all(),
            write=False,
        )
        return [Conversation(r[0], r[1], float(r[2]), float(r[3]), int(r[4]), r[5]) for r in rows]

    def prune(self) -> int:
        """Delete the expired conversations and their turns; returns how many were deleted."""
        if self.retention_days is None or not self.db.exists():
            return 0
        self.db.migrate(SCHEMA)
        live = {"live": self._oldest_live()}

        def delete(connection: Connection) -> int:
            connection.execute(
                text(
                    "DELETE FROM conversation_turns WHERE conversation_id IN "
                    "(SELECT id FROM conversations WHERE updated < :live)"
                ),
                live,
            )
            return connection.execute(text("DELETE FROM conversations WHERE updated < :live"), live).rowcount

        return int(self.db.transaction(delete))
