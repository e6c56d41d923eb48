"""Tandem's own endpoints: search, classify, documents, sources, feedback and traces."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from tandem.documents.loaders import LOADERS, supported_extensions
from tandem.errors import InputError
from tandem.server.auth import require
from tandem.server.errors import ApiError
from tandem.server.routes_openai import State, to_filters
from tandem.server.schemas import ClassifyRequest, FeedbackRequest, SearchRequest
from tandem.server.state import ServerState

router = APIRouter(prefix="/v1", tags=["Tandem"])
User = Depends(require("user"))
Admin = Depends(require("admin"))
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,200}$")


@router.post("/search", dependencies=[User])
async def search(body: SearchRequest, state: State) -> dict:
    """Hybrid (or dense / BM25) search: passages with every score that ranked them."""
    started = time.perf_counter()
    passages = await run_in_threadpool(
        state.bot.search, body.query, body.k, to_filters(body.filters), body.mode
    )
    return {
        "query": body.query,
        "passages": [p.to_dict() for p in passages],
        "index_version": state.bot.snapshot.version,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }


@router.post("/classify", dependencies=[User])
async def classify(body: ClassifyRequest, state: State) -> dict:
    """Labels, confidences and the routing action the policy would take (needs a router)."""
    router_ = state.bot.router
    if router_ is None:
        raise ApiError(
            409,
            "no router is configured; start the server with `--router ROUTER_DIR_OR_TOML` "
            "(or set TANDEM_ROUTER)",
            "no_router",
        )
    decision = await run_in_threadpool(router_.classify, body.text)
    return dict(decision.to_dict())


@router.get("/sources/{doc_id:path}", dependencies=[User])
def source(doc_id: str, state: State) -> dict:
    """A document's text and its chunks' offsets, so a citation can be shown within its source."""
    snapshot = state.bot.snapshot
    found = snapshot.document_row(doc_id)
    if found is None:
        raise ApiError(
            404, f"no document {doc_id!r} in index version {snapshot.version}", "document_not_found"
        )
    _, source_path, title, kind, _, text = found
    chunks = [
        {
            "chunk_id": c.chunk_id,
            "start": c.start,
            "end": c.end,
            "heading_path": list(c.heading_path),
            "page": c.page,
        }
        for c in snapshot.chunks([row[0] for row in snapshot.chunk_rows_of(doc_id)])
    ]
    return {
        "doc_id": doc_id,
        "source": source_path,
        "title": title,
        "kind": kind,
        "text": text,
        "chunks": chunks,
    }


def _upload_name(name: str | None) -> str:
    """The bare file name, or 400 for anything that could escape the upload folder."""
    name = (name or "").strip()
    if not name or "/" in name or "\\" in name or ".." in name or not _SAFE_NAME.match(name):
        raise ApiError(
            400,
            f"unsafe file name {name!r}: use a plain name (letters, digits, spaces, . _ - ( ) +), "
            "no folders or '..'",
            "unsafe_file_name",
            param="files",
        )
    if Path(name).suffix.lower() not in LOADERS:
        raise ApiError(
            415,
            f"unsupported file type {Path(name).suffix or '(none)'!r} in {name!r}; supported: "
            f"{supported_extensions()}",
            "unsupported_file_type",
            param="files",
        )
    return name


@router.post("/documents", dependencies=[Admin], status_code=201)
async def upload_documents(
    files: Annotated[list[UploadFile], File(description="Documents to add or replace.")],
    state: State,
    tags: Annotated[str, Form(description="Comma-separated tags for these documents.")] = "",
) -> dict:
    """Save uploaded files in the upload folder and ingest them into a new index version."""
    names = [_upload_name(f.filename) for f in files]
    if len(set(names)) != len(names):
        raise ApiError(400, "the upload names the same file twice", "duplicate_file_name", param="files")
    folder = state.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    started = await state.ingest_queue.acquire()  # one ingest at a time; a full line gets 429
    try:
        saved: list[Path] = []
        for upload, name in zip(files, names, strict=True):
            target = folder / name
            partial = folder / f".{name}.{uuid.uuid4().hex[:8]}.part"
            partial.write_bytes(await upload.read())
            partial.replace(target)  # atomic: a crash never leaves half a file to ingest
            saved.append(target)
        tag_list = tuple(t.strip() for t in tags.split(",") if t.strip())
        wait_s = state.settings.upload_wait_s  # for an ingest by another process (the CLI)
        report = await run_in_threadpool(state.bot.ingest, saved, tag_list, wait_s=wait_s)
    finally:
        state.ingest_queue.release(started)
    if not report.ok:
        problems = "; ".join(f"{Path(p).name}: {r}" for p, r in report.skipped)
        raise ApiError(422, f"no document could be ingested: {problems}", "ingest_failed")
    return {**report.__dict__, "ok": report.ok}


@router.post("/feedback", dependencies=[User], status_code=201)
async def feedback(body: FeedbackRequest, state: State) -> dict:
    """Thumbs up/down (+ comment) on an answer, stored for review and new evaluation cases."""
    feedback_id = await run_in_threadpool(
        state.feedback.add, body.score, body.comment, body.trace_id, body.question, body.answer
    )
    state.metrics.feedback.labels("up" if body.score > 0 else "down").inc()
    return {"id": feedback_id, "stored": True}


@router.get("/traces", dependencies=[User])
def traces(
    state: State,
    limit: int = 20,
    route: str | None = None,
    since: float | None = None,
) -> dict:
    if not 1 <= limit <= 500:
        raise ApiError(
            422, f"limit must be between 1 and 500 (got {limit})", "invalid_request", param="limit"
        )
    return {"traces": state.bot.traces.list(since=since, route=route, limit=limit)}


@router.get("/traces/{trace_id}", dependencies=[User])
def trace(trace_id: str, state: State) -> dict:
    try:
        return state.bot.traces.get(trace_id)
    except InputError as exc:
        raise ApiError(404, str(exc), "trace_not_found") from None


@router.get("/info")
def info(state: State) -> dict:
    """What the web page shows before any question: the assistant's name and sample questions."""
    s = state.settings
    return {"name": s.assistant_name or f"Answers from {s.index_dir.name}", "samples": s.sample_questions}


@router.get("/whoami")
def whoami(request: Request) -> dict:
    """Whether this server wants a key, and the scope of the one presented (for the web page)."""
    from tandem.server.auth import presented_key

    state: ServerState = request.app.state.tandem
    if not state.auth:
        return {"auth": False, "scope": "admin"}
    secret = presented_key(request)
    key = state.keys.verify(secret) if secret else None
    return {"auth": True, "scope": key.scope if key else None}
