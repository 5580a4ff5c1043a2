"""The chat-model client: OpenAI or any OpenAI-compatible server, with bounded time and retries.

- The LLM calls of one request (condensing + answering) share one deadline (`llm_timeout`, 30 s by default),
  retries included.
- No data for `llm_stall_timeout` seconds (before the first chunk or between chunks) counts as a timeout/stall.
- At most `llm_max_retries` (<= 2) retries, only before anything was streamed, on 429, 5xx, timeouts and connection
  errors, after `Retry-After` or an exponential back-off, both with random jitter, never beyond the deadline.
- The request runs in a worker thread that puts chunks on a queue; the calling thread waits on the queue with the
  remaining time and calls `on_text` itself, so a hung connection never holds the caller past its deadline.
- Every failure is an `LLMError` with a short `kind` (never the server's text), which callers turn into a fallback.
- The model's stream is capped on our side at `max_tokens` (plus `BUDGET_SLACK`): a server that ignores the
  budget is cut off (`too_long`), so a model that repeats itself forever costs neither time nor screen.

The caller passes the request's deadline (a `time.monotonic()` value) and its stats dict; counts for the request's
log line are added to that dict.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2  # the HTTP library of openai 3.x: its transport errors can escape while a stream is read

from assistant.answer.base import ComposeError
from assistant.answer.llm.config import LLMConfig
from ingestion.tokens import count_tokens

MIN_RETRY_WINDOW = 0.05  # seconds: a retry needs at least this much time left before the deadline
BUDGET_SLACK = (
    0.1  # another server's tokenizer counts differently: a stream may run this share over max_tokens
)
_TRANSPORT_ERRORS = (httpx2.TransportError,)


class LLMError(ComposeError):
    """A failed LLM call. `kind`: timeout, stalled, rate_limited, server_error, connection, stream_cut,
    bad_request, auth, malformed, too_long (past the token budget), unexpected."""

    RETRYABLE = frozenset({"timeout", "rate_limited", "server_error", "connection"})

    def __init__(self, kind: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(kind, notes=[f"llm_error:{kind}"], stats={"llm_error": kind})
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in self.RETRYABLE


def _retry_after(headers: Any) -> float | None:
    try:
        if headers.get("retry-after-ms") is not None:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        if headers.get("retry-after") is not None:
            return max(0.0, float(headers["retry-after"]))
    except (TypeError, ValueError):
        return None
    return None


def classify(exc: BaseException) -> LLMError:
    """The LLMError for an exception raised by the openai client or httpx."""
    import openai

    if isinstance(exc, LLMError):
        return exc
    transport = _TRANSPORT_ERRORS
    if isinstance(exc, openai.APITimeoutError) or (
        isinstance(exc, transport) and "Timeout" in type(exc).__name__
    ):
        return LLMError("timeout")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            return LLMError("rate_limited", status, _retry_after(exc.response.headers))
        if status >= 500:
            return LLMError("server_error", status, _retry_after(exc.response.headers))
        if status in (401, 403):
            return LLMError("auth", status)
        return LLMError("bad_request", status)
    if isinstance(exc, openai.APIConnectionError) or (
        isinstance(exc, transport) and "Connect" in type(exc).__name__
    ):
        return LLMError("connection")
    if isinstance(exc, transport):  # RemoteProtocolError, ReadError: the stream was cut
        return LLMError("stream_cut")
    if isinstance(exc, ValueError):  # an SSE event that is not JSON
        return LLMError("malformed")
    return LLMError("unexpected")


_END = object()


def encoding_for(model: str) -> str:
    """The tiktoken encoding that approximates `model` (o200k for the gpt-4o/4.1/5 and o-series families)."""
    name = model.lower().rsplit("/", 1)[-1]
    return (
        "o200k_base"
        if name.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"))
        else "cl100k_base"
    )


class LLMClient:
    """Chat completions with a deadline, bounded retries and stall detection (see the module docstring)."""

    def __init__(
        self,
        config: LLMConfig,
        *,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import openai

        from ingestion.tokens import ensure_offline_encodings

        ensure_offline_encodings()  # before any library code may reach for tiktoken
        self.model = config.model
        self.encoding = encoding_for(config.model)
        self.timeout = config.timeout
        self.stall = min(config.stall_timeout, config.timeout)
        self.max_retries = min(config.max_retries, 2)
        self.backoff = backoff
        self.sleep = sleep
        key = config.api_key or "not-needed"
        # The read timeout is only a backstop that frees the worker thread; the caller's clock decides.
        timeout = openai.Timeout(self.stall + 1.0, connect=min(5.0, self.timeout))
        self._client = openai.OpenAI(
            api_key=key, base_url=config.base_url or None, timeout=timeout, max_retries=0
        )

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        deadline: float,
        stats: dict[str, Any],
        response_format: dict[str, Any] | None = None,
        stream: bool = True,
        on_text: Callable[[str], None] | None = None,
    ) -> tuple[str, str | None]:
        """(content, finish_reason) of one completion, done by `deadline` (time.monotonic()); raises LLMError.
        Counts (attempts, errors, time in the model, first chunk) are added to `stats`."""
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if response_format is not None:
            payload["response_format"] = response_format
        attempt = 0
        started = time.perf_counter()
        try:
            while True:
                attempt += 1
                result = self._try(payload, stream, deadline, on_text, attempt, stats)
                if result is not None:
                    return result
        finally:
            stats["llm_ms"] = round(stats.get("llm_ms", 0.0) + (time.perf_counter() - started) * 1000, 2)

    def _try(
        self,
        payload: dict[str, Any],
        stream: bool,
        deadline: float,
        on_text: Callable[[str], None] | None,
        attempt: int,
        stats: dict[str, Any],
    ) -> tuple[str, str | None] | None:
        """One attempt: its result, None after waiting for a retry, or the LLMError raised."""
        stats["llm_attempts"] = stats.get("llm_attempts", 0) + 1
        forwarded = [False]
        try:
            return self._attempt(payload, stream, deadline, on_text, forwarded, stats)
        except LLMError as exc:
            stats.setdefault("llm_errors", []).append(
                exc.kind if exc.status is None else f"{exc.kind}:{exc.status}"
            )
            if not exc.retryable or forwarded[0] or attempt > self.max_retries:
                raise
            base = exc.retry_after if exc.retry_after is not None else self.backoff * 2 ** (attempt - 1)
            wait = base + random.uniform(0, self.backoff)  # jitter: callers do not retry in lockstep
            if time.monotonic() + wait > deadline - MIN_RETRY_WINDOW:
                raise
            self.sleep(wait)
            return None

    def _attempt(
        self,
        payload: dict[str, Any],
        stream: bool,
        deadline: float,
        on_text: Callable[[str], None] | None,
        forwarded: list[bool],
        stats: dict[str, Any],
    ) -> tuple[str, str | None]:
        items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        cancelled = threading.Event()

        def work() -> None:
            try:
                if not stream:
                    items.put(("done", self._client.chat.completions.create(**payload)))
                    return
                with self._client.chat.completions.create(**payload, stream=True) as chunks:
                    for chunk in chunks:
                        if cancelled.is_set():
                            return
                        items.put(("chunk", chunk))
                items.put(("end", _END))
            except BaseException as exc:  # handed to the caller's thread
                items.put(("error", exc))

        threading.Thread(target=work, name="openbaar-llm", daemon=True).start()
        parts: list[str] = []
        finish: str | None = None
        started = time.perf_counter()
        got_any = False
        budget = int(payload["max_tokens"] * (1 + BUDGET_SLACK)) + 8
        spent = 0
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LLMError("timeout" if not got_any else "stalled")
                try:
                    kind, item = items.get(timeout=min(self.stall, remaining))
                except queue.Empty:
                    raise LLMError("timeout" if not got_any else "stalled") from None
                if kind == "error":
                    error = classify(item)
                    if got_any and error.kind in ("connection", "timeout"):  # it broke mid-stream
                        error = LLMError("stream_cut" if error.kind == "connection" else "stalled")
                    raise error
                if kind == "done":
                    choice = item.choices[0] if item.choices else None
                    if choice is None or choice.message is None:
                        raise LLMError("malformed")
                    return choice.message.content or "", choice.finish_reason
                if kind == "end":
                    break
                if not got_any:
                    got_any = True
                    stats["llm_first_chunk_ms"] = round((time.perf_counter() - started) * 1000, 1)
                for choice in item.choices or []:
                    piece = choice.delta.content if choice.delta is not None else None
                    if piece:
                        spent += count_tokens(piece, self.encoding)
                        if spent > budget:  # the server ignores max_tokens: stop reading, show no more
                            raise LLMError("too_long")
                        parts.append(piece)
                        if on_text is not None:
                            forwarded[0] = True
                            on_text(piece)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        finally:
            cancelled.set()
        if finish is None:  # the stream ended without saying it was complete
            raise LLMError("stream_cut")
        return "".join(parts), finish
