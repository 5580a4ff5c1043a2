"""One question in, one verified answer out, as a list of small named steps over one request context:

    guard -> personal data -> condense -> language -> retrieve -> scope -> compose -> verify -> fall back
                                                                                  -> sanitise   (then always: log)

Every step reads and writes the `RequestContext`; any step can end the run with a canned reply (`ctx.stop`).
The same steps serve both answer modes: what differs is the composer (and condenser) they are given, never a
branch on the mode. `run` never raises: an unexpected failure becomes a canned "technical problem" answer
(status `error`), never exception text, and every run writes one log line without the question text.

Streaming: `run(..., on_token=f)` calls `f` from the calling thread with pieces of answer text as a streaming
composer produces them; otherwise once with the final text. Every piece is made inert first (no image, link or
HTML, whatever the composer wrote: `SafeSink`). The returned answer is the verified one and may differ from what
was streamed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from assistant.answer.base import Answer, Composer, DocumentTexts, Mode, TokenSink
from assistant.pipeline.compose import Compose
from assistant.pipeline.condense import CondenseFollowUp, Condenser
from assistant.pipeline.context import RequestContext, SafeSink, Stop
from assistant.pipeline.fallback import FallBack
from assistant.pipeline.guard import GuardQuestion
from assistant.pipeline.language import DetectLanguage
from assistant.pipeline.log import LogRequest
from assistant.pipeline.personal_data import MaskPersonalData
from assistant.pipeline.retrieve import Retrieve, Retriever
from assistant.pipeline.sanitise import SanitiseAnswer
from assistant.pipeline.scope import CheckScope
from assistant.pipeline.verify import Verify
from assistant.safety.claims import ClaimChecker
from vectorstore.records import Filters

DEFAULT_BUDGET_SECONDS = 30.0  # all model calls of one question together (retries included)


class Step(Protocol):
    """A named unit of the answer path; raises Stop (via `ctx.stop`) to end the run."""

    name: str

    def __call__(self, ctx: RequestContext) -> None: ...


class Pipeline:
    """Runs its steps in order over one request context; `run` never raises. Safe to call from several threads
    at once: a run keeps its state in its own context."""

    def __init__(
        self,
        steps: Sequence[Step],
        mode: Mode,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
        closing: Step | None = None,
    ) -> None:
        self.steps = list(steps)
        self.mode = mode
        self.budget_seconds = budget_seconds
        self.closing = closing or LogRequest()

    def run(
        self,
        question: str,
        history: list[str] | None = None,
        filters: Filters | None = None,
        k: int = 8,
        on_token: TokenSink | None = None,
    ) -> Answer:
        """The verified answer to `question` (see the module docstring)."""
        return self.run_context(question, history, filters, k, on_token).answer  # type: ignore[return-value]

    def run_context(
        self,
        question: str,
        history: list[str] | None = None,
        filters: Filters | None = None,
        k: int = 8,
        on_token: TokenSink | None = None,
    ) -> RequestContext:
        """Like `run`, but the whole request context: the answer plus what each step found (for evaluation)."""
        ctx = RequestContext(
            question=question,
            history=list(history or []),
            filters=filters,
            k=k,
            mode=self.mode,
            sink=SafeSink(on_token),
            budget=self.budget_seconds,
        )
        ctx.stats["mode"] = self.mode
        try:
            for step in self.steps:
                began = time.perf_counter()
                try:
                    step(ctx)
                except Stop:
                    break
                finally:
                    ctx.timings[step.name] = (time.perf_counter() - began) * 1000
            if ctx.answer is None:
                raise RuntimeError("no step produced an answer")
        except Exception as exc:  # last line of defence: a canned answer, the type in the log only
            ctx.stats["error"] = type(exc).__name__
            ctx.answer = ctx.canned("error", "answer.technical_problem", ["technical_problem"])
        answer = ctx.answer
        if ctx.remarks:
            answer = ctx.answer = replace(answer, answer="\n".join([*ctx.remarks, answer.answer]))
        answer.notes.extend(n for n in ctx.notes if n not in answer.notes)
        answer.timings_ms = {**ctx.timings, "total": (time.perf_counter() - ctx.started) * 1000}
        if not ctx.sink.fed:
            ctx.emit(answer.answer)
        ctx.sink.close()
        self.closing(ctx)
        return ctx


def answer_pipeline(
    retriever: Retriever,
    composer: Composer,
    texts: DocumentTexts,
    condenser: Condenser | None = None,
    fallback: Composer | None = None,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    claims: ClaimChecker | None = None,
) -> Pipeline:
    """The standard answer path: the steps of the module docstring with these parts (`claims`: every sentence
    of the composer's answer must be supported by what it cites)."""
    steps: list[Step] = [
        GuardQuestion(),
        MaskPersonalData(),
        CondenseFollowUp(condenser),
        DetectLanguage(),
        Retrieve(retriever),
        CheckScope(retriever),
        Compose(composer),
        Verify(texts, claims),
    ]
    if fallback is not None:
        steps.append(FallBack(fallback, texts))
    steps.append(SanitiseAnswer())
    return Pipeline(steps, composer.mode, budget_seconds)


__all__ = ["Pipeline", "RequestContext", "Step", "answer_pipeline"]
