"""How the offline answerer writes an answer: quotes under a header per source ("Volgens <title> (<date>):"),
numbered [n] in order of first use, and how an answer keeps only its valid citations after verification.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from assistant.answer.base import Answer, Citation
from assistant.i18n import t
from vectorstore.records import Hit

_MARKER = re.compile(r"\[(\d+)\]")


class Quotable(Protocol):
    """A sentence to quote: the passage holding it and its span in the document."""

    hit: Hit
    text: str
    start: int
    end: int

    @property
    def key(self) -> tuple[str, int]: ...


def header(hit: Hit, framing: str) -> str:
    """The line above a source's quotes: title, date (or none), language when it differs, speaker."""
    title = hit.title or hit.doc_id
    translated = hit.language in ("nl", "en") and hit.language != framing
    key = "answer.source_translated" if translated else "answer.source"
    params: dict[str, str] = {"title": title}
    if translated:
        params["source_language"] = t(f"language.{hit.language}", framing)
    if hit.date:
        params["date"] = hit.date
    else:
        key += "_nodate"
    line = t(key, framing, **params)
    if hit.speaker:
        line = t("answer.source_speaker", framing, source=line.rstrip(":"), speaker=hit.speaker)
    return line


def render(
    blocks: Sequence[tuple[str | None, Sequence[Quotable]]], framing: str
) -> tuple[str, list[Citation]]:
    """The answer text and its citations: each block's intro line, then its quotes under their sources' headers."""
    lines: list[str] = []
    citations: list[Citation] = []
    numbers: dict[tuple[str, int], int] = {}
    current_doc: str | None = None
    for intro, quoted in blocks:
        if intro:
            lines.append(intro)
        for c in quoted:
            if c.hit.doc_id != current_doc:
                lines.append(header(c.hit, framing))
                current_doc = c.hit.doc_id
            n = numbers.get(c.key)
            if n is None:
                n = numbers[c.key] = len(citations) + 1
                citations.append(Citation.from_hit(n, c.hit, c.text, c.start, c.end))
            quoted_already = c.text[:1] in '“"„«' and c.text[-1:] in '”"»'
            key = "answer.quote_bare" if quoted_already else "answer.quote"
            lines.append(t(key, framing, quote=c.text, n=n))
    return "\n".join(lines), citations


def finalise(answer: Answer, valid: list[Citation], rejected: list[Citation]) -> Answer:
    """The answer with only valid citations: lines citing a rejected one removed, the rest renumbered 1..n."""
    if not rejected:
        return replace(answer, citations=valid)
    bad = {c.n for c in rejected}
    renumber = {c.n: i for i, c in enumerate(valid, 1)}
    lines = [line for line in answer.answer.split("\n") if not {int(n) for n in _MARKER.findall(line)} & bad]
    text = _MARKER.sub(lambda m: f"[{renumber.get(int(m.group(1)), m.group(1))}]", "\n".join(lines))
    citations = [replace(c, n=renumber[c.n]) for c in valid]
    notes = [*answer.notes, f"citations_rejected:{len(rejected)}"]
    return replace(answer, answer=text, citations=citations, notes=notes)
