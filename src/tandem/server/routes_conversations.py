"""Stored conversations: start one, list yours, read one. A user key sees only its own; an admin key
may read any (to inspect a handoff)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from tandem.converse.session import load
from tandem.server.auth import require
from tandem.server.routes_openai import State

router = APIRouter(
    prefix="/v1/conversations", tags=["Conversations"], dependencies=[Depends(require("user"))]
)


def _reader(request: Request) -> str | None:
    """Whose conversations the caller may read: their own, or (admin) everyone's."""
    return None if request.state.scope == "admin" else request.state.owner


@router.post("", status_code=201)
async def start(request: Request, state: State) -> dict:
    """A new, empty conversation of the calling key; send its id as `conversation_id`."""
    conversation_id = await run_in_threadpool(state.bot.start_conversation, request.state.owner)
    return {"id": conversation_id, "object": "conversation"}


@router.get("")
async def recent(request: Request, state: State, limit: int = Query(20, ge=1, le=500)) -> dict:
    """The caller's live conversations, most recently continued first."""
    found = await run_in_threadpool(state.bot.conversations.recent, _reader(request), limit)
    rows = [{k: v for k, v in c.to_dict().items() if k != "exchanges"} for c in found]
    return {"object": "list", "data": rows}


@router.get("/{conversation_id}")
async def show(conversation_id: str, request: Request, state: State) -> dict:
    """One conversation with its turns (PII masked); 404 when unknown, expired or another key's."""
    conversation = await run_in_threadpool(load, state.bot.conversations, conversation_id, _reader(request))
    return conversation.to_dict()
