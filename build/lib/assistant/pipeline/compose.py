"""Write the answer from the passages with the configured composer (streaming through the request's sink)."""

from __future__ import annotations

from assistant.answer.base import ComposeError, Composer
from assistant.pipeline.context import FallbackReason, RequestContext


class Compose:
    """Ask the composer for an answer; when it cannot answer (ComposeError), mark the request for the fallback."""

    name = "compose"

    def __init__(self, composer: Composer) -> None:
        self.composer = composer

    def __call__(self, ctx: RequestContext) -> None:
        ctx.composer = self.composer
        try:
            ctx.answer = self.composer.compose(ctx)
        except ComposeError as exc:
            ctx.stats.update(exc.stats)
            ctx.fallback = FallbackReason.COMPOSER_FAILED
            ctx.fallback_notes = list(exc.notes)
            ctx.answer = None
