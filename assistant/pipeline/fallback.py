"""When the composer failed or its answer kept no valid citation, the fallback composer answers instead."""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.base import SUPPORTING, Composer, DocumentTexts
from assistant.i18n import t
from assistant.pipeline.context import FallbackReason, RequestContext
from assistant.pipeline.verify import verify_answer

_REMARK = {
    FallbackReason.COMPOSER_FAILED: "answer.llm_fallback",
    FallbackReason.UNSUPPORTED: "answer.llm_unsupported",
}


class FallBack:
    """The fallback composer's verified answer, noting why; a remark says so when it gives more than a "no"
    (and always when the composer failed)."""

    name = "fallback"

    def __init__(self, composer: Composer, texts: DocumentTexts) -> None:
        self.composer = composer
        self.texts = texts

    def __call__(self, ctx: RequestContext) -> None:
        reason = ctx.fallback
        if reason is None:
            return
        ctx.composer = self.composer
        answer, _ = verify_answer(self.composer.compose(ctx), self.composer, self.texts)
        if reason is FallbackReason.COMPOSER_FAILED or answer.status in SUPPORTING:
            answer = replace(answer, answer=f"{t(_REMARK[reason], answer.language)}\n{answer.answer}")
        ctx.answer = replace(answer, notes=[*answer.notes, reason.value, *ctx.fallback_notes])
