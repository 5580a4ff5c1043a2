"""Errors of the HTTP API: JSON `{"error": {"code", "message"}}` with the message in the request's language."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from assistant.i18n import nl_or_en, t

log = logging.getLogger("openbaar.api")


class ApiError(Exception):
    """An error response: HTTP status, machine-readable code, message key and parameters."""

    def __init__(
        self, status: int, code: str, key: str, headers: dict[str, str] | None = None, **params: Any
    ) -> None:
        super().__init__(code)
        self.status, self.code, self.key, self.headers, self.params = status, code, key, headers or {}, params


def request_language(request: Request) -> str:
    """nl when the client prefers Dutch (Accept-Language), else en."""
    return nl_or_en(request.headers.get("accept-language"))


def invalid(where: str, message: str) -> ApiError:
    """A 422 naming the field and what is wrong with it."""
    return ApiError(422, "invalid_request", "api.invalid_request", detail=f"{where}: {message}")


def validation_error(errors: list[Any]) -> ApiError:
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return invalid(where, str(first.get("msg", "invalid")))


def error_body(request: Request, exc: ApiError) -> dict[str, Any]:
    return {"error": {"code": exc.code, "message": t(exc.key, request_language(request), **exc.params)}}


def install_handlers(api: FastAPI) -> None:
    """Every error becomes the JSON error shape; an unexpected one a 500 with a request id (logged, never shown)."""

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(request, exc), exc.status, headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await _api_error(request, validation_error(exc.errors()))

    @api.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.error("api error request_id=%s type=%s", request_id, type(exc).__name__, exc_info=exc)
        return await _api_error(request, ApiError(500, "internal", "api.internal", request_id=request_id))
