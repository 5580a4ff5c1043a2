"""The state of one question as it walks through the steps of the pipeline, and how a step ends the run."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from assistant.answer.base import Answer, Composer, Mode, Status, TokenSink
from assistant.i18n import framing, t
from assistant.safety.markdown import MarkdownStream
from vectorstore.records import Filters, Hit

log = logging.getLogger("openbaar.request")


class FallbackReason(StrEnum):
    """Why the fallback composer answers instead (the value is the note in the answer's JSON)."""

    COMPOSER_FAILED = "llm_failed"  # the composer raised ComposeError (its model failed)
    UNSUPPORTED = "llm_unsupported"  # the composer's answer kept no valid citation


class Stop(Exception):
    """Raised by a step to end the run; the context's answer is the reply."""


class SafeSink:
    """Wraps the caller's token callback. Every piece passes through a `MarkdownStream` first, so no interface
    (chat, widget, API stream, CLI) is ever sent a piece that renders as an image, a link or HTML, whichever
    composer wrote it. Remembers whether a composer streamed (`fed`); an exception in the callback stops further
    calls (a closed UI connection must not cost the answer)."""

    def __init__(self, callback: TokenSink | None) -> None:
        self.callback = callback
        self.fed = False
        self.stream = MarkdownStream()

    def __call__(self, text: str) -> None:
        if not text:
            return
        self.fed = True
        if self.callback is not None:  # nobody listening (a plain API call): nothing to make inert
            self._send(self.stream.feed(text))

    def close(self) -> None:
        """Send what was held back (an unfinished construct at the very end, made inert)."""
        if self.callback is not None:
            self._send(self.stream.finish())

    def _send(self, text: str) -> None:
        if self.callback is None or not text:
            return
        try:
            self.callback(text)
        except Exception:
            log.debug("on_token failed; streaming stopped", exc_info=True)
            self.callback = None


@dataclass
class RequestContext:
    """One question: what came in, what each step found, and the answer so far."""

    question: str
    history: list[str]
    filters: Filters | None
    k: int
    mode: Mode  # the pipeline's answer mode, for canned replies
    sink: SafeSink
    budget: float  # seconds all model calls of the request may take together (the clock starts at the first)
    stats: dict[str, Any] = field(default_factory=lambda: {"request_id": uuid.uuid4().hex[:12]})
    standalone: str = ""
    language: str = "nl"
    hits: list[Hit] = field(default_factory=list)
    query_vector: list[float] | None = None  # the standalone question's embedding, when dense retrieval works
    answer: Answer | None = None
    composer: Composer | None = None  # the composer that wrote `answer` (asked to finalise it)
    fallback: FallbackReason | None = None
    fallback_notes: list[str] = field(default_factory=list)  # notes of the answer that was given up
    notes: list[str] = field(default_factory=list)  # notes added to whatever answer is returned
    remarks: list[str] = field(
        default_factory=list
    )  # lines for the user put before whatever answer is returned
    context: list[tuple[str, int, int]] = field(
        default_factory=list
    )  # (doc_id, start, end) the composer read
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    deadline_at: float | None = None

    def emit(self, text: str) -> None:
        self.sink(text)

    def read(self, doc_id: str, start: int, end: int) -> None:
        """Record that the composer read this span of a document (what "the context" of the answer was)."""
        self.context.append((doc_id, start, end))

    @property
    def deadline(self) -> float:
        """time.monotonic() by which every model call must be done: `budget` after the first one asked."""
        if self.deadline_at is None:
            self.deadline_at = time.monotonic() + self.budget
        return self.deadline_at

    @property
    def framing(self) -> str:
        """nl or en: the language canned text is written in."""
        return framing(self.language)

    def canned(self, status: Status, key: str, notes: list[str] | None = None, **params: Any) -> Answer:
        """A canned reply (message `key`) in the question's language."""
        question = self.question
        return Answer(
            question,
            question,
            status,
            t(key, self.framing, **params),
            self.framing,
            mode=self.mode,
            notes=list(notes or []),
        )

    def stop(self, status: Status, key: str, notes: list[str] | None = None, **params: Any) -> None:
        """End the run with a canned reply."""
        self.answer = self.canned(status, key, notes, **params)
        raise Stop(key)
