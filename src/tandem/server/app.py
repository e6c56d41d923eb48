"""`create_app`: one FastAPI app serving the API, health/metrics endpoints and the web page.

>>> from tandem import Tandem
>>> from tandem.server import create_app
>>> app = create_app(Tandem("tandem-index"), auth=False)  # then: uvicorn.run(app)
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from tandem.pipeline import Tandem
from tandem.server import routes_conversations, routes_openai, routes_tandem
from tandem.server.errors import install_error_handlers
from tandem.server.limits import BodyLimit
from tandem.server.state import ServerState

STATIC = Path(__file__).parent / "static"


def _version() -> str:
    try:
        return version("tandem")
    except PackageNotFoundError:
        return "0+unknown"


def create_app(bot: Tandem, auth: bool = True, warm_up: bool = True) -> FastAPI:
    """The service for `bot`'s index; `auth=False` lets every request through (local demos)."""
    state = ServerState(bot, auth)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            threading.Thread(target=state.warm_up, name="tandem-warm-up", daemon=True).start()
        else:
            state.ready.set()
        yield
        state.close()

    app = FastAPI(
        title="Tandem",
        version=_version(),
        description="Grounded, cited answers from your documents: an OpenAI-compatible API plus "
        "search, classification, documents, feedback and traces. Citations, the routing decision "
        "and the trace id of each answer are in the `tandem` field of chat completions.",
        lifespan=lifespan,
    )
    app.state.tandem = state
    install_error_handlers(app)
    app.middleware("http")(state.metrics.middleware)
    app.add_middleware(BodyLimit, max_bytes=bot.settings.max_request_bytes)
    app.include_router(routes_openai.router)
    app.include_router(routes_tandem.router)
    app.include_router(routes_conversations.router)

    @app.get("/healthz", tags=["Operations"])
    def healthz() -> dict:
        """The process is up (it may still be loading models)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["Operations"])
    def readyz() -> Response:
        """200 once models are loaded and the index is open; 503 while loading or after a failure."""
        if not state.ready.is_set():
            return JSONResponse({"status": "loading"}, status_code=503, headers={"Retry-After": "2"})
        if state.warm_up_error:
            return JSONResponse({"status": "failed", "error": state.warm_up_error}, status_code=503)
        if not bot.layout.exists():
            return JSONResponse(
                {"status": "no_index", "error": f"no index at {bot.layout.root}; upload documents first"},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "index_version": bot.snapshot.version})

    @app.get("/metrics", tags=["Operations"])
    def metrics() -> Response:
        """Prometheus text format."""
        return state.metrics.render()

    @app.get("/", include_in_schema=False)
    def index_page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
