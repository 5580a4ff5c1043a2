"""Every citation is checked against the stored text before anything is shown; failing closed.

A citation whose quote is not in the stored document text (or holds markup or a hidden instruction) is rejected;
the composer then keeps only what the valid citations support. With a claim checker, every sentence must then be
supported by what it cites (its quote and passage: names, numbers, content terms, meaning), or it is dropped. An answer that claims support (`answered`,
`withheld`) but keeps no valid citation becomes `not_found` and the request is marked for the fallback; answers
that say "no" (`not_found`, `refused`, `error`) never show sources.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from assistant.answer.base import SUPPORTING, Answer, Citation, Composer, DocumentTexts
from assistant.answer.quotes import verify_citations
from assistant.i18n import framing, t
from assistant.pipeline.context import FallbackReason, RequestContext
from assistant.safety.claims import ClaimChecker, Evidence, filter_supported
from assistant.safety.output import quote_is_safe
from vectorstore.records import Hit


def evidence_for(citations: Sequence[Citation], hits: Sequence[Hit]) -> dict[int, Evidence]:
    """What each citation offers as support: its verified quote, the passage (retrieved hit) it is in, the
    document's language, title and speaker."""
    passages = {h.chunk_id: h for h in hits}
    out: dict[int, Evidence] = {}
    for c in citations:
        hit = passages.get(c.chunk_id)
        meta = " ".join(v for v in (c.title, c.speaker, c.party) if v)
        out[c.n] = Evidence(
            hit.text if hit else c.quote, c.quote, c.language or (hit.language if hit else None), meta
        )
    return out


def check_claims(answer: Answer, claims: ClaimChecker, hits: Sequence[Hit]) -> Answer:
    """The answer without sentences that what they cite does not support; citations no sentence cites left out."""
    text, dropped = filter_supported(
        claims, answer.answer, evidence_for(answer.citations, hits), answer.language
    )
    if not dropped:
        return answer
    used = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    citations = [c for c in answer.citations if c.n in used]
    notes = [*answer.notes, f"unsupported_claims_dropped:{dropped}"]
    return replace(answer, answer=text.strip(), citations=citations, notes=notes)


def verify_answer(
    answer: Answer,
    composer: Composer,
    texts: DocumentTexts,
    claims: ClaimChecker | None = None,
    hits: Sequence[Hit] = (),
) -> tuple[Answer, bool]:
    """(the verified answer, whether it lost all support). With `claims`, every sentence must also be supported
    by what it cites (assistant/safety/claims.py)."""
    valid, rejected = verify_citations(answer.citations, texts)
    unsafe = [c for c in valid if not quote_is_safe(c.quote)]
    if unsafe:
        valid = [c for c in valid if quote_is_safe(c.quote)]
        rejected = [*rejected, *unsafe]
    if answer.status in SUPPORTING:
        answer = composer.finalise(answer, valid, rejected)
        if rejected and not any(n.startswith("citations_rejected:") for n in answer.notes):
            answer.notes.append(f"citations_rejected:{len(rejected)}")
        if claims is not None and answer.citations:
            answer = check_claims(answer, claims, hits)
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

    def __init__(self, texts: DocumentTexts, claims: ClaimChecker | None = None) -> None:
        self.texts = texts
        self.claims = claims

    def __call__(self, ctx: RequestContext) -> None:
        if ctx.answer is None or ctx.composer is None:
            return
        ctx.answer, unsupported = verify_answer(ctx.answer, ctx.composer, self.texts, self.claims, ctx.hits)
        if unsupported:
            ctx.fallback = FallbackReason.UNSUPPORTED
            ctx.fallback_notes = [n for n in ctx.answer.notes if n != "no_valid_citation"]
