"""JSON errors in the OpenAI shape (`{"error": {"message", "type", "code", "param"}}`) for every failure."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tandem.errors import ConfigError, IndexError_, InputError, ModelError, NotFoundError, TandemError

log = logging.getLogger("tandem.server")


class ApiError(Exception):
    """An error the client can act on: status, a message that says the fix, a stable code."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        kind: str = "invalid_request_error",
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.kind = status, message, code, kind
        self.param, self.headers = param, headers


def error_response(error: ApiError) -> JSONResponse:
    body = {"message": error.message, "type": error.kind, "code": error.code, "param": error.param}
    return JSONResponse({"error": body}, status_code=error.status, headers=error.headers)


def _from_tandem_error(exc: TandemError) -> ApiError:
    if isinstance(exc, NotFoundError):
        return ApiError(404, str(exc), "not_found")
    if isinstance(exc, InputError):
        return ApiError(400, str(exc), "invalid_input")
    if isinstance(exc, IndexError_):
        return ApiError(503, str(exc), "index_unavailable", "server_error")
    if isinstance(exc, ModelError):
        return ApiError(503, str(exc), "model_unavailable", "server_error")
    if isinstance(exc, ConfigError):
        return ApiError(500, str(exc), "bad_configuration", "server_error")
    return ApiError(500, str(exc), "tandem_error", "server_error")


def _validation_error(exc: RequestValidationError) -> ApiError:
    problem = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
    if problem.get("type") == "json_invalid":
        return ApiError(400, "the request body is not valid JSON", "invalid_json")
    where = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
    message = f"{where}: {problem['msg']}" if where else str(problem["msg"])
    return ApiError(422, message, "invalid_request", param=where or None)


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception to a JSON error; unexpected ones are logged and reported as 500."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(TandemError)
    async def _tandem(_: Request, exc: TandemError) -> JSONResponse:
        return error_response(_from_tandem_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        return error_response(ApiError(exc.status_code, str(exc.detail), codes.get(exc.status_code, "http")))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        message = f"internal error ({type(exc).__name__}); the server log has the details"
        return error_response(ApiError(500, message, "internal_error", "server_error"))
