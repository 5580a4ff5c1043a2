"""The sources under an answer: the props of the chat's own element `OpenbaarSources`
(assets/public/elements/OpenbaarSources.jsx), as pure functions of an Answer and the stored document texts.

A compact numbered list (number, title, date; a click opens speaker, a link to the original and "show in the
source"). "Show in the source" shows the document's stored cleaned text, the text every quote was checked against,
never a model's text: the paragraphs around the quote (the whole document when it is short), with the quote's
verified `start`/`end` offsets to highlight. Everything is plain text here; the element renders it as React text
nodes (escaped by construction) and only links `url`s that `safe_url` lets through.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.answer.base import Answer, Citation, DocumentTexts
from assistant.answer.quotes import locate_quote, normalise_for_match
from assistant.i18n import t
from assistant.interfaces.chat.view import language_name, safe_url

ELEMENT = "OpenbaarSources"  # the element's name is its file: public/elements/OpenbaarSources.jsx
WINDOW_CHARS = 6000  # at most about this much of a document is shown around a quote (whole paragraphs)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph of a stored text (paragraphs are separated by blank lines), stripped."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        chunk = text[position:end]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk.rstrip())
        if trail > lead:
            spans.append((position + lead, position + trail))
        position = match.end() if match else len(text)
    return spans


def window(spans: list[tuple[int, int]], start: int, end: int, budget: int = WINDOW_CHARS) -> tuple[int, int]:
    """Indexes (first, last) of the paragraphs to show for the span start..end: the paragraphs holding it, then
    neighbours on both sides while the text stays within `budget` characters."""
    holding = [i for i, (s, e) in enumerate(spans) if s < end and e > start] or [
        min(range(len(spans)), key=lambda i: abs(spans[i][0] - start))
    ]
    first, last = holding[0], holding[-1]
    while True:
        grown = False
        for candidate in (first - 1, last + 1):
            if 0 <= candidate < len(spans):
                lo, hi = min(first, candidate), max(last, candidate)
                wider = spans[hi][1] - spans[lo][0]
                if wider <= budget:
                    first, last, grown = lo, hi, True
        if not grown:
            return first, last


def _span(citation: Citation, text: str) -> tuple[int, int] | None:
    """The quote's verified offsets in the stored text; located again if a composer did not record them."""
    start, end = citation.start, citation.end
    if start is not None and end is not None and 0 <= start < end <= len(text):
        return start, end
    return locate_quote(citation.quote, text)


def sources_props(answer: Answer, texts: DocumentTexts, lang: str, anchor: str) -> dict[str, Any]:
    """The element's props: labels in `lang` (the answer's language), one item per citation in [n] order, and
    the stored passages they point into (shared when several quotes come from the same part of a document)."""
    shown_text = normalise_for_match(answer.answer)
    passages: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    cache: dict[str, str] = {}
    for citation in sorted(answer.citations, key=lambda c: c.n):
        if citation.doc_id not in cache:
            cache[citation.doc_id] = texts.text(citation.doc_id) or ""
        text = cache[citation.doc_id]
        span = _span(citation, text) if text else None
        key = None
        if span is not None:
            spans = paragraphs(text)
            if spans:
                first, last = window(spans, *span)
                key = f"{citation.doc_id}#{first}-{last}"
                passages.setdefault(
                    key,
                    {
                        "before": first > 0,
                        "after": last < len(spans) - 1,
                        "paragraphs": [{"start": s, "text": text[s:e]} for s, e in spans[first : last + 1]],
                    },
                )
        note = None
        if citation.language in ("nl", "en") and citation.language != lang:
            note = t("ui.source_translated", lang, language=language_name(citation.language, lang))
        quote_shown = normalise_for_match(citation.quote) in shown_text
        items.append(
            {
                "n": citation.n,
                "title": citation.title or citation.doc_id,
                "date": citation.date,
                "meta": " · ".join(str(v) for v in (citation.speaker, citation.party) if v) or None,
                "url": safe_url(citation.url),
                "quote": None if quote_shown else citation.quote,  # each quote is shown once
                "note": note,
                "passage": key,
                "mark": list(span) if span else None,
            }
        )
    return {
        "anchor": anchor,
        "labels": {
            "heading": t("ui.sources_heading", lang),
            "show": t("ui.source_show", lang),
            "open": t("ui.source_open", lang),
            "close": t("ui.close", lang),
            "note": t("ui.source_passage_note", lang),
            "before": t("ui.source_text_before", lang),
            "after": t("ui.source_text_after", lang),
        },
        "sources": items,
        "passages": passages,
    }
