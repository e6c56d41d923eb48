"""The trace store: traces.sqlite beside the index by default, or any `Database` (PostgreSQL)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from tandem.errors import InputError
from tandem.storage.database import Database, Schema, as_database

if TYPE_CHECKING:
    from tandem.trace.record import TraceRecord

SCHEMA = Schema(
    "traces",
    (
        """
        CREATE TABLE traces (
            id TEXT PRIMARY KEY,
            created DOUBLE PRECISION NOT NULL,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            mode TEXT NOT NULL,
            route TEXT,
            index_version INTEGER,
            total_ms DOUBLE PRECISION NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX traces_created ON traces(created);
        CREATE INDEX traces_route ON traces(route);
        """,
    ),
    legacy_table="traces",
)
FILE_NAME = "traces.sqlite"
LIST_COLUMNS = ("id", "created", "question", "mode", "route", "index_version", "total_ms")


class TraceStore:
    """Append traces, read them back by id or by filters, prune old ones.

    store = TraceStore.beside(Path("kb-index"))  # or TraceStore("postgresql://host/tandem")
    store.list(route="handoff", limit=5)
    """

    def __init__(self, db: Database | str | Path) -> None:
        self.db = as_database(db)

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None when the traces live in PostgreSQL."""
        return self.db.path

    @classmethod
    def beside(cls, index_dir: Path) -> TraceStore:
        return cls(Path(index_dir) / FILE_NAME)

    def add(self, trace: TraceRecord) -> str:
        """Store `trace` (a JSON-able dict from `record.build_trace`) and return its id.

        The id is made here, before writing, so a write retried after a dropped connection is
        stored once."""
        trace_id = trace.get("id") or uuid.uuid4().hex[:16]
        trace["id"] = trace_id
        row = {
            "id": trace_id,
            "created": trace.get("created", time.time()),
            "question": trace["question"],
            "answer": trace["answer"],
            "mode": trace["mode"],
            "route": route["action"] if (route := trace.get("route")) else None,
            "index_version": trace["versions"].get("index_version"),
            "total_ms": trace["total_ms"],
            "body": json.dumps(trace),
        }

        def insert(connection: Connection) -> None:
            connection.execute(
                text(
                    "INSERT INTO traces (id, created, question, answer, mode, route, index_version,"
                    " total_ms, body) VALUES (:id, :created, :question, :answer, :mode, :route,"
                    " :index_version, :total_ms, :body) ON CONFLICT (id) DO NOTHING"
                ),
                row,
            )

        self.db.migrate(SCHEMA)
        self.db.transaction(insert)
        return trace_id

    def get(self, trace_id: str) -> dict:
        if not self.db.exists():
            raise InputError(f"no trace {trace_id!r}: there are no traces at {self.db.where}")
        self.db.migrate(SCHEMA)
        body = self.db.transaction(
            lambda c: c.execute(text("SELECT body FROM traces WHERE id = :id"), {"id": trace_id}).scalar(),
            write=False,
        )
        if body is None:
            raise InputError(f"no trace {trace_id!r} in {self.db.where}; list them with `tandem traces list`")
        return json.loads(body)

    def list(self, since: float | None = None, route: str | None = None, limit: int = 20) -> list[dict]:
        """Newest first: id, time, question, answer mode, route action, total time."""
        if not self.db.exists():
            return []
        query = f"SELECT {', '.join(LIST_COLUMNS)} FROM traces WHERE 1=1"
        parameters: dict = {"limit": limit}
        if since is not None:
            query += " AND created >= :since"
            parameters["since"] = since
        if route:
            query += " AND (route = :route OR route LIKE :route_prefix)"
            parameters |= {"route": route, "route_prefix": f"{route}:%"}
        self.db.migrate(SCHEMA)
        rows = self.db.transaction(
            lambda c: c.execute(text(query + " ORDER BY created DESC LIMIT :limit"), parameters).all(),
            write=False,
        )
        return [dict(zip(LIST_COLUMNS, row, strict=True)) for row in rows]

    def count(self) -> int:
        if not self.db.exists():
            return 0
        self.db.migrate(SCHEMA)
        return self.db.transaction(
            lambda c: int(c.execute(text("SELECT COUNT(*) FROM traces")).scalar_one()), write=False
        )

    def prune(self, older_than_days: float) -> int:
        """Delete traces older than the retention period; returns how many went."""
        if not self.db.exists():
            return 0
        cutoff = time.time() - older_than_days * 86400
        self.db.migrate(SCHEMA)
        delete = text("DELETE FROM traces WHERE created < :cutoff")
        return self.db.transaction(lambda c: c.execute(delete, {"cutoff": cutoff}).rowcount)
