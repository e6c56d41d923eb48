"""Which database each store uses, from the settings: one `Database` per URL per process."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Literal

from tandem.storage.database import Database, sqlite_url

if TYPE_CHECKING:
    from tandem.config import Settings

StoreKind = Literal["main", "traces"]
MAIN_FILE = "tandem.sqlite"  # in data_dir: tickets, feedback, API keys
TRACES_FILE = "traces.sqlite"  # beside the index

_open: dict[str, Database] = {}
_lock = threading.Lock()


def store_url(settings: Settings, kind: StoreKind) -> str:
    """`main` (tickets, feedback, API keys): store_url, else tandem.sqlite in data_dir.
    `traces`: trace_url, else store_url, else traces.sqlite beside the index."""
    if kind == "main":
        return settings.store_url or sqlite_url(settings.data_dir / MAIN_FILE)
    if kind == "traces":
        return settings.trace_url or settings.store_url or sqlite_url(settings.index_dir / TRACES_FILE)
    raise ValueError(f"kind must be 'main' or 'traces', not {kind!r}")


def open_store(settings: Settings, kind: StoreKind) -> Database:
    """The `Database` for one kind of store; the same object (and connection pool) for the same URL.

    from tandem.storage import FeedbackStore, KeyStore, open_store
    feedback = FeedbackStore(open_store(settings, "main"))
    keys = KeyStore(open_store(settings, "main"))
    """
    url = store_url(settings, kind)
    with _lock:
        database = _open.get(url)
        if database is None:
            database = _open[url] = Database(url)
        return database
