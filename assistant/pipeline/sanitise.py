"""The last answer step: everything of the answer that reaches a page is made inert (assistant/safety/markdown.py).

Answer text, the rewritten question ("understood as") and the sources' titles, speakers and parties come from
documents, the model or the user: none may render as an image, HTML or a link, except links to the answer's own
sources. Quotes stay exactly as stored (a quote holding markup was already rejected by the verify step).
"""

from __future__ import annotations

from dataclasses import replace

from assistant.pipeline.context import RequestContext
from assistant.safety.markdown import neutralise


def plain(text: str | None) -> str | None:
    """Metadata shown as text: markup, bare URLs and e-mail addresses removed, whitespace on one line."""
    if not text:
        return text
    return " ".join(neutralise(text, bare_urls="remove").split()) or None


class SanitiseAnswer:
    """Make the answer's text, rewritten question and source metadata inert (see the module docstring)."""

    name = "sanitise"

    def __call__(self, ctx: RequestContext) -> None:
        answer = ctx.answer
        if answer is None:
            return
        citations = [
            replace(c, title=plain(c.title), speaker=plain(c.speaker), party=plain(c.party))
            for c in answer.citations
        ]
        allowed = [c.url for c in answer.citations if c.url]
        standalone = answer.standalone_question
        if standalone and standalone != answer.question:
            standalone = " ".join(neutralise(standalone, bare_urls="remove").split())
        ctx.answer = replace(
            answer,
            answer=neutralise(answer.answer, allowed),
            standalone_question=standalone,
            citations=citations,
        )
