"""One database for Tandem's small stores: a SQLite file by default, or PostgreSQL through a URL.

Each store (tickets, feedback, API keys, traces) describes its tables as a `Schema` of numbered
migrations; `Database.migrate` applies the missing ones once, records them in `schema_migrations`,
and is safe when several processes start at once. `Database.transaction` runs a unit of work and
retries all of it while the connection is down (a PostgreSQL restart), so stores write idempotently
(ids made by the client, `ON CONFLICT DO NOTHING`): a retried write is neither lost nor doubled.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DBAPIError, OperationalError

from tandem.errors import ConfigError, StorageError

T = TypeVar("T")

Migration = str | Mapping[str, str]
"""SQL for both dialects, or `{"sqlite": ..., "postgresql": ...}` where they differ.
Statements are separated by `;`, so keep semicolons and `%` out of literals."""

MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    store TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (store, version)
)"""
ADVISORY_LOCK = 0x74616E64656D  # "tandem": one process at a time migrates a PostgreSQL database
PERMANENT = ("does not exist", "authentication failed", "pg_hba.conf", "permission denied")
EXAMPLE_URLS = "sqlite:///path/to/tandem.sqlite or postgresql://user:password@host:5432/database"


@dataclass(frozen=True)
class Schema:
    """A store's tables as numbered migrations: version N is `migrations[N - 1]`.

    `legacy_table` names the table that the old `PRAGMA user_version` migrations created in the
    store's SQLite file; when it exists, the versions that pragma counts are recorded, not re-run.
    """

    name: str
    migrations: tuple[Migration, ...]
    legacy_table: str | None = None

    def statements(self, version: int, dialect: str) -> list[str]:
        migration = self.migrations[version - 1]
        script = migration if isinstance(migration, str) else migration[dialect]
        return [statement.strip() for statement in script.split(";") if statement.strip()]


