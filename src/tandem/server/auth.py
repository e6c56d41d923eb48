"""API-key checks: `Authorization: Bearer <key>` (what OpenAI clients send) or `X-API-Key`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from fastapi import Request

from tandem.converse.session import LOCAL_OWNER
from tandem.server.errors import ApiError

Scope = Literal["user", "admin"]


class VerifiedKey(Protocol):
    id: str
    scope: str


class KeyVerifier(Protocol):
    def verify(self, secret: str) -> VerifiedKey | None: ...


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def check_key(request: Request, needed: Scope) -> None:
    """Raise 401 (no or unknown key) or 403 (a user key on an admin endpoint); no-op without auth.
    Sets `request.state.owner`: the key's id, or "local" without auth."""
    state = request.app.state.tandem
    request.state.owner, request.state.scope = LOCAL_OWNER, "admin"
    if not state.auth:
        return
    secret = presented_key(request)
    if secret is None:
        raise ApiError(
            401,
            "missing API key: send 'Authorization: Bearer <key>'; an admin creates keys with "
            "`tandem keys create --scope user`",
            "missing_api_key",
            "authentication_error",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = state.keys.verify(secret)
    if key is None:
        raise ApiError(
            401,
            "invalid API key: it is unknown or was revoked; ask an admin for a key "
            "(`tandem keys create --scope user`)",
            "invalid_api_key",
            "authentication_error",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.scope = key.scope
    request.state.owner = key.id  # conversations are scoped to the key that started them
    if needed == "admin" and key.scope != "admin":
        raise ApiError(
            403,
            "this endpoint needs an admin key; create one with `tandem keys create --scope admin`",
            "insufficient_scope",
            "permission_error",
        )


def require(needed: Scope) -> Callable[[Request], None]:
    """A FastAPI dependency that lets a request through only with a key of `needed` scope."""

    def dependency(request: Request) -> None:
        check_key(request, needed)

    return dependency
