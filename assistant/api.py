"""HTTP API, served by the same process as the chat: the same pipeline and the same JSON as `openbaar ask --json`.

Mounted at `/api`: `POST /api/ask`, `POST /api/ask/stream` (server-sent events), `GET /api/health`,
`GET /api/openapi.json`. Errors are JSON `{"error": {"code", "message"}}` in the request's language.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.answer.base import Answer
from assistant.factory import Assistant
from assistant.guard import MAX_QUESTION_CHARS
from assistant.messages import t
from assistant.settings import Settings
from vectorstore.results import Filters

log = logging.getLogger("openbaar.api")


class FiltersIn(BaseModel):
    """Optional filters; dates are ISO prefixes (YYYY, YYYY-MM, YYYY-MM-DD), inclusive."""

    model_config = ConfigDict(extra="forbid")
    since: str | None = None
    until: str | None = None
    language: str | None = None
    type: str | None = None
    speaker: str | None = None


class AskIn(BaseModel):
    """A question, with earlier user turns of the same conversation for follow-ups."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., description="The question.")
    history: list[str] = Field(default_factory=list, description="Earlier user questions, oldest first.")
    filters: FiltersIn | None = None
    mode: Literal["llm", "extractive"] | None = Field(None, description="Default: llm when configured.")


class ApiError(Exception):
    """An error response: HTTP status, machine-readable code, message key and parameters."""

    def __init__(
        self, status: int, code: str, key: str, headers: dict[str, str] | None = None, **params: Any
    ):
        super().__init__(code)
        self.status, self.code, self.key, self.headers, self.params = status, code, key, headers or {}, params


def request_language(request: Request) -> str:
    """nl when the client prefers Dutch (Accept-Language), else en."""
    return "nl" if request.headers.get("accept-language", "").strip().lower().startswith("nl") else "en"


