"""Milvus connections: where an index's collections live, one shared client per address, and
requests whose failures name what was attempted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tandem.errors import ConfigError, IndexError_
from tandem.index.vector_store import VectorStoreConfig

log = logging.getLogger("tandem.index.milvus_store")

DEFAULT_LITE_FILE = "milvus.db"  # in the index folder, when milvus_uri is not set
T = TypeVar("T")

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def is_local(uri: str) -> bool:
    return "://" not in uri


def resolve_uri(root: Path, configured: str | None, recorded: str | None) -> str:
    """The configured URI (a relative file path is relative to the working directory), else the one
    recorded at build time (a relative file is in the index folder), else `<index>/milvus.db`."""
    uri, base = (configured, Path.cwd()) if configured else (recorded or DEFAULT_LITE_FILE, root)
    return uri if not is_local(uri) else str((base / uri).resolve())


def recorded_uri(root: Path, uri: str) -> str:
    """How a manifest records `uri`: a Lite file inside the index folder relative to it, so the
    folder can move; a server URL as is (never the token)."""
    if not is_local(uri):
        return uri
    try:
        return Path(uri).relative_to(root.resolve()).as_posix()
    except ValueError:
        return uri


def connect(uri: str, token: str | None) -> Any:
    """A shared MilvusClient per URI (for a `.db` path pymilvus starts Milvus Lite in-process)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise ConfigError(
            "vector_store = 'milvus' needs pymilvus (and milvus-lite for a local file): "
            "pip install 'tandem[scale]'"
        ) from None
    key = (uri, token or "")
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            return client
        try:
            if is_local(uri):
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            client = MilvusClient(uri=uri, token=token or "")
        except Exception as exc:
            if is_local(uri):
                raise IndexError_(
                    f"cannot open the Milvus Lite file {uri} ({exc}); Milvus Lite serves one process at "
                    "a time: stop the other process using it (e.g. `tandem serve`), or run a Milvus "
                    "server and set milvus_uri to its URL"
                ) from None
            raise IndexError_(
                f"cannot reach Milvus at {uri} ({exc}); check milvus_uri and milvus_token, and that "
                "the server is running"
            ) from None
        _clients[key] = client
        return client


def call(what: str, action: Callable[[], T]) -> T:
    """Run one Milvus request; its failure becomes an IndexError_ naming what was attempted."""
    try:
        return action()
    except IndexError_:
        raise
    except Exception as exc:
        raise IndexError_(f"Milvus {what} failed: {exc}") from None


def has_collection(client: Any, name: str) -> bool:
    return bool(call(f"has_collection({name!r})", lambda: client.has_collection(name)))


def dimension_of(client: Any, name: str) -> int:
    fields = client.describe_collection(name)["fields"]
    return int(next(f["params"]["dim"] for f in fields if f["name"] == "vector"))


def dimension_error(name: str, uri: str, found: int, expected: int, root: Path) -> IndexError_:
    return IndexError_(
        f"Milvus collection {name!r} at {uri} holds vectors of dimension {found}, but index {root} "
        f"expects dimension {expected}; re-index into a new index folder "
        f"(`tandem ingest PATH --index NEW_DIR`)"
    )


def drop_collections(records: list[dict], root: Path, config: VectorStoreConfig) -> list[str]:
    """Drop the collections named in `records` (VectorsInfo dicts); failures are logged, not raised:
    an unreachable leftover is never read again."""
    dropped = []
    for record in records:
        uri = resolve_uri(root, None, record.get("uri"))
        names = [record.get("collection"), record.get("sentence_collection")]
        try:
            client = connect(uri, config.milvus_token)
            for name in filter(None, names):
                if client.has_collection(name):
                    client.drop_collection(name)
                    dropped.append(name)
        except Exception as exc:
            log.warning("could not drop Milvus collections %s at %s: %s", names, uri, exc)
    return dropped
