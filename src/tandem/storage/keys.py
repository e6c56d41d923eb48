"""API keys: a secret shown once at creation, stored only as its SHA-256 digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, text

from tandem.errors import InputError
from tandem.storage.database import Database, Schema, as_database

SCHEMA = Schema(
    "api_keys",
    (
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            scope TEXT NOT NULL,
            prefix TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL UNIQUE,
            created DOUBLE PRECISION NOT NULL,
            revoked DOUBLE PRECISION
        );
        """,
    ),
)
SECRET_PREFIX = "tdm_"
SECRET_BYTES = 24  # 32 url-safe characters, 192 bits
VISIBLE_CHARS = 8  # "tdm_" and the first 4 random characters: enough to tell keys apart
SCOPES = ("user", "admin")
MAX_NAME_CHARS = 100
Scope = Literal["user", "admin"]


@dataclass(frozen=True)
class ApiKey:
    """A key's record: never the secret, only a prefix to recognise it by."""

    id: str
    name: str
    scope: str
    prefix: str
    created: float
    revoked: bool


def digest(secret: str) -> str:
    # A fast hash is right here: the secret is 192 random bits, not a password a person chose, so
    # there is nothing to brute-force and a slow KDF (bcrypt, argon2) would only slow every request.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class KeyStore:
    """Create, verify, list and revoke API keys.

    keys = KeyStore(Database("sqlite:///tandem-data/tandem.sqlite"))
    key, secret = keys.create("admin", name="ops laptop")  # show `secret` once
    keys.verify(secret).scope  # 'admin'
    keys.revoke(key.id)  # True; verify(secret) is None from now on
    """

    def __init__(self, db: Database | str | Path) -> None:
        self.db = as_database(db)

    def create(self, scope: Scope, name: str = "") -> tuple[ApiKey, str]:
        """A new key and its secret (`tdm_` + 32 url-safe characters), which is not stored."""
        if scope not in SCOPES:
            raise InputError(f"scope must be 'user' or 'admin', not {scope!r}")
        if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
            raise InputError(f"name must be text of at most {MAX_NAME_CHARS} characters, not {name!r}")
        secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        key = ApiKey(secrets.token_hex(6), name, scope, secret[:VISIBLE_CHARS], time.time(), False)

        def insert(connection: Connection) -> None:
            connection.execute(
                text(
                    "INSERT INTO api_keys (id, name, scope, prefix, secret_sha256, created)"
                    " VALUES (:id, :name, :scope, :prefix, :digest, :created) ON CONFLICT (id) DO NOTHING"
                ),
                {
                    "id": key.id,
                    "name": key.name,
                    "scope": key.scope,
                    "prefix": key.prefix,
                    "digest": digest(secret),
                    "created": key.created,
                },
            )

        self.db.migrate(SCHEMA)
        self.db.transaction(insert)
        return key, secret

    def verify(self, secret: str) -> ApiKey | None:
        """The key this secret belongs to, or None (unknown, malformed or revoked)."""
        if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
            return None
        if not self.db.exists():
            return None
        wanted = digest(secret)
        self.db.migrate(SCHEMA)
        row = self.db.transaction(
            lambda c: c.execute(
                text(
                    "SELECT id, name, scope, prefix, created, secret_sha256 FROM api_keys"
                    " WHERE secret_sha256 = :digest AND revoked IS NULL"
                ),
                {"digest": wanted},
            ).first(),
            write=False,
        )
        # The lookup is by digest; compare again in constant time so no timing depends on the secret.
        if row is None or not hmac.compare_digest(row[5], wanted):
            return None
        return ApiKey(row[0], row[1], row[2], row[3], row[4], False)

    def list(self) -> list[ApiKey]:
        """Every key, oldest first, revoked ones included (no secrets: they are not stored)."""
        if not self.db.exists():
            return []
        self.db.migrate(SCHEMA)
        rows = self.db.transaction(
            lambda c: c.execute(
                text("SELECT id, name, scope, prefix, created, revoked FROM api_keys ORDER BY created, id")
            ).all(),
            write=False,
        )
        return [ApiKey(r[0], r[1], r[2], r[3], r[4], r[5] is not None) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; True when it exists (and is now revoked, or already was), False when not."""
        if not self.db.exists():
            return False

        def update(connection: Connection) -> bool:
            connection.execute(
                text("UPDATE api_keys SET revoked = :now WHERE id = :id AND revoked IS NULL"),
                {"now": time.time(), "id": key_id},
            )
            found = connection.execute(text("SELECT 1 FROM api_keys WHERE id = :id"), {"id": key_id})
            return found.first() is not None

        self.db.migrate(SCHEMA)
        return self.db.transaction(update)
