"""The stores (feedback, API keys, traces, tickets) behave the same on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from tandem.config import Settings
from tandem.errors import ConfigError, InputError, StorageError
from tandem.route.policy import RoutingDecision
from tandem.route.tickets import TicketStore
from tandem.storage import Database, FeedbackStore, KeyStore, Schema, open_store
from tandem.storage.open import store_url as url_for
from tandem.trace.store import TraceStore

from .storage_support import postgres_database, store_url, trace_body, write_many

__all__ = ["postgres_database", "store_url"]  # fixtures used by the tests below


def handoff(queue: str = "safety") -> RoutingDecision:
    return RoutingDecision(action=f"handoff:{queue}", predictions={}, reasons=["risk=safety"])


# -- feedback -----------------------------------------------------------------------------------
def test_feedback_add_list_count(store_url: str) -> None:
    store = FeedbackStore(Database(store_url))
    assert store.count() == 0 and store.list() == []
    first = store.add(1, "spot on", trace_id="abc123", question="q?", answer="a.")
    time.sleep(0.01)
    second = store.add(-1, feedback_id="fb-2")
    assert second == "fb-2"
    assert store.add(-1, "again", feedback_id="fb-2") == "fb-2"  # idempotent: stored once
    assert store.count() == 2
    rows = store.list()
    assert [row["id"] for row in rows] == [second, first]
    assert rows[1] | {"created": 0} == {
        "id": first,
        "created": 0,
        "rating": 1,
        "comment": "spot on",
        "trace_id": "abc123",
        "question": "q?",
        "answer": "a.",
    }
    assert [row["id"] for row in store.list(limit=1)] == [second]
    assert [row["id"] for row in store.list(since=rows[0]["created"])] == [second]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"rating": 0}, "rating must be"),
        ({"rating": 2}, "rating must be"),
        ({"rating": True}, "rating must be"),
        ({"rating": 1, "comment": "x" * 2001}, "comment is 2001 characters"),
        ({"rating": 1, "feedback_id": "bad id!"}, "feedback_id must be"),
        ({"rating": 1, "trace_id": ""}, "trace_id must be"),
        ({"rating": 1, "question": 5}, "question must be text"),
    ],
)
def test_feedback_rejects_bad_input(tmp_path: Path, arguments: dict, message: str) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite")
    with pytest.raises(InputError, match=message):
        store.add(**arguments)
    with pytest.raises(InputError, match="limit must be"):
        store.list(limit=0)
    assert not (tmp_path / "f.sqlite").exists()  # nothing was written


# -- API keys -----------------------------------------------------------------------------------
def test_keys_create_verify_list_revoke(store_url: str) -> None:
    keys = KeyStore(Database(store_url))
    user, user_secret = keys.create("user", name="web app")
    admin, admin_secret = keys.create("admin")
    assert re.fullmatch(r"tdm_[A-Za-z0-9_-]{32}", user_secret)
    assert user.prefix == user_secret[:8] and user.scope == "user" and not user.revoked
    assert keys.verify(user_secret) == user
    assert keys.verify(admin_secret).scope == "admin"
    assert keys.verify(user_secret[:-1] + ("A" if user_secret[-1] != "A" else "B")) is None
    assert keys.verify("not-a-key") is None and keys.verify("") is None
    assert [key.id for key in keys.list()] == [user.id, admin.id]

    stored = keys.db.transaction(lambda c: c.execute(text("SELECT * FROM api_keys")).all())
    assert not any(user_secret in str(value) or admin_secret in str(value) for row in stored for value in row)

    assert keys.revoke(user.id) is True
    assert keys.verify(user_secret) is None and keys.verify(admin_secret) is not None
    assert keys.revoke(user.id) is True  # still exists, still revoked
    assert keys.revoke("no-such-key") is False
    assert [key.revoked for key in keys.list()] == [True, False]
    with pytest.raises(InputError, match="scope must be"):
        keys.create("root")  # type: ignore[arg-type]


# -- traces and tickets -------------------------------------------------------------------------
def test_traces_filter_and_prune(store_url: str) -> None:
    store = TraceStore(store_url)
    assert store.list() == []
    old = store.add(trace_body("old", created=1.0, route={"action": "handoff:safety"}))
    new = store.add(trace_body("new"))
    answered = store.add(trace_body("answered", route={"action": "answer"}))
    assert store.add(trace_body("again", id=new)) == new  # same id: stored once
    assert store.count() == 3
    assert [row["id"] for row in store.list(route="handoff")] == [old]
    assert [row["id"] for row in store.list(route="answer")] == [answered]
    assert {row["id"] for row in store.list(since=100.0)} == {new, answered}
    assert store.get(new)["question"] == "new" and store.list(limit=1)[0]["index_version"] == 3
    assert store.prune(older_than_days=1) == 1
    with pytest.raises(InputError, match="no trace"):
        store.get(old)


def test_tickets_numbered_per_store(store_url: str) -> None:
    store = TicketStore(store_url)
    assert store.recent() == []
    assert store.create("battery smoking", handoff()) == "T-000001"
    assert store.create("refund dispute", handoff("billing")) == "T-000002"
    assert [t.ticket for t in store.recent()] == ["T-000002", "T-000001"]
    [ticket] = store.recent(queue="safety")
    assert ticket.message == "battery smoking" and ticket.status == "open"
    assert ticket.reasons == ["risk=safety"]


# -- migrations ---------------------------------------------------------------------------------
def test_migrations_run_once_and_are_recorded(store_url: str) -> None:
    schema = Schema("demo", ("CREATE TABLE demo (x INTEGER)", "INSERT INTO demo (x) VALUES (1)"))
    for _ in range(2):  # a second process (a new Database) finds them done
        db = Database(store_url)
        db.migrate(schema)
        db.migrate(schema)
        assert db.applied("demo") == [1, 2]
        assert db.transaction(lambda c: c.execute(text("SELECT COUNT(*) FROM demo")).scalar()) == 1
    TicketStore(db).create("m", handoff())
    FeedbackStore(db).add(1)
    assert db.applied("tickets") == [1, 2, 3] and db.applied("feedback") == [1]

    longer = Schema("demo", (*schema.migrations, "ALTER TABLE demo ADD COLUMN y TEXT"))
    Database(store_url).migrate(longer)
    assert db.applied("demo") == [1, 2, 3]


def test_upgrade_from_old_user_version_files(tmp_path: Path) -> None:
    """Files made by the old `PRAGMA user_version` migrations keep their rows and gain new versions."""
    tickets_file, traces_file = tmp_path / "data" / "tandem.sqlite", tmp_path / "index" / "traces.sqlite"
    tickets_file.parent.mkdir()
    traces_file.parent.mkdir()
    old = sqlite3.connect(tickets_file)
    old.executescript(
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, queue TEXT NOT"
        " NULL, message TEXT NOT NULL, labels TEXT NOT NULL, confidences TEXT NOT NULL, reasons TEXT NOT"
        " NULL, status TEXT NOT NULL DEFAULT 'open'); CREATE INDEX tickets_queue ON tickets(queue, status);"
        "INSERT INTO tickets (created, queue, message, labels, confidences, reasons) VALUES"
        " ('2024-01-01T00:00:00Z', 'safety', 'old one', '{}', '{}', '[]'); PRAGMA user_version = 1;"
    )
    old.close()
    old = sqlite3.connect(traces_file)
    old.executescript(
        "CREATE TABLE traces (id TEXT PRIMARY KEY, created REAL NOT NULL, question TEXT NOT NULL, answer"
        " TEXT NOT NULL, mode TEXT NOT NULL, route TEXT, index_version INTEGER, total_ms REAL NOT NULL,"
        " body TEXT NOT NULL); CREATE INDEX traces_created ON traces(created);"
        " CREATE INDEX traces_route ON traces(route);"
        " INSERT INTO traces VALUES ('old1', 5.0, 'q', 'a', 'generated', NULL, 1, 2.0, '{\"id\": \"old1\"}');"
        " PRAGMA user_version = 1;"
    )
    old.close()

    tickets = TicketStore(tickets_file)  # a Path, as callers passed before
    assert [t.message for t in tickets.recent()] == ["old one"]
    assert tickets.create("new one", handoff()) == "T-000002"
    assert tickets.db.applied("tickets") == [1, 2, 3]  # 1 adopted; 2 (uid), 3 (transcript) applied
    traces = TraceStore.beside(tmp_path / "index")
    assert traces.get("old1") == {"id": "old1"} and traces.db.applied("traces") == [1]
    traces.add(trace_body("new"))
    assert traces.count() == 2


# -- several processes at once ------------------------------------------------------------------
def test_concurrent_writer_processes_lose_nothing(store_url: str) -> None:
    """4 processes start on an empty database at once (racing to migrate it) and write 50 rows each."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(4)
    workers = [context.Process(target=write_many, args=(store_url, n, 50, start)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    db = Database(store_url)
    assert FeedbackStore(db).count() == 200 and TraceStore(db).count() == 200
    assert db.applied("feedback") == [1] and db.applied("traces") == [1]


def test_threads_share_one_database(store_url: str) -> None:
    """A server's worker threads share one Database (one pool) and one migration."""
    db = Database(store_url)
    store = FeedbackStore(db)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: store.add(1, comment=str(n)), range(80)))
    assert store.count() == 80 and db.applied("feedback") == [1]


