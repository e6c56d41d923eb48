"""The wire side of the HTTP generator: server-sent events, error bodies, retryable failures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from tandem.errors import ModelError

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class ServerUnavailableError(ModelError):
    """The generator server could not be reached, timed out, failed, or cut a stream off."""


class Transient(Exception):
    """A failure worth retrying while no text has been streamed yet."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind  # "unreachable" | "timeout" | "status" | "closed"
        self.reason = reason


def sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The data of each server-sent event (comments, ids and event names are skipped)."""
    buffered: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            buffered.append(line[5:].removeprefix(" "))
        elif not line.strip() and buffered:
            yield "\n".join(buffered)
            buffered = []
    if buffered:
        yield "\n".join(buffered)


def error_detail(body: httpx.Response | dict[str, Any]) -> str:
    """The error text of an OpenAI-style, FastAPI-style or plain response, kept short."""
    if isinstance(body, httpx.Response):
        try:
            parsed: Any = body.json()
        except ValueError:
            return body.text.strip()[:200] or body.reason_phrase
    else:
        parsed = body
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed.get("detail", parsed.get("message", parsed)))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)[:200]
    return str(parsed)[:200]


def describe_transport_error(exc: httpx.TransportError) -> str:
    """A short reason for a failed connection (\"connection refused\" when it was)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError) and "refused" in text.lower():
        return "connection refused"
    return text


def model_names(served: list[str]) -> str:
    """Up to ten served model names, quoted, for an error message."""
    return ", ".join(repr(name) for name in served[:10]) if served else "no models"
