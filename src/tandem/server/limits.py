"""Request body limit: a body over the configured size gets 413 before it is read into memory."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.server.errors import ApiError, error_response


class BodyLimit:
    """ASGI middleware: checks Content-Length up front and counts streamed (chunked) bodies."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    @property
    def message(self) -> str:
        return f"the request body is over the {self.max_bytes:,} byte limit (setting max_request_bytes)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(ApiError(413, self.message, "body_too_large"))(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # a chunked body without Content-Length
                    raise HTTPException(413, self.message)
            return message

        await self.app(scope, counting_receive, send)
