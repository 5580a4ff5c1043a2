"""The API's routes: `POST /ask`, `POST /ask/stream` (server-sent events) and `GET /health`."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from assistant.answer.base import Answer, TokenSink
from assistant.factory import Assistant
from assistant.i18n import t
from assistant.interfaces.http.errors import ApiError, invalid, request_language, validation_error
from assistant.interfaces.http.keys import ApiKeys
from assistant.interfaces.http.limits import RateLimiter, read_body
from assistant.interfaces.http.schemas import AskIn
from assistant.interfaces.http.shared_limits import shared_counter
from assistant.interfaces.streaming import in_answer_thread, stream_in_thread
from assistant.safety.input import MAX_QUESTION_CHARS
from assistant.settings import Settings
from vectorstore.records import FilterError, Filters

log = logging.getLogger("openbaar.api")


@dataclass
class Question:
    """A request that passed every check: what the pipeline is run with."""

    ask: AskIn
    filters: Filters | None


class Routes:
    """Reads and checks requests (key, rate, size, fields, filters) and answers them with the assistant."""

    def __init__(
        self,
        get_assistant: Callable[[], Assistant],
        settings: Settings,
        limiter: RateLimiter | None = None,
        login: Callable[[Request], bool] | None = None,
    ) -> None:
        self.get_assistant = get_assistant
        self.settings = settings
        self.keys = ApiKeys.parse(
            settings.api_keys.get_secret_value() if settings.api_keys else "",
            required=bool(settings.staff_users),
            login=login,
        )
        self.limiter = limiter or RateLimiter(settings.api_rate_limit, counter=shared_counter(settings))
        self.health_cache = HealthCache()

    async def read(self, request: Request) -> Question:
        self.keys.check(request)
        self.limiter.enforce(self.keys.client_id(request))
        body = await read_body(request, self.settings.api_max_body_bytes)
        try:
            ask = AskIn.model_validate_json(body)
        except ValidationError as exc:
            raise validation_error(exc.errors()) from exc
        if not ask.question.strip():
            raise invalid("question", "empty")
        if len(ask.question) > MAX_QUESTION_CHARS:
            raise ApiError(413, "question_too_long", "api.question_too_long", limit=MAX_QUESTION_CHARS)
        limit = self.settings.api_max_history
        if len(ask.history) > limit or any(len(h) > MAX_QUESTION_CHARS for h in ask.history):
            raise ApiError(
                413, "history_too_long", "api.history_too_long", limit=limit, chars=MAX_QUESTION_CHARS
            )
        try:
            filters = ask.filters.to_filters() if ask.filters else None
        except FilterError as exc:
            raise invalid(f"filters.{exc.field}", f"not a date: {exc.value}") from exc
        if ask.mode == "llm" and "llm" not in self.get_assistant().pipelines:
            raise ApiError(400, "llm_not_configured", "api.llm_not_configured")
        return Question(ask, filters)

    def run(self, question: Question, on_token: TokenSink | None = None) -> Answer:
        ask = question.ask
        pipeline = self.get_assistant().pipeline(ask.mode)
        return pipeline.run(ask.question, history=ask.history, filters=question.filters, on_token=on_token)

    async def events(self, question: Question, lang: str) -> AsyncIterator[str]:
        """`token` events while the answer is written, then `answer` (or `error`) and `done`."""
        streamed = False
        try:
            async for kind, value in stream_in_thread(lambda on_token: self.run(question, on_token)):
                if kind == "token":
                    streamed = True
                    yield sse("token", {"text": value})
                    continue
                answer = value.to_dict()
                if not streamed:  # a composer that does not stream: one token event
                    yield sse("token", {"text": answer["answer"]})
                yield sse("answer", answer)
        except Exception as exc:
            request_id = uuid.uuid4().hex[:12]
            log.error("api stream error request_id=%s type=%s", request_id, type(exc).__name__, exc_info=exc)
            yield sse(
                "error", {"code": "internal", "message": t("api.internal", lang, request_id=request_id)}
            )
        yield sse("done", {})

    async def health(self) -> dict[str, Any]:
        """The store's counts and embedder (read in the health thread: `HealthCache`), the rest read now (in
        memory: which generation answers, the modes)."""
        figures = await self.health_cache.get(self.store_figures)
        assistant = self.get_assistant()
        return {
            "status": "ok",
            "store": {
                **figures["store"],
                "generation": assistant.store.generation,  # what this process answers from
                "generation_published": assistant.store.latest_generation,  # the newest it has seen
            },
            "reload_interval_s": self.settings.reload_interval,
            "embedder": figures["embedder"],
            "dense_available": getattr(assistant.retriever, "dense_available", True),
            "llm_configured": "llm" in assistant.pipelines,
            "modes": sorted(assistant.pipelines),
            "default_mode": assistant.default_mode,
        }

    def store_figures(self) -> dict[str, Any]:
        store = self.get_assistant().store
        stats = store.catalog.stats()
        manifest = store.read_manifest() or {}
        return {
            "store": {
                "documents": stats["documents"],
                "chunks": stats["chunks"],
                "date_range": stats["date_range"],
            },
            "embedder": manifest.get("embedding"),
        }

    def register(self, api: FastAPI) -> None:
        @api.post("/ask", response_model=Answer, summary="Answer a question with verified citations")
        async def ask(request: Request) -> dict[str, Any]:
            question = await self.read(request)
            answer = await in_answer_thread(self.run, question)
            return answer.to_dict()

        @api.post(
            "/ask/stream",
            summary="The same answer as server-sent events",
            description="Events: `token` ({text}) while the answer is written, then `answer` (the verified answer, "
            "same JSON as /ask) and `done`; `error` ({code, message}) instead of `answer` when answering fails.",
        )
        async def ask_stream(request: Request) -> StreamingResponse:
            question = await self.read(request)
            return StreamingResponse(
                self.events(question, request_language(request)),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )

        @api.get("/health", summary="Store, embedder and language model status")
        async def health() -> dict[str, Any]:
            return await self.health()


class HealthCache:
    """`/health` answers at once, whatever else the server is doing: the store's figures are read in a thread of
    their own (never queued behind answers); a call waits at most `patience` seconds for a fresh read and otherwise
    gets the last figures (only the very first call waits for one)."""

    def __init__(self, patience: float = 0.02, max_age: float = 0.0) -> None:
        self.patience = patience
        self.max_age = max_age
        self.value: dict[str, Any] | None = None
        self.read_at = 0.0
        self.reading: asyncio.Future[dict[str, Any]] | None = None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openbaar-health")

    async def get(self, read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        if self.reading is None and (self.value is None or loop.time() - self.read_at > self.max_age):
            self.reading = asyncio.ensure_future(loop.run_in_executor(self.pool, read))
            self.reading.add_done_callback(lambda done: self._store(done, loop.time()))
        if self.reading is not None:
            try:
                wait = None if self.value is None else self.patience
                return await asyncio.wait_for(asyncio.shield(self.reading), timeout=wait)
            except TimeoutError:
                pass
        return self.value  # type: ignore[return-value]

    def _store(self, done: asyncio.Future[dict[str, Any]], now: float) -> None:
        self.reading = None
        if not done.cancelled() and done.exception() is None:
            self.value, self.read_at = done.result(), now


def sse(event: str, data: Any) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
