"""Fixtures for the store tests: a throwaway PostgreSQL database on the local server, and workers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tandem.storage import Database, FeedbackStore
from tandem.trace.store import TraceStore

# The server the tests use; each run makes its own database on it and drops it afterwards.
ADMIN_URL = os.environ.get("TANDEM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CLUSTER = ("15", "main")


def admin_connection(url: str = ADMIN_URL):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def start_postgres() -> str | None:
    """Connect to the server, starting it when it is down; None when ready, else why not."""
    try:
        admin_connection().close()
        return None
    except ImportError:
        return "psycopg is not installed (pip install 'tandem[scale]')"
    except Exception as exc:  # any failure to connect: try to start it
        problem = " ".join(str(exc).split())
    for command in (["pg_ctlcluster", *CLUSTER, "start"], ["service", "postgresql", "start"]):
        if shutil.which(command[0]):
            subprocess.run(command, capture_output=True, timeout=60, check=False)
    for _ in range(30):
        try:
            admin_connection().close()
            return None
        except Exception as exc:
            problem = " ".join(str(exc).split())
            time.sleep(0.5)
    return f"PostgreSQL at {ADMIN_URL} is down and could not be started: {problem}"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The URL of a fresh database tandem_test_<random> on the local server, dropped at the end."""
    problem = start_postgres()
    if problem:
        pytest.skip(problem)
    name = f"tandem_test_{uuid.uuid4().hex[:10]}"
    with admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    start_postgres()  # in case a test left it down
    with admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_schema(database_url: str) -> str:
    """A URL whose connections work in a new, empty schema of `database_url` (a clean slate per test)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin_connection(database_url) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database_url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on an embedded SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return fresh_schema(request.getfixturevalue("postgres_database"))


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    return fresh_schema(postgres_database)


def trace_body(question: str, **extra: object) -> dict:
    return {
        "question": question,
        "answer": "a",
        "mode": "generated",
        "versions": {"index_version": 3},
        "total_ms": 5.0,
        "spans": [],
        **extra,
    }


def write_many(url: str, worker: int, count: int, start) -> None:
    """One writer process: `count` feedback rows and `count` traces, through its own connections."""
    start.wait()
    db = Database(url)
    feedback, traces = FeedbackStore(db), TraceStore(db)
    for number in range(count):
        feedback.add(1 if number % 2 else -1, comment=f"worker {worker} #{number}")
        traces.add(trace_body(f"worker {worker} #{number}"))
