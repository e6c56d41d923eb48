"""The vectors of a version's evidence-unit texts, stored beside its chunks (units.sqlite).

    DIR/versions/v000003/units.sqlite   meta(name, value); vectors(key, vector)

A key is the BLAKE2b digest of one text the selector embeds (a unit, a unit under its heading, a
heading); a vector is float16. Whoever embeds unit texts rounds every vector to float16 as well
(`select.unit_embedding`), so a stored vector and one computed at question time are the same. The
file is written once by an ingest and read-only afterwards; keys make it content-addressed, so a
text kept from the previous version is copied, not embedded again.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

UNITS_FILE = "units.sqlite"
KEY_BYTES = 16
_LOOKUP_BATCH = 500  # keys per SELECT (SQLite allows 32766 parameters)
_COPY_BATCH = 20_000  # texts copied from the previous version at a time

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL) WITHOUT ROWID;
"""


def text_key(text: str) -> bytes:
    """The key a unit text is stored under."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


def encoder_label(model_id: str, backend: str) -> str:
    """Which encoder made the vectors: the same model on another backend gives other vectors."""
    return f"{model_id}@{backend}"


class StoredUnitVectors:
    """Read-only lookups in one version's units.sqlite; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        uri = f"file:{path}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self.encoder = dict(self._db.execute("SELECT name, value FROM meta").fetchall()).get(
                "encoder", ""
            )

    @classmethod
    def open(cls, folder: Path) -> StoredUnitVectors | None:
        """The version's stored unit vectors, or None when it was built without them."""
        path = folder / UNITS_FILE
        if not path.is_file():
            return None
        try:
            return cls(path)
        except sqlite3.DatabaseError:
            return None  # unreadable: every unit is embedded at question time instead

    def rows(self, keys: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
        """(key, float16 bytes) of each key stored."""
        found: list[tuple[bytes, bytes]] = []
        with self._lock:
            for start in range(0, len(keys), _LOOKUP_BATCH):
                batch = list(keys[start : start + _LOOKUP_BATCH])
                marks = ",".join("?" * len(batch))
                found += self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch)
        return found

    def get(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """The stored vector of each text found, by its position in `texts` (none from a damaged
        file: those texts are embedded instead)."""
        keys = [text_key(t) for t in texts]
        try:
            found = dict(self.rows(keys))
        except sqlite3.DatabaseError:
            return {}
        return {
            i: np.frombuffer(found[k], np.float16).astype(np.float32)
            for i, k in enumerate(keys)
            if k in found
        }

    def close(self) -> None:
        with self._lock:
            self._db.close()


class UnitVectorWriter:
    """Writes a new version's units.sqlite: vectors copied from the previous version's file where
    their texts were there, the rest added as they are embedded."""

    def __init__(self, folder: Path, encoder: str) -> None:
        self.path = folder / UNITS_FILE
        self.path.unlink(missing_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self._db.execute("INSERT INTO meta VALUES ('encoder', ?)", (encoder,))
        self.encoder = encoder

    def copy_known(self, previous: Path | None, texts: Sequence[str]) -> set[str]:
        """Copy the vectors of `texts` that the previous version stored (made by the same encoder);
        the texts copied."""
        source = previous / UNITS_FILE if previous is not None else None
        if source is None or not source.is_file() or not texts:
            return set()
        try:
            stored = StoredUnitVectors(source)
        except sqlite3.DatabaseError:
            return set()
        try:
            if stored.encoder != self.encoder:
                return set()
            copied: set[str] = set()
            for start in range(0, len(texts), _COPY_BATCH):  # bounded memory on a large index
                keys = {text_key(t): t for t in texts[start : start + _COPY_BATCH]}
                rows = stored.rows(list(keys))
                self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)
                copied.update(keys[k] for k, _ in rows)
            return copied
        except sqlite3.DatabaseError:
            return set()  # a damaged previous file: its texts are embedded again
        finally:
            stored.close()

    def add(self, texts: Iterable[str], vectors: np.ndarray) -> None:
        """Store `vectors` (one row per text; rounded to float16) under their texts' keys."""
        rows = [
            (text_key(t), np.asarray(v, np.float16).tobytes()) for t, v in zip(texts, vectors, strict=True)
        ]
        self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)

    def finish(self) -> None:
        self._db.commit()
        self._db.close()

    def discard(self) -> None:
        self._db.close()
        self.path.unlink(missing_ok=True)