# -- settings -----------------------------------------------------------------------------------
def test_settings_choose_the_databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    assert url_for(settings, "main") == f"sqlite:///{tmp_path / 'data' / 'tandem.sqlite'}"
    assert url_for(settings, "traces") == f"sqlite:///{tmp_path / 'index' / 'traces.sqlite'}"
    assert open_store(settings, "main") is open_store(settings, "main")  # one pool per URL

    shared = settings.model_copy(update={"store_url": "postgresql://u:pw@db.example/tandem"})
    assert url_for(shared, "traces") == "postgresql://u:pw@db.example/tandem"
    database = open_store(shared, "main")
    assert database.dialect == "postgresql" and database.url.startswith("postgresql+psycopg://")
    assert database.where == "postgresql+psycopg://u:***@db.example/tandem"

    monkeypatch.setenv("TANDEM_TRACE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    loaded = Settings.load(None, index_dir=tmp_path / "index")
    assert open_store(loaded, "traces").path == tmp_path / "elsewhere.sqlite"

    from tandem.pipeline import Tandem

    bot = Tandem(tmp_path / "index", shared.model_copy(update={"trace_url": loaded.trace_url}))
    assert bot.tickets.db.dialect == "postgresql" and bot.traces.path == tmp_path / "elsewhere.sqlite"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite://", "sqlite:///:memory:", "not a url at all"])
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match=r"sqlite:///|SQLite store needs a file"):
        Database(url)


def test_bad_urls_in_settings_fail_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_STORE_URL", "mysql://u@h/db")
    with pytest.raises(ConfigError, match="store_url"):
        Settings.load(None)


def test_a_file_that_is_not_sqlite_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "f.sqlite").write_bytes(b"not a database " * 100)
    with pytest.raises(StorageError, match=r"cannot use the SQLite database .*f\.sqlite"):
        FeedbackStore(tmp_path / "f.sqlite").add(1)


def test_feedback_is_masked_before_it_is_written(tmp_path: Path) -> None:
    from tandem.guard.pii import mask_pii

    db = tmp_path / "f.sqlite"
    store = FeedbackStore(db, redact=mask_pii)
    store.add(-1, "call +44 20 7946 0958", question="card 4111 1111 1111 1111?", answer="mail jo@example.com")
    row = store.list()[0]
    assert (row["comment"], row["question"], row["answer"]) == (
        "call [PHONE]",
        "card [CARD]?",
        "mail [EMAIL]",
    )
    assert b"4111" not in db.read_bytes() and b"jo@example.com" not in db.read_bytes()