class Database:
    """A SQLite file or a PostgreSQL database; nothing connects until first use.

    db = Database("sqlite:///tandem-data/tandem.sqlite")  # or "postgresql://user:pw@host/db"
    db.transaction(lambda connection: connection.execute(text("SELECT 1")).scalar())  # 1
    """

    def __init__(self, url: str | Path, retry_seconds: float = 20.0) -> None:
        if retry_seconds < 0:
            raise ConfigError(f"retry_seconds must be 0 or more. Currently it is {retry_seconds}.")
        self.url, self.dialect, self.path = _parse_url(url)
        self.retry_seconds = retry_seconds
        self._password = make_url(self.url).password
        self._engine: Engine | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._migrated: set[str] = set()

    @property
    def where(self) -> str:
        """The SQLite file, or the URL with its password hidden: safe to show and to log."""
        if self.path is not None:
            return str(self.path)
        return make_url(self.url).render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Database({self.where!r})"

    def exists(self) -> bool:
        """False for a SQLite file not created yet: reads then return nothing instead of creating it."""
        return self.path is None or self.path.is_file()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is not None and self._pid != os.getpid():
                self._engine.dispose(close=False)  # a forked child must not share its parent's sockets
                self._engine = None
            if self._engine is None:
                self._engine = self._create_engine()
                self._pid = os.getpid()
            return self._engine

    def dispose(self) -> None:
        """Close pooled connections (the next use opens new ones)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def transaction(self, work: Callable[[Connection], T], write: bool = True) -> T:
        """Run `work(connection)` in one transaction and return its result.

        While the database cannot be reached (PostgreSQL restarting, a SQLite file locked), the
        whole unit is retried with backoff for up to `retry_seconds`; then a `StorageError` says
        what to check. `work` must therefore be safe to run twice. On SQLite a write transaction
        takes the write lock at once (BEGIN IMMEDIATE), so concurrent writers queue instead of failing.
        """
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.05
        while True:
            try:
                with self.engine.connect() as connection:
                    connection.execution_options(tandem_write=write)
                    with connection.begin():
                        return work(connection)
            except DBAPIError as exc:
                if not self._transient(exc):
                    # Connection and file problems become one readable error; bugs (SQL, integrity) stay.
                    if isinstance(exc, OperationalError) or type(exc) is DatabaseError:
                        raise self._storage_error(exc) from exc
                    raise
                if time.monotonic() + delay > deadline:
                    raise self._storage_error(exc) from exc
            time.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 1.0)

    def migrate(self, schema: Schema) -> None:
        """Bring `schema` up to date (once per process; later calls return at once)."""
        if schema.name in self._migrated:
            return
        self.transaction(lambda connection: self._apply(connection, schema))
        self._migrated.add(schema.name)

    def applied(self, store: str) -> list[int]:
        """Versions of `store` recorded in schema_migrations, in order."""

        def read(connection: Connection) -> list[int]:
            self._lock_migrations(connection)
            connection.exec_driver_sql(MIGRATIONS_TABLE)
            rows = connection.execute(
                text("SELECT version FROM schema_migrations WHERE store = :store ORDER BY version"),
                {"store": store},
            )
            return list(rows.scalars())

        return self.transaction(read)

    # -- internals ----------------------------------------------------------------------------
    def _create_engine(self) -> Engine:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for {self.path}: {exc}") from None
            engine = create_engine(self.url, pool_pre_ping=True, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        try:
            return create_engine(
                self.url,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 5, "application_name": "tandem"},
            )
        except ImportError:
            raise ConfigError(
                "PostgreSQL stores need the psycopg driver: pip install 'tandem[scale]' "
                "(or 'psycopg[binary]')"
            ) from None

    def _lock_migrations(self, connection: Connection) -> None:
        """One process at a time past this point, until the transaction ends (SQLite: BEGIN IMMEDIATE)."""
        if self.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})

    def _apply(self, connection: Connection, schema: Schema) -> None:
        self._lock_migrations(connection)
        connection.exec_driver_sql(MIGRATIONS_TABLE)
        applied = set(
            connection.execute(
                text("SELECT version FROM schema_migrations WHERE store = :store"), {"store": schema.name}
            ).scalars()
        )
        if not applied and self.dialect == "sqlite":
            applied = self._adopt_legacy(connection, schema)
        for version in range(1, len(schema.migrations) + 1):
            if version not in applied:
                for statement in schema.statements(version, self.dialect):
                    connection.exec_driver_sql(statement)
                _record(connection, schema.name, version)

    def _adopt_legacy(self, connection: Connection, schema: Schema) -> set[int]:
        """Record the versions that `PRAGMA user_version` says an older Tandem already applied."""
        if schema.legacy_table is None:
            return set()
        user_version = connection.exec_driver_sql("PRAGMA user_version").scalar() or 0
        table = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": schema.legacy_table},
        ).first()
        if not user_version or table is None:
            return set()
        adopted = set(range(1, min(user_version, len(schema.migrations)) + 1))
        for version in sorted(adopted):
            _record(connection, schema.name, version)
        return adopted

    def _transient(self, exc: DBAPIError) -> bool:
        if exc.connection_invalidated:
            return True
        if not isinstance(exc, OperationalError):
            return False
        if self.dialect == "sqlite":
            message = str(exc.orig).lower()
            return "locked" in message or "busy" in message
        # A wrong password or user, or a missing database, will not heal by waiting. Connection
        # failures carry no SQLSTATE in psycopg, so the server's message is what tells them apart.
        state = getattr(exc.orig, "sqlstate", None) or ""
        message = str(exc.orig).lower()
        return not (state.startswith("28") or state == "3D000" or any(p in message for p in PERMANENT))

    def _storage_error(self, exc: DBAPIError) -> StorageError:
        reason = " ".join(str(exc.orig).split())
        if self._password:
            reason = reason.replace(self._password, "***")
        if self.path is not None:
            return StorageError(
                f"cannot use the SQLite database {self.path} ({reason}); check that it is a SQLite "
                "file, that its folder is writable and that no other program keeps it locked"
            )
        return StorageError(
            f"cannot reach the database at {self.where} ({reason}); check that PostgreSQL is running "
            "and accepts connections there, and that the host, port, user, password and database in "
            "the URL (store_url / trace_url, TANDEM_STORE_URL / TANDEM_TRACE_URL) are right"
        )


def as_database(value: Database | str | Path) -> Database:
    """A Database as given, or one for a URL, or for a SQLite file path (what the stores once took)."""
    if isinstance(value, Database):
        return value
    if isinstance(value, str) and "://" in value:
        return Database(value)
    return Database(Path(value))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).expanduser().absolute()}"


def _parse_url(url: str | Path) -> tuple[str, str, Path | None]:
    """(SQLAlchemy URL, dialect, SQLite path or None) for a user's URL or a SQLite file path."""
    if isinstance(url, Path):
        url = sqlite_url(url)
    try:
        parsed = make_url(str(url).strip())
    except ArgumentError:
        shown = str(url).split("@")[-1]
        raise ConfigError(f"{shown!r} is not a database URL; use {EXAMPLE_URLS}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ConfigError(
                f"a SQLite store needs a file, not {parsed.render_as_string()!r}; use sqlite:///path/to/file"
            )
        path = Path(database).expanduser().absolute()
        return f"sqlite:///{path}", "sqlite", path
    if backend in ("postgresql", "postgres"):
        if "+" not in parsed.drivername:
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3
        return parsed.render_as_string(hide_password=False), "postgresql", None
    shown = parsed.render_as_string(hide_password=True)
    raise ConfigError(f"unsupported database URL {shown!r}; use {EXAMPLE_URLS}")


def _record(connection: Connection, store: str, version: int) -> None:
    connection.execute(
        text("INSERT INTO schema_migrations (store, version, applied) VALUES (:store, :version, :now)"),
        {"store": store, "version": version, "now": time.time()},
    )


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # Tandem issues BEGIN itself (see _sqlite_begin)
    dbapi_connection.execute("PRAGMA journal_mode = WAL")


def _sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get("tandem_write", True)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
