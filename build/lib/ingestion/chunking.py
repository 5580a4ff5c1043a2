"""Sentence-aware chunking sized in tokens. Pure functions: text in, spans and chunks out."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from ingestion.tokens import count_tokens
from vectorstore.records import Chunk

# Words ending in a full stop that do not end a sentence (Dutch and English), compared in lower case.
_ABBREVIATIONS = frozenset(
    [
        "a.s",
        "bijv",
        "bv",
        "d.w.z",
        "dhr",
        "drs",
        "dr",
        "e.a",
        "e.d",
        "e.g",
        "enz",
        "etc",
        "i.e",
        "ing",
        "ir",
        "jl",
        "jr",
        "m.b.t",
        "mevr",
        "mr",
        "mrs",
        "ms",
        "mw",
        "nl",
        "no",
        "nr",
        "o.a",
        "o.b.v",
        "p",
        "prof",
        "red",
        "resp",
        "sr",
        "st",
        "t.a.v",
        "t.o.v",
        "v",
        "vs",
        "z.g",
        "ca",
        "art",
        "blz",
        "lid",
        "incl",
        "excl",
        "min",
        "mln",
        "mld",
        "pag",
        "fig",
        "vgl",
        "zgn",
        "zg",
    ]
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|\n+")
_NEXT_STARTS_SENTENCE = re.compile(r"[\"'“‘«(\[–-]*\s*[A-ZÀ-ÝĲ0-9]")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of `text`; whitespace between them is not included."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end_of_punct = match.end()
        if match.group().strip("\n") and not _is_boundary(text, match.start(), end_of_punct):
            continue
        _add_span(text, start, end_of_punct, spans)
        start = end_of_punct
    _add_span(text, start, len(text), spans)
    return spans


def _is_boundary(text: str, punct_start: int, after: int) -> bool:
    """A full stop ends a sentence unless it follows an abbreviation or an initial, or lower case follows."""
    if not _NEXT_STARTS_SENTENCE.match(text, after):
        return False
    if text[punct_start] != ".":
        return True
    word_start = punct_start
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "(“\"'‘":
        word_start -= 1
    word = text[word_start:punct_start].lower()
    if word in _ABBREVIATIONS:
        return False
    return not (len(word) == 1 and word.isalpha())  # an initial such as "J." in "J. Klink"


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def _split_long(text: str, span: tuple[int, int], max_tokens: int, counter: Callable[[str], int]):
    """Split a span longer than max_tokens at word boundaries into pieces of at most max_tokens."""
    start, end = span
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    pieces: list[tuple[int, int]] = []
    piece_start = words[0][0]
    last_end = words[0][1]
    for w_start, w_end in words[1:]:
        if counter(text[piece_start:w_end]) > max_tokens:
            pieces.append((piece_start, last_end))
            piece_start = w_start
        last_end = w_end
    pieces.append((piece_start, last_end))
    return pieces


def chunk_id(doc_id: str, text: str, occurrence: int = 0) -> str:
    """Stable id: the same document id and chunk text give the same id."""
    digest = hashlib.sha256(f"{doc_id}\x1f{text}\x1f{occurrence}".encode()).hexdigest()
    return digest[:24]


def chunk_text(
    doc_id: str,
    text: str,
    max_tokens: int = 200,
    overlap_tokens: int = 40,
    counter: Callable[[str], int] = count_tokens,
) -> list[Chunk]:
    """Pack whole sentences into chunks of at most `max_tokens`, repeating up to `overlap_tokens` of
    trailing sentences at the start of the next chunk. Each chunk's text is exactly `text[start:end]`."""
    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for span in split_sentences(text):
        n = counter(text[span[0] : span[1]])
        if n <= max_tokens:
            units.append((span[0], span[1], n))
        else:
            units.extend((s, e, counter(text[s:e])) for s, e in _split_long(text, span, max_tokens, counter))

    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= max_tokens):
            total += units[j][2]
            j += 1
        start, end = units[i][0], units[j - 1][1]
        body = text[start:end]
        occurrence = seen.get(body, 0)
        seen[body] = occurrence + 1
        chunks.append(
            Chunk(
                chunk_id=chunk_id(doc_id, body, occurrence),
                doc_id=doc_id,
                index=len(chunks),
                start=start,
                end=end,
                text=body,
                tokens=counter(body),
            )
        )
        if j >= len(units):
            break
        # Start the next chunk with trailing sentences that fit in the overlap, but always move forward.
        k, back = j, 0
        while k - 1 > i and back + units[k - 1][2] <= overlap_tokens:
            back += units[k - 1][2]
            k -= 1
        i = k
    return chunks
