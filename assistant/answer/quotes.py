"""Citation checks: a quote is shown only if it occurs in the stored cleaned text of its document.

Independent of any composer: the extractive composer and the LLM mode both run `verify_citations` on every
answer before anything is shown. Matching is exact first; then tolerant of whitespace, quote-mark and dash
variants only (never of different words), and the offsets always refer to the original stored text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from assistant.answer.base import Citation, DocumentTexts

MIN_QUOTE_ALNUM = (
    4  # a quote needs at least this many letters/digits: "de" occurs everywhere and proves nothing
)

_CHAR_MAP = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    "\u00a0": " ",
    "…": "...",
}
_SPACE_RUN = re.compile(r"\s+")


def _fold(ch: str) -> str:
    return _CHAR_MAP.get(ch, ch)


def normalise_for_match(text: str) -> str:
    """NFC, quote marks and dashes unified, runs of whitespace collapsed to one space, ends stripped."""
    text = unicodedata.normalize("NFC", text)
    return _SPACE_RUN.sub(" ", "".join(_fold(ch) for ch in text)).strip()


def _normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """`normalise_for_match` of an (already NFC) text, plus for every output character its index in `text`."""
    out: list[str] = []
    offsets: list[int] = []
    previous_space = True  # also strips leading whitespace
    for i, ch in enumerate(text):
        if ch.isspace():
            if not previous_space:
                out.append(" ")
                offsets.append(i)
            previous_space = True
            continue
        previous_space = False
        for piece in _fold(ch):
            out.append(piece)
            offsets.append(i)
    return "".join(out), offsets


def locate_quote(quote: str, doc_text: str, hint: int | None = None) -> tuple[int, int] | None:
    """(start, end) of `quote` in `doc_text`, or None. Exact match first (the occurrence at or after `hint`
    preferred), then a match after `normalise_for_match`, mapped back to offsets in `doc_text`."""
    if not quote or not doc_text:
        return None
    stripped = quote.strip()
    if sum(ch.isalnum() for ch in stripped) < MIN_QUOTE_ALNUM:
        return None
    if hint is not None and doc_text.startswith(stripped, max(hint, 0)):
        return hint, hint + len(stripped)
    found = doc_text.find(stripped, max(hint or 0, 0))
    if found < 0:
        found = doc_text.find(stripped)
    if found >= 0:
        return found, found + len(stripped)
    needle = normalise_for_match(stripped)
    haystack, offsets = _normalise_with_offsets(
        doc_text if unicodedata.is_normalized("NFC", doc_text) else unicodedata.normalize("NFC", doc_text)
    )
    if len(offsets) != len(haystack) or not needle:
        return None
    at = haystack.find(needle)
    if at < 0:
        return None
    if not unicodedata.is_normalized("NFC", doc_text):
        return None  # offsets would not refer to the stored text; fail closed (stored texts are NFC)
    return offsets[at], offsets[at + len(needle) - 1] + 1


def verify_citations(
    citations: Iterable[Citation], texts: DocumentTexts
) -> tuple[list[Citation], list[Citation]]:
    """Split citations into (valid, rejected). A valid one gets `start`/`end` and its quote replaced by the exact
    stored text at those offsets. Anything unexpected (missing document, a failing lookup) rejects: fail closed."""
    valid: list[Citation] = []
    rejected: list[Citation] = []
    for citation in citations:
        try:
            doc_text = texts.text(citation.doc_id)
            span = locate_quote(citation.quote, doc_text, citation.start) if doc_text else None
        except Exception:
            span = None
        if span is None:
            rejected.append(citation)
            continue
        start, end = span
        valid.append(replace(citation, quote=doc_text[start:end], start=start, end=end))
    return valid, rejected
