"""PostgreSQL only: a server restart in the middle of writes, an unreachable server, the CLI by URL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import text

from tandem.errors import StorageError
from tandem.route.policy import RoutingDecision
from tandem.route.tickets import TicketStore
from tandem.storage import Database, FeedbackStore, KeyStore
from tandem.trace.store import TraceStore

from .storage_support import CLUSTER, postgres_database, postgres_url, trace_body

pytestmark = pytest.mark.slow  # a PostgreSQL server and CLI processes

__all__ = ["postgres_database", "postgres_url"]  # fixtures used by the tests below


def test_restart_during_writes_loses_nothing(postgres_url: str) -> None:
    """Restart the server while one writer streams feedback and traces: every write lands, once."""
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        pytest.skip("restarting PostgreSQL needs pg_ctlcluster run as root")
    db = Database(postgres_url, retry_seconds=60)
    feedback, traces = FeedbackStore(db), TraceStore(db)
    started = db.transaction(lambda c: c.execute(text("SELECT pg_postmaster_start_time()")).scalar())
    restart: dict = {}

    def restart_server() -> None:
        time.sleep(0.3)
        restart["result"] = subprocess.run(
            ["pg_ctlcluster", *CLUSTER, "restart"], capture_output=True, text=True, timeout=120
        )

    thread = threading.Thread(target=restart_server)
    written = 0
    thread.start()
    while thread.is_alive() or written < 120:  # writes before, during and after the restart
        feedback.add(1, comment=f"#{written}", feedback_id=f"fb-{written}")
        traces.add(trace_body(f"#{written}", id=f"tr-{written}"))
        written += 1
        time.sleep(0.005)
    thread.join()
    result = restart["result"]
    assert result.returncode == 0, result.stderr
    restarted = db.transaction(lambda c: c.execute(text("SELECT pg_postmaster_start_time()")).scalar())
    assert restarted > started  # the server really went away and came back
    assert feedback.count() == written and traces.count() == written
    assert {row["id"] for row in feedback.list(limit=written)} == {f"fb-{n}" for n in range(written)}


def test_unreachable_server_names_the_url_not_the_password() -> None:
    db = Database("postgresql://tandem:s3cret-pw@127.0.0.1:1/tandem", retry_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        FeedbackStore(db).count()
    message = str(caught.value)
    assert "127.0.0.1:1/tandem" in message and "tandem:***@" in message and "s3cret-pw" not in message
    assert "check that PostgreSQL is running" in message
    assert time.monotonic() - started < 10


def test_wrong_database_fails_at_once(postgres_database: str) -> None:
    """A missing database will not appear by waiting: no retries, a clear error."""
    missing = postgres_database.rsplit("/", 1)[0] + "/tandem_no_such_database"
    db = Database(missing, retry_seconds=30)
    started = time.monotonic()
    with pytest.raises(StorageError, match="tandem_no_such_database"):
        KeyStore(db).list()
    assert time.monotonic() - started < 5


def test_cli_reads_tickets_and_traces_from_the_urls(postgres_url: str, tmp_path) -> None:
    TicketStore(postgres_url).create("swollen battery", RoutingDecision("handoff:safety", {}))
    trace_id = TraceStore(postgres_url).add(trace_body("where is my bike?"))
    env = {**os.environ, "TANDEM_STORE_URL": postgres_url, "COLUMNS": "200"}

    def tandem(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "tandem.cli", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)

    tickets = tandem("route", "tickets", "--json")
    assert tickets.returncode == 0, tickets.stderr
    assert json.loads(tickets.stdout)[0]["ticket"] == "T-000001"
    listed = tandem("traces", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["id"] for row in json.loads(listed.stdout)] == [trace_id]
    assert not (tmp_path / "tandem-data").exists() and not (tmp_path / "tandem-index").exists()
