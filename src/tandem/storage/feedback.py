"""Feedback on answers: a thumbs up or down, an optional comment, and the trace it refers to."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, text

from tandem.errors import InputError
from tandem.storage.database import Database, Schema, as_database

SCHEMA = Schema(
    "feedback",
    (
        """
        CREATE TABLE feedback (
            id TEXT PRIMARY KEY,
            created DOUBLE PRECISION NOT NULL,
            rating INTEGER NOT NULL,
            comment TEXT NOT NULL,
            trace_id TEXT,
            question TEXT NOT NULL,
            answer TEXT NOT NULL
        );
        CREATE INDEX feedback_created ON feedback(created);
        """,
    ),
)
MAX_COMMENT_CHARS = 2000
MAX_TEXT_CHARS = 20000  # question and answer
ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
COLUMNS = ("id", "created", "rating", "comment", "trace_id", "question", "answer")


class FeedbackStore:
    """Append feedback and read it back, newest first.

    store = FeedbackStore(Database("sqlite:///tandem-data/tandem.sqlite"), redact=mask_pii)
    feedback_id = store.add(+1, "spot on", trace_id="3f2a9c0d1e2b4a5c")
    store.count()  # 1

    `redact` masks the comment, question and answer before they are written (the server and the CLI
    pass the PII guard's `mask_pii`, so nothing personal is kept unmasked).
    """

    def __init__(self, db: Database | str | Path, redact: Callable[[str], str] | None = None) -> None:
        self.db = as_database(db)
        self.redact = redact

    def add(
        self,
        rating: int,
        comment: str = "",
        trace_id: str | None = None,
        question: str = "",
        answer: str = "",
        feedback_id: str | None = None,
    ) -> str:
        """Store one piece of feedback and return its id; adding the same id twice stores it once."""
        if isinstance(rating, bool) or rating not in (1, -1):
            raise InputError(f"rating must be +1 (helpful) or -1 (not helpful), not {rating!r}")
        _check_text("comment", comment, MAX_COMMENT_CHARS)
        _check_text("question", question, MAX_TEXT_CHARS)
        _check_text("answer", answer, MAX_TEXT_CHARS)
        for name, value in (("trace_id", trace_id), ("feedback_id", feedback_id)):
            if value is not None and not (isinstance(value, str) and ID_PATTERN.fullmatch(value)):
                raise InputError(f"{name} must be 1-64 letters, digits or _.:- characters, not {value!r}")
        new_id = feedback_id or uuid.uuid4().hex
        if self.redact is not None:
            comment, question, answer = (self.redact(value) for value in (comment, question, answer))
        row = {
            "id": new_id,
            "created": time.time(),
            "rating": rating,
            "comment": comment,
            "trace_id": trace_id,
            "question": question,
            "answer": answer,
        }

        def insert(connection: Connection) -> None:
            connection.execute(
                text(
                    "INSERT INTO feedback (id, created, rating, comment, trace_id, question, answer)"
                    " VALUES (:id, :created, :rating, :comment, :trace_id, :question, :answer)"
                    " ON CONFLICT (id) DO NOTHING"
                ),
                row,
            )

        self.db.migrate(SCHEMA)
        self.db.transaction(insert)
        return new_id

    def list(self, limit: int = 50, since: float | None = None) -> list[dict]:
        """Newest first: id, created (Unix time), rating, comment, trace_id, question, answer."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InputError(f"limit must be a whole number of 1 or more, not {limit!r}")
        if not self.db.exists():
            return []
        query = f"SELECT {', '.join(COLUMNS)} FROM feedback"
        parameters: dict = {"limit": limit}
        if since is not None:
            query += " WHERE created >= :since"
            parameters["since"] = since
        self.db.migrate(SCHEMA)
        rows = self.db.transaction(
            lambda c: c.execute(text(query + " ORDER BY created DESC LIMIT :limit"), parameters).all(),
            write=False,
        )
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]

    def count(self) -> int:
        if not self.db.exists():
            return 0
        self.db.migrate(SCHEMA)
        return self.db.transaction(
            lambda c: int(c.execute(text("SELECT COUNT(*) FROM feedback")).scalar_one()), write=False
        )


def _check_text(name: str, value: object, limit: int) -> None:
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise InputError(f"{name} is {len(value)} characters; the most is {limit}")
