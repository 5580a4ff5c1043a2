"""Every citation is checked against the stored text before anything is shown; failing closed.

A citation whose quote is not in the stored document text (or holds markup or a hidden instruction) is rejected;
the composer then keeps only what the valid citations support. An answer that claims support (`answered`,
`withheld`) but keeps no valid citation becomes `not_found` and the request is marked for the fallback; answers
that say "no" (`not_found`, `refused`, `error`) never show sources.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.base import SUPPORTING, Answer, Composer, DocumentTexts
from assistant.answer.quotes import verify_citations
from assistant.i18n import framing, t
from assistant.pipeline.context import FallbackReason, RequestContext
from assistant.safety.output import quote_is_safe


def verify_answer(answer: Answer, composer: Composer, texts: DocumentTexts) -> tuple[Answer, bool]:
    """(the verified answer, whether it lost all support)."""
    valid, rejected = verify_citations(answer.citations, texts)
    unsafe = [c for c in valid if not quote_is_safe(c.quote)]
    if unsafe:
        valid = [c for c in valid if quote_is_safe(c.quote)]
        rejected = [*rejected, *unsafe]
    if answer.status in SUPPORTING:
        answer = composer.finalise(answer, valid, rejected)
        if rejected and not any(n.startswith("citations_rejected:") for n in answer.notes):
            answer.notes.append(f"citations_rejected:{len(rejected)}")
    if answer.status in SUPPORTING and not answer.citations:
        unsupported = replace(
            answer,
            status="not_found",
            answer=t("answer.not_found", framing(answer.language)),
            citations=[],
            notes=[*answer.notes, "no_valid_citation"],
        )
        return unsupported, True
    if answer.citations and answer.status not in SUPPORTING:
        answer = replace(answer, citations=[])  # these statuses never show sources as support
    return answer, False


class Verify:
    """Check the composed answer's citations (see the module docstring)."""

    name = "verify"

    def __init__(self, texts: DocumentTexts) -> None:
        self.texts = texts

    def __call__(self, ctx: RequestContext) -> None:
        if ctx.answer is None or ctx.composer is None:
            return
        ctx.answer, unsupported = verify_answer(ctx.answer, ctx.composer, self.texts)
        if unsupported:
            ctx.fallback = FallbackReason.UNSUPPORTED
            ctx.fallback_notes = [n for n in ctx.answer.notes if n != "no_valid_citation"]
