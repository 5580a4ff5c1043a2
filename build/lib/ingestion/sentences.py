"""Sentences of a cleaned document: what is embedded on its own, and what an offline answer may quote.

A sentence never crosses a line: list items and table rows are sentences of their own, without their list marker.
Each span is marked as a `statement` (may be quoted), a `question` (states nothing) or a `heading` (a title line:
a line of at most HEADING_WORDS words with no closing punctuation, no list marker and no digits, or a `#` line).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from ingestion.chunking import split_sentences
from vectorstore.records import Sentence

MIN_WORDS = 3  # shorter spans ("Ja.", "Dank u wel.") are not worth embedding or quoting
HEADING_WORDS = 10
_LINE = re.compile(r"[^\n]*\S")
_LIST_MARKER = re.compile(r"(?:[-*•]\s+|\d{1,2}[.)]\s+)")
_HEADING_MARK = re.compile(r"#{1,6}\s+")
_CLOSING = re.compile(r"[.!?:;…)\]\"'”’»]$")
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=512)
def sentence_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, kind) of every sentence of at least MIN_WORDS words; kind: statement, question or heading."""
    spans: list[tuple[int, int, str]] = []
    for s0, e0 in split_sentences(text):
        for m in _LINE.finditer(text, s0, e0):
            s, e = m.span()
            while s < e and text[s].isspace():
                s += 1
            kind = "statement"
            heading = _HEADING_MARK.match(text, s, e)
            marker = _LIST_MARKER.match(text, s, e)
            if heading:
                s, kind = heading.end(), "heading"
            elif marker and marker.end() < e:
                s = marker.end()
            span = text[s:e]
            if len(_WORD.findall(span)) < MIN_WORDS:
                continue
            if kind == "statement":
                if span.rstrip("”\"'’»)").endswith("?"):
                    kind = "question"
                elif _is_title_line(text, s, e, listed=bool(marker)):
                    kind = "heading"
            spans.append((s, e, kind))
    return tuple(spans)


def _is_title_line(text: str, start: int, end: int, listed: bool) -> bool:
    """A whole line with no closing punctuation, few words and no digits, not a list item: a title."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if listed or text[line_start:start].strip() or text[end:line_end].strip():
        return False  # part of a longer line
    span = text[start:end]
    return (
        not _CLOSING.search(span)
        and len(_WORD.findall(span)) <= HEADING_WORDS
        and not any(ch.isdigit() for ch in span)
    )


def sentence_id(doc_id: str, start: int, text: str) -> str:
    """Stable id: the same document, offset and text give the same id."""
    return hashlib.sha256(f"{doc_id}\x1f{start}\x1f{text}".encode()).hexdigest()[:24]


def document_sentences(doc_id: str, text: str) -> list[Sentence]:
    """The sentences of a document that are embedded (statements and questions; headings are not)."""
    out: list[Sentence] = []
    for start, end, kind in sentence_spans(text):
        if kind == "heading":
            continue
        piece = text[start:end]
        out.append(Sentence(sentence_id(doc_id, start, piece), doc_id, len(out), start, end, piece))
    return out
