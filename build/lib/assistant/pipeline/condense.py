"""Turn a follow-up into a question that stands on its own, so retrieval and the composer see all of it."""

from __future__ import annotations

from typing import Protocol

from assistant.pipeline.context import RequestContext
from assistant.pipeline.followup import condense as offline_condense


class Condenser(Protocol):
    """Follow-up + earlier user questions (oldest first) -> standalone question; may raise on failure."""

    def __call__(self, question: str, history: list[str], ctx: RequestContext) -> str: ...


class OfflineCondenser:
    """The deterministic condenser of `followup.py` (no model)."""

    def __call__(self, question: str, history: list[str], ctx: RequestContext) -> str:
        return offline_condense(question, history)


class CondenseFollowUp:
    """With earlier turns, ask the condenser for a standalone question; if it fails, the offline rules answer.

    Records `condense` in the request's stats (`llm`, or `fallback:<reason>`) and the note `condense_fallback`."""

    name = "condense"

    def __init__(self, condenser: Condenser | None = None) -> None:
        self.condenser = condenser or OfflineCondenser()

    def __call__(self, ctx: RequestContext) -> None:
        if not ctx.history:
            ctx.standalone = ctx.question
            return
        try:
            ctx.standalone = self.condenser(ctx.question, ctx.history, ctx)
        except Exception as exc:  # a broken condenser must not cost the answer
            ctx.stats["condense"] = f"fallback:{getattr(exc, 'kind', type(exc).__name__)}"
            ctx.notes.append("condense_fallback")
            ctx.standalone = offline_condense(ctx.question, ctx.history)
