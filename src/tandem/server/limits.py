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
        seen, exceeded, responded = 0, False, False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # a chunked body without Content-Length
                    exceeded = True
                    raise HTTPException(413, self.message)
            return message

        async def send_413_instead(message: Message) -> None:
            """Whatever the app makes of the cut-off body (a form parser answers 400), the client
            is told the truth: 413."""
            nonlocal responded
            if not exceeded:
                responded = responded or message["type"] == "http.response.start"
                await send(message)
            elif not responded:
                responded = True
                await error_response(ApiError(413, self.message, "body_too_large"))(scope, receive, send)

        try:
            await self.app(scope, counting_receive, send_413_instead)
        except HTTPException:
            if not exceeded:
                raise
            if not responded:
                await error_response(ApiError(413, self.message, "body_too_large"))(scope, receive, send)
