"""OpenAI-compatible endpoints: `/v1/models`, `/v1/chat/completions` (SSE streaming), `/v1/embeddings`."""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from tandem.converse.session import load
from tandem.errors import TandemError
from tandem.index.filters import SearchFilters
from tandem.server import openai_format as fmt
from tandem.server.answer_stream import answer_events, cancel_on_disconnect
from tandem.server.auth import require
from tandem.server.errors import ApiError
from tandem.server.schemas import MODEL_NAME, ChatCompletionRequest, EmbeddingsRequest, Filters
from tandem.server.state import ServerState

log = logging.getLogger("tandem.server")

router = APIRouter(prefix="/v1", dependencies=[Depends(require("user"))], tags=["OpenAI-compatible"])


def get_state(request: Request) -> ServerState:
    return request.app.state.tandem


State = Annotated[ServerState, Depends(get_state)]


def to_filters(filters: Filters | None) -> SearchFilters | None:
    if filters is None:
        return None
    return SearchFilters(tuple(filters.source), tuple(filters.tag)) or None


def _check_model(name: str, accepted: set[str]) -> None:
    if name not in accepted:
        raise ApiError(
            404,
            f"model {name!r} does not exist here; use {MODEL_NAME!r} (GET /v1/models lists the models)",
            "model_not_found",
            param="model",
        )


@router.get("/models")
def models(state: State) -> dict:
    created = int(state.started)
    return {
        "object": "list",
        "data": [
            {"id": MODEL_NAME, "object": "model", "created": created, "owned_by": "tandem"},
            {"id": state.settings.encoder, "object": "model", "created": created, "owned_by": "tandem"},
        ],
    }


def open_conversation(state: ServerState, conversation_id: str | None, owner: str) -> str | None:
    """The caller's conversation to continue (404 when unknown, expired or another key's), else a
    new one (none when `store_conversations` is off)."""
    bot = state.bot
    if conversation_id is not None:
        load(bot.conversations, conversation_id, owner, last=0)
        return conversation_id
    return bot.start_conversation(owner) if state.settings.store_conversations else None


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request, state: State) -> object:
    """A grounded answer to the last user message; citations etc. in the `tandem` field."""
    _check_model(body.model, {MODEL_NAME, state.settings.generator})
    question = body.question().strip()
    if not question:
        raise ApiError(
            400, "the last user message is empty; send a question", "empty_message", param="messages"
        )
    state.bot.validate_question(question)  # size and emptiness checks before taking a generator slot
    filters = to_filters(body.filters)
    conversation_id = await run_in_threadpool(
        open_conversation, state, body.conversation_id, request.state.owner
    )
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    started = await state.queue.acquire()
    cancel = threading.Event()
    events = answer_events(
        state, question, filters, cancel, started, body.history(), conversation_id, request.state.owner
    )
    if body.stream:
        options = (body.model_extra or {}).get("stream_options") or {}
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return StreamingResponse(
            _sse(state, events, body.model, completion_id, include_usage),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    watcher = asyncio.create_task(cancel_on_disconnect(request, cancel))
    try:
        answer = None
        async for event in events:
            answer = event.answer or answer
    finally:
        watcher.cancel()
    if answer is None:
        raise ApiError(499, "the client closed the request before the answer was ready", "cancelled")
    state.metrics.answers.labels(answer.mode).inc()
    return fmt.completion(answer, body.model, completion_id)


async def _sse(
    state: ServerState, events: AsyncIterator, model: str, completion_id: str, include_usage: bool
) -> AsyncIterator[str]:
    yield fmt.chunk(completion_id, model, {"role": "assistant", "content": ""})
    first = True
    try:
        async for event in events:
            if event.answer is None:
                text = event.text if first else " " + event.text
                first = False
                yield fmt.chunk(completion_id, model, {"content": text})
                continue
            answer = event.answer
            state.metrics.answers.labels(answer.mode).inc()
            yield fmt.chunk(completion_id, model, {}, "stop", **{fmt.EXTENSION: fmt.extension(answer)})
            if include_usage:
                yield fmt.chunk(completion_id, model, None, usage=fmt.usage(answer))  # type: ignore[arg-type]
    except TandemError as exc:
        state.metrics.stream_errors.labels("generation_failed").inc()
        yield fmt.error_event(str(exc), "generation_failed")
    except Exception as exc:  # the status line is sent: the stream must still end with an error event
        log.exception("answer stream failed")
        state.metrics.stream_errors.labels("internal_error").inc()
        yield fmt.error_event(
            f"internal error ({type(exc).__name__}); the server log has the details", "internal_error"
        )
    yield fmt.DONE


@router.post("/embeddings")
async def embeddings(body: EmbeddingsRequest, state: State) -> dict:
    """Vectors from the index's encoder (normalised, so a dot product is the cosine)."""
    encoder = state.bot.encoder
    _check_model(body.model, {MODEL_NAME, state.settings.encoder, encoder.model_id})
    texts = [body.input] if isinstance(body.input, str) else body.input
    started = time.perf_counter()
    vectors = await run_in_threadpool(encoder.encode, texts)
    tokens = sum(len(spans) for spans in encoder.token_spans(texts))
    data = []
    for i, vector in enumerate(np.asarray(vectors, dtype=np.float32)):
        value: object = (
            base64.b64encode(vector.astype("<f4").tobytes()).decode()
            if body.encoding_format == "base64"
            else vector.tolist()
        )
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {
        "object": "list",
        "data": data,
        "model": encoder.model_id,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        fmt.EXTENSION: {"ms": round((time.perf_counter() - started) * 1000, 2)},
    }
