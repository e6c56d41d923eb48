"""The trace store: one SQLite file beside the index, with numbered schema migrations."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

from tandem.errors import InputError
from tandem.sqlite_migrations import connect

MIGRATIONS = (
    """
    CREATE TABLE traces (
        id TEXT PRIMARY KEY,
        created REAL NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        mode TEXT NOT NULL,
        route TEXT,
        index_version INTEGER,
        total_ms REAL NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX traces_created ON traces(created);
    CREATE INDEX traces_route ON traces(route);
    """,
)
FILE_NAME = "traces.sqlite"


class TraceStore:
    """Append traces, read them back by id or by filters, prune old ones."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def beside(cls, index_dir: Path) -> TraceStore:
        return cls(Path(index_dir) / FILE_NAME)

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path, MIGRATIONS)

    def add(self, trace: dict) -> str:
        """Store `trace` (a JSON-able dict from `record.build_trace`) and return its new id."""
        trace_id = trace.get("id") or uuid.uuid4().hex[:16]
        trace["id"] = trace_id
        connection = self._connect()
        try:
            with connection:
                connection.execute(
                    "INSERT INTO traces (id, created, question, answer, mode, route, index_version,"
                    " total_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        trace_id,
                        trace.get("created", time.time()),
                        trace["question"],
                        trace["answer"],
                        trace["mode"],
                        (trace.get("route") or {}).get("action"),
                        trace["versions"].get("index_version"),
                        trace["total_ms"],
                        json.dumps(trace),
                    ),
                )
        finally:
            connection.close()
        return trace_id

    def get(self, trace_id: str) -> dict:
        if not self.path.is_file():
            raise InputError(f"no trace {trace_id!r}: there are no traces at {self.path}")
        connection = self._connect()
        try:
            row = connection.execute("SELECT body FROM traces WHERE id = ?", (trace_id,)).fetchone()
        finally:
            connection.close()
        if row is None:
            raise InputError(f"no trace {trace_id!r} in {self.path}; list them with `tandem traces list`")
        return json.loads(row[0])

    def list(self, since: float | None = None, route: str | None = None, limit: int = 20) -> list[dict]:
        """Newest first: id, time, question, answer mode, route action, total time."""
        if not self.path.is_file():
            return []
        query = "SELECT id, created, question, mode, route, index_version, total_ms FROM traces WHERE 1=1"
        parameters: list = []
        if since is not None:
            query += " AND created >= ?"
            parameters.append(since)
        if route:
            query += " AND (route = ? OR route LIKE ?)"
            parameters += [route, f"{route}:%"]
        connection = self._connect()
        try:
            rows = connection.execute(
                query + " ORDER BY created DESC LIMIT ?", (*parameters, limit)
            ).fetchall()
        finally:
            connection.close()
        keys = ("id", "created", "question", "mode", "route", "index_version", "total_ms")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def prune(self, older_than_days: float) -> int:
        """Delete traces older than the retention period; returns how many went."""
        if not self.path.is_file():
            return 0
        connection = self._connect()
        try:
            with connection:
                cursor = connection.execute(
                    "DELETE FROM traces WHERE created < ?", (time.time() - older_than_days * 86400,)
                )
        finally:
            connection.close()
        return cursor.rowcount