class RateLimiter:
    """At most `limit` requests per client in any `window` seconds (in memory, per app process)."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> int:
        """0 when allowed (and counted), else the seconds to wait."""
        if self.limit <= 0:
            return 0
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, int(hits[0] + self.window - now) + 1)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[key]
            return 0


def create_api(get_assistant: Callable[[], Assistant], settings: Settings) -> FastAPI:
    """The API app; `get_assistant` returns the process's opened assistant (injected, opened once)."""
    api = FastAPI(
        title="Openbaar API",
        version="1",
        description="Answers about government statements with verified quotes.",
        docs_url=None,  # the interactive docs load scripts from a CDN; the schema is enough
        redoc_url=None,
    )
    keys = [k.strip() for k in (settings.api_keys.get_secret_value() if settings.api_keys else "").split(",")]
    keys = [k for k in keys if k]
    limiter = RateLimiter(settings.api_rate_limit)

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        message = t(exc.key, request_language(request), **exc.params)
        return JSONResponse(
            {"error": {"code": exc.code, "message": message}}, exc.status, headers=exc.headers
        )

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await _api_error(request, _validation_error(exc.errors()))

    @api.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.error("api error request_id=%s type=%s", request_id, type(exc).__name__, exc_info=exc)
        return await _api_error(request, ApiError(500, "internal", "api.internal", request_id=request_id))

    def client_id(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        return (
            "key:" + auth[7:][:8]
            if auth.lower().startswith("bearer ") and keys
            else ("ip:" + (request.client.host if request.client else "?"))
        )

    def check_key(request: Request) -> None:
        if not keys:
            return
        auth = request.headers.get("authorization", "")
        given = (
            auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
        )
        if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
            raise ApiError(401, "unauthorized", "api.unauthorized", {"WWW-Authenticate": "Bearer"})

    async def read_request(request: Request) -> AskIn:
        check_key(request)
        wait = limiter.check(client_id(request))
        if wait:
            raise ApiError(429, "rate_limited", "api.rate_limited", {"Retry-After": str(wait)}, seconds=wait)
        limit = settings.api_max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ApiError(413, "body_too_large", "api.body_too_large", limit=limit)
        body = bytearray()
        async for part in request.stream():
            body += part
            if len(body) > limit:
                raise ApiError(413, "body_too_large", "api.body_too_large", limit=limit)
        try:
            ask = AskIn.model_validate_json(bytes(body))
        except ValidationError as exc:
            raise _validation_error(exc.errors()) from exc
        if len(ask.question) > MAX_QUESTION_CHARS:
            raise ApiError(413, "question_too_long", "api.question_too_long", limit=MAX_QUESTION_CHARS)
        if len(ask.history) > settings.api_max_history or any(
            len(h) > MAX_QUESTION_CHARS for h in ask.history
        ):
            raise ApiError(
                413,
                "history_too_long",
                "api.history_too_long",
                limit=settings.api_max_history,
                chars=MAX_QUESTION_CHARS,
            )
        if ask.mode == "llm" and "llm" not in get_assistant().pipelines:
            raise ApiError(400, "llm_not_configured", "api.llm_not_configured")
        return ask

    def run(ask: AskIn, on_token: Callable[[str], None] | None = None) -> dict[str, Any]:
        pipeline = get_assistant().pipeline(ask.mode)
        filters = Filters(**ask.filters.model_dump()) if ask.filters else None
        return pipeline.run(ask.question, history=ask.history, filters=filters, on_token=on_token).to_dict()

    @api.post("/ask", response_model=Answer, summary="Answer a question with verified citations")
    async def ask(request: Request) -> dict[str, Any]:
        parsed = await read_request(request)
        return await asyncio.to_thread(run, parsed)

    @api.post(
        "/ask/stream",
        summary="The same answer as server-sent events",
        description="Events: `token` ({text}) while the answer is written, then `answer` (the verified answer, "
        "same JSON as /ask) and `done`; `error` ({code, message}) instead of `answer` when answering fails.",
    )
    async def ask_stream(request: Request) -> StreamingResponse:
        parsed = await read_request(request)
        lang = request_language(request)
        return StreamingResponse(
            _events(parsed, lang),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _events(parsed: AskIn, lang: str) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        streamed = False

        def on_token(text: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, ("token", text))

        async def work() -> None:
            try:
                answer = await asyncio.to_thread(run, parsed, on_token)
                await queue.put(("answer", answer))
            except Exception as exc:
                request_id = uuid.uuid4().hex[:12]
                log.error(
                    "api stream error request_id=%s type=%s", request_id, type(exc).__name__, exc_info=exc
                )
                await queue.put(
                    ("error", {"code": "internal", "message": t("api.internal", lang, request_id=request_id)})
                )

        task = asyncio.create_task(work())
        try:
            while True:
                kind, data = await queue.get()
                if kind == "token":
                    streamed = True
                    yield _sse("token", {"text": data})
                    continue
                if kind == "answer" and not streamed:  # a composer that does not stream: one token event
                    yield _sse("token", {"text": data["answer"]})
                yield _sse(kind, data)
                break
            yield _sse("done", {})
        finally:
            task.cancel() if not task.done() else None

    @api.get("/health", summary="Store, embedder and language model status")
    async def health() -> dict[str, Any]:
        assistant = get_assistant()
        stats = await asyncio.to_thread(assistant.store.catalog.stats)
        manifest = assistant.store.read_manifest() or {}
        return {
            "status": "ok",
            "store": {
                "documents": stats["documents"],
                "chunks": stats["chunks"],
                "date_range": stats["date_range"],
            },
            "embedder": manifest.get("embedding"),
            "dense_available": getattr(assistant.retriever, "dense_available", True),
            "llm_configured": "llm" in assistant.pipelines,
            "modes": sorted(assistant.pipelines),
            "default_mode": assistant.default_mode,
        }

    return api


def _validation_error(errors: list[Any]) -> ApiError:
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return ApiError(
        422, "invalid_request", "api.invalid_request", detail=f"{where}: {first.get('msg', 'invalid')}"
    )


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
