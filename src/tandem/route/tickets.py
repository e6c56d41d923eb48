"""Handoff tickets in the local SQLite store: what a person in a queue needs to pick a message up."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tandem.route.policy import RoutingDecision
from tandem.sqlite_migrations import connect

MIGRATIONS = (
    """
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created TEXT NOT NULL,
        queue TEXT NOT NULL,
        message TEXT NOT NULL,
        labels TEXT NOT NULL,
        confidences TEXT NOT NULL,
        reasons TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open'
    );
    CREATE INDEX tickets_queue ON tickets(queue, status);
    """,
)


@dataclass(frozen=True)
class Ticket:
    ticket: str
    created: str
    queue: str
    message: str
    labels: dict[str, str]
    confidences: dict[str, float]
    reasons: list[str]
    status: str

    def to_dict(self) -> dict:
        return asdict(self)


def ticket_name(number: int) -> str:
    return f"T-{number:06d}"


class TicketStore:
    """Append-only ticket table with numbered schema migrations (PRAGMA user_version)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path, MIGRATIONS)

    def create(self, message: str, decision: RoutingDecision) -> str:
        """Store a ticket for `decision.queue` and return its name (e.g. T-000012)."""
        connection = self._connect()
        try:
            with connection:
                cursor = connection.execute(
                    "INSERT INTO tickets (created, queue, message, labels, confidences, reasons)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        decision.queue or decision.action,
                        message,
                        json.dumps(decision.labels()),
                        json.dumps(decision.confidences()),
                        json.dumps(decision.reasons),
                    ),
                )
            return ticket_name(int(cursor.lastrowid or 0))
        finally:
            connection.close()

    def recent(self, limit: int = 20, queue: str | None = None) -> list[Ticket]:
        if not self.path.is_file():
            return []
        connection = self._connect()
        try:
            query = "SELECT id, created, queue, message, labels, confidences, reasons, status FROM tickets"
            parameters: tuple = ()
            if queue:
                query += " WHERE queue = ?"
                parameters = (queue,)
            rows = connection.execute(query + " ORDER BY id DESC LIMIT ?", (*parameters, limit)).fetchall()
        finally:
            connection.close()
        return [
            Ticket(
                ticket_name(r[0]),
                r[1],
                r[2],
                r[3],
                json.loads(r[4]),
                json.loads(r[5]),
                json.loads(r[6]),
                r[7],
            )
            for r in rows
        ]
