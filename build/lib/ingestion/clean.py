"""Text cleaning: mojibake repair, Unicode normalisation and whitespace normalisation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from ingestion.language import detect_language, normalise_language
from vectorstore.dates import normalise_date
from vectorstore.records import Document

# --- mojibake ----------------------------------------------------------------------------------------------
#
# Mojibake is UTF-8 bytes decoded with a single-byte code page. Each UTF-8 sequence becomes a lead character
# (bytes C2-F4) followed by 1-3 continuation characters (bytes 80-BF) of that code page. We look for exactly
# those character sequences, map them back to bytes, decode as UTF-8 and keep the result only when it is a
# plausible character. Only the suspicious sequences are touched, so genuine characters next to them (such as
# the curly quotes in the seed article, which CP437 cannot encode) stay as they are.


def _byte_map(codecs: tuple[str, ...]) -> dict[str, int]:
    """Character -> byte for the high half of the given code pages (the first codec wins on conflicts)."""
    out: dict[str, int] = {}
    for codec in codecs:
        for b in range(0x80, 0x100):
            try:
                ch = bytes([b]).decode(codec)
            except UnicodeDecodeError:
                continue
            out.setdefault(ch, b)
    return out


def _char_class(byte_map: dict[str, int], lo: int, hi: int) -> str:
    chars = sorted(ch for ch, b in byte_map.items() if lo <= b <= hi)
    return "[" + "".join(re.escape(ch) for ch in chars) + "]"


def _run_patterns(byte_map: dict[str, int]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(one or more sequences, exactly one sequence) of UTF-8 as seen through a code page."""
    cont = _char_class(byte_map, 0x80, 0xBF)
    lead2 = _char_class(byte_map, 0xC2, 0xDF)
    lead3 = _char_class(byte_map, 0xE0, 0xEF)
    lead4 = _char_class(byte_map, 0xF0, 0xF4)
    seq = f"{lead2}{cont}|{lead3}{cont}{{2}}|{lead4}{cont}{{3}}"
    return re.compile(f"(?:{seq})+"), re.compile(seq)


# Ranges a repaired character may fall in. "Strong" ones (Latin letters of Western languages, punctuation,
# currency, emoji) are accepted alone; "weak" ones (Greek, Cyrillic, Vietnamese, symbols) only in a run of at
# least two repaired characters, since a single one is more likely a coincidence in correct text (for example
# "Ó" followed by a real "”" reads as Cyrillic "Ӕ"). Everything else (CJK, IPA, unassigned, C1 controls) is
# never produced.
_STRONG = (
    (0x00A0, 0x017F),
    (0x0192, 0x0192),
    (0x0218, 0x021B),
    (0x02C6, 0x02DD),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2122, 0x2122),
    (0xFE0F, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0x1F000, 0x1FAFF),
)
_WEAK = (
    (0x0370, 0x04FF),
    (0x1E00, 0x1EFF),
    (0x2100, 0x23FF),
    (0x2500, 0x27BF),
)


def _in(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _plausible(decoded: str) -> bool:
    """Whether a decoded run looks like real text rather than a coincidence."""
    for ch in decoded:
        cp = ord(ch)
        if _in(cp, _STRONG):
            continue
        if len(decoded) < 2 or not _in(cp, _WEAK):
            return False
    return True


class _CodePage:
    """Repairs UTF-8 that was decoded with one code page."""

    def __init__(self, codecs: tuple[str, ...]) -> None:
        self.byte_map = _byte_map(codecs)
        self.runs, self.single = _run_patterns(self.byte_map)

    def _decode(self, seq: str) -> str | None:
        try:
            return bytes(self.byte_map[c] for c in seq).decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _fix_single(self, m: re.Match[str]) -> str:
        decoded = self._decode(m[0])
        return decoded if decoded is not None and _plausible(decoded) else m[0]

    def _fix_run(self, m: re.Match[str]) -> str:
        decoded = self._decode(m[0])
        if decoded is not None and _plausible(decoded):
            return decoded
        if len(m[0]) <= 4:
            return m[0]
        return self.single.sub(self._fix_single, m[0])  # repair what can be repaired, one sequence at a time

    def repair(self, text: str) -> str:
        return self.runs.sub(self._fix_run, text)


# cp1252 plus Latin-1 (whose C1 controls stand for the 5 bytes cp1252 leaves undefined); CP437 and CP850 are
# the DOS code pages (the seed's "├»" is CP437/CP850 for the bytes C3 AF, "ï").
_CODEPAGES = (_CodePage(("cp1252", "latin-1")), _CodePage(("cp437",)), _CodePage(("cp850",)))
# Every mojibake sequence is two or more non-ASCII characters in a row; only such runs are examined (speed).
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")


def _repair_run(m: re.Match[str]) -> str:
    run = m[0]
    for codepage in _CODEPAGES:
        run = codepage.repair(run)
    return run


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as cp1252/Latin-1 ("Ã©" -> "é", "â€œ" -> "“") or CP437/CP850 ("├»" -> "ï").

    Only the suspicious character sequences are replaced, so correct characters around them (real curly quotes)
    stay. Double encoding ("ÃƒÂ©") is undone too (up to three rounds).
    """
    for _ in range(3):
        if text.isascii():
            return text
        fixed = _NON_ASCII_RUN.sub(_repair_run, text)
        if fixed == text:
            return text
        text = fixed
    return text


# --- normalisation -----------------------------------------------------------------------------------------

# Any character the two patterns below act on (one scan decides whether they are needed at all).
_ODD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2028\u2029\u2060\ufeff\U000e0000-\U000e007f]")
_NEWLINES = re.compile(r"\r\n?|[\v\f\x1c-\x1e\x85\u2028\u2029]")
# C0/C1 controls (except \t and \n), zero-width characters, BOM, word joiner and Unicode tag characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u200b-\u200d\u2060\ufeff\U000e0000-\U000e007f]+"
)
_SPACES = re.compile(r"\t[ \t]*| [ \t]+")  # only runs that need changing: faster than matching every space
_LINE_EDGES = re.compile(r" \n ?|\n ")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Repair mojibake, NFC-normalise, drop invisible characters and normalise whitespace.

    Tabs become spaces, runs of spaces collapse, lines are stripped, paragraphs are separated by exactly one
    blank line and the ends are stripped. Quote characters are kept as they are in the source.
    """
    text = repair_mojibake(text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _ODD.search(text):
        text = _NEWLINES.sub("\n", text)
        text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _LINE_EDGES.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def clean_line(value: str | None) -> str | None:
    """clean_text for a one-line field (title, speaker, party): newlines become spaces; empty -> None."""
    if value is None:
        return None
    cleaned = clean_text(str(value)).replace("\n\n", " ").replace("\n", " ")
    return cleaned or None


def prepare_document(doc: Document) -> Document:
    """A new document with cleaned text and fields, an ISO date and a 2-letter language (detected if missing)."""
    text = clean_text(doc.text)
    language = normalise_language(doc.language) or detect_language(text)
    date = normalise_date(doc.date)
    extra = dict(doc.extra)
    if doc.date and date is None:
        extra.setdefault("date_raw", doc.date)  # keep what could not be read as a date
    return replace(
        doc,
        text=text,
        title=clean_line(doc.title),
        speaker=clean_line(doc.speaker),
        party=clean_line(doc.party),
        date=date,
        language=language,
        extra=extra,
    )
