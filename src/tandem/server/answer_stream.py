"""Run the (synchronous) pipeline in a worker thread and hand its events to the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence

from fastapi import Request

from tandem.converse.escalation import EarlierTurn
from tandem.converse.session import LOCAL_OWNER
from tandem.index.filters import SearchFilters
from tandem.pipeline import AnswerEvent
from tandem.server.state import ServerState

_DONE = object()


async def answer_events(
    state: ServerState,
    question: str,
    filters: SearchFilters | None,
    cancel: threading.Event,
    started: float,
    history: Sequence[str | EarlierTurn] = (),
    conversation_id: str | None = None,
    owner: str = LOCAL_OWNER,
) -> AsyncIterator[AnswerEvent]:
    """Events of `ask_stream`; leaving early sets `cancel`, which stops generation at the next token.

    The generator slot taken at `started` is released when the worker thread has really finished.
    """
    loop = asyncio.get_running_loop()
    events: asyncio.Queue = asyncio.Queue()

    def put(item: object) -> None:
        loop.call_soon_threadsafe(events.put_nowait, item)

    def work() -> None:
        answered = False
        try:
            for event in state.bot.ask_stream(question, filters, cancel, history, conversation_id, owner):
                answered = answered or event.answer is not None
                put(event)
        except BaseException as exc:  # handed to the request, which reports it
            put(exc)
        finally:
            if cancel.is_set() and not answered:
                state.metrics.cancelled.inc()
            put(_DONE)

    future = loop.run_in_executor(state.generation_pool, work)
    future.add_done_callback(lambda _: state.queue.release(started))
    try:
        while (item := await events.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancel.set()


async def cancel_on_disconnect(request: Request, cancel: threading.Event) -> None:
    """For non-streaming requests: notice a client that went away and stop its generation."""
    while not cancel.is_set():
        if await request.is_disconnected():
            cancel.set()
            return
        await asyncio.sleep(0.2)
