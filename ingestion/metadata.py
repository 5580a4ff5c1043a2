"""Document metadata helpers: language detection, date normalisation and the plain-text header parser."""

from __future__ import annotations

import re
import threading
from datetime import date as _date
from typing import Any

# Keys a plain-text or Markdown file may declare in its leading header lines.
HEADER_KEYS = ("id", "title", "date", "url", "language", "type", "speaker", "party")

UNDETERMINED = "und"  # returned by detect_language when the text is too short or undecidable
_MIN_LETTERS = 20  # fewer letters than this: no language guess
_SAMPLE_CHARS = 2000  # only the start of the text is classified (speed; the rest rarely changes the answer)
# Languages py3langid confuses with Dutch; if one of them wins narrowly and Dutch is close, Dutch is chosen.
_DUTCH_LOOKALIKES = frozenset({"af", "fy", "li"})
_DUTCH_MARGIN = 0.35  # prefer "nl" when P(top) - P(nl) is below this
_MIN_CONFIDENCE = 0.2  # below this the top guess is "und"

_identifier: Any = None
_identifier_lock = threading.Lock()


def _get_identifier() -> Any:
    """The py3langid identifier, loaded once (it takes ~1 s) with normalised probabilities."""
    global _identifier
    if _identifier is None:
        with _identifier_lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when it has under 20 letters or no clear winner.

    Only the first ~2000 characters are used. Afrikaans/Frisian/Limburgish narrowly beating Dutch is read as Dutch.
    """
    sample = text[:_SAMPLE_CHARS]
    if sum(1 for ch in sample if ch.isalpha()) < _MIN_LETTERS:
        return UNDETERMINED
    ranking = _get_identifier().rank(sample)
    if not ranking:
        return UNDETERMINED
    top, top_p = ranking[0]
    if top in _DUTCH_LOOKALIKES:
        nl_p = next((p for lang, p in ranking if lang == "nl"), 0.0)
        if top_p - nl_p < _DUTCH_MARGIN:
            return "nl"
    if top_p < _MIN_CONFIDENCE:
        return UNDETERMINED
    return str(top)


# ISO 639-2/3 codes that documents commonly carry, mapped to ISO 639-1.
_THREE_LETTER = {
    "nld": "nl", "dut": "nl", "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr",
    "fry": "fy", "spa": "es", "ita": "it", "pol": "pl", "tur": "tr", "ara": "ar", "pap": "pap",
}  # fmt: skip


def normalise_language(value: str | None) -> str | None:
    """Primary ISO 639-1 subtag: "nl-NL", "NL", "nl_be", "nld" -> "nl"; empty, "und" or malformed -> None."""
    if not value:
        return None
    primary = re.split(r"[-_\s]", str(value).strip(), maxsplit=1)[0].lower()
    primary = _THREE_LETTER.get(primary, primary)
    if primary == UNDETERMINED or not re.fullmatch(r"[a-z]{2,3}", primary):
        return None
    return primary


_TIME = r"(?:$|[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$)"
_ISO_DATE = re.compile(rf"(\d{{4}})(?:([-/.])(\d{{1,2}})(?:\2(\d{{1,2}}))?)?{_TIME}")
_DMY_DATE = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}){_TIME}")


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if not 1000 <= year <= 2999:
        return False
    if month is None:
        return True
    if not 1 <= month <= 12:
        return False
    if day is None:
        return True
    try:
        _date(year, month, day)
    except ValueError:
        return False
    return True


def normalise_date(value: str | None) -> str | None:
    """ISO prefix "YYYY", "YYYY-MM" or "YYYY-MM-DD" from common date spellings; None if not a date.

    Accepts "2023", "2023-06", "2023-06-14", "2023-06-14T10:00:00Z", "2023/06/14", "14-06-2023", "14/06/2023".
    """
    if value is None:
        return None
    s = str(value).strip()
    m = _ISO_DATE.match(s)
    if m:
        year = int(m[1])
        month = int(m[3]) if m[3] else None
        day = int(m[4]) if m[4] else None
    else:
        m = _DMY_DATE.match(s)
        if not m:
            return None
        year, month, day = int(m[4]), int(m[3]), int(m[1])
    if not _valid(year, month, day):
        return None
    out = f"{year:04d}"
    if month is not None:
        out += f"-{month:02d}"
        if day is not None:
            out += f"-{day:02d}"
    return out


def date_sort_key(date: str | None) -> int | None:
    """Integer for range filters: "2023-06-14" -> 20230614, "2023-06" -> 20230600, "2023" -> 20230000."""
    iso = normalise_date(date)
    if iso is None:
        return None
    parts = [int(p) for p in iso.split("-")] + [0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


# --- leading header of .txt / .md files --------------------------------------------------------------------

_KEYS = "|".join(HEADER_KEYS)
_COLON_LINE = re.compile(rf"({_KEYS})[ \t]*:[ \t]*(.*)", re.IGNORECASE)
_SPACE_LINE = re.compile(rf"({_KEYS})[ \t]+(\S.*)")  # lower-case keys only: "Type 2 diabetes ..." is prose
_DATE_THEN_TEXT = re.compile(r"(\S+)[ \t]+(\S.*)")
_URL = re.compile(r"https?://\S+")
_LANG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
_FREE_TEXT_KEYS = frozenset({"title", "type", "speaker", "party"})


def _checked(key: str, value: str) -> bool:
    """Whether a colon-less `key value` line's value has the shape the key requires."""
    if key == "date":
        return normalise_date(value) is not None and " " not in value.strip()
    if key == "url":
        return _URL.fullmatch(value) is not None
    if key == "language":
        return _LANG.fullmatch(value) is not None
    if key == "id":
        return " " not in value
    return True


def parse_header(text: str) -> tuple[dict[str, str], str]:
    """Split leading metadata lines off a plain-text document; returns (metadata, remaining text).

    Recognised at the very top, stopping at the first other line:
    - `key: value` (any case) or `key value` (lower-case key) for id, title, date, url, language, type, speaker,
      party. A colon-less title/type/speaker/party line only counts when another header line confirms the header
      (so prose such as "type 2 diabetes ..." is left alone); colon-less date/url/language/id values must be valid.
    - `date 2023-06 Het kabinet ...`: the date is metadata and the rest of that line starts the text.
    Dates are returned as written; callers normalise them.
    """
    lines = text.split("\n")
    meta: dict[str, str] = {}
    confirmed = False  # a line that cannot be prose was seen
    i = 0
    rest_first_line: str | None = None
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            if meta:
                break
            i += 1
            continue
        m = _COLON_LINE.fullmatch(line)
        colon = m is not None
        if m is None:
            m = _SPACE_LINE.fullmatch(line)
        if m is None:
            break
        key, value = m[1].lower(), m[2].strip()
        if key == "date" and value and normalise_date(value) is None:
            # "date 2023-06 Het kabinet ...": a date, then the text on the same line.
            dm = _DATE_THEN_TEXT.fullmatch(value)
            if dm and normalise_date(dm[1]) is not None:
                meta["date"] = dm[1]
                confirmed = True
                rest_first_line = dm[2]
                i += 1
            break
        if not colon and not _checked(key, value):
            break
        if value:
            meta[key] = value
        confirmed = confirmed or colon or key not in _FREE_TEXT_KEYS
        i += 1
    if not meta or not confirmed:
        return {}, text
    remaining = lines[i:]
    if rest_first_line is not None:
        remaining.insert(0, rest_first_line)
    while remaining and not remaining[0].strip():
        remaining.pop(0)
    return meta, "\n".join(remaining)


_FRONT_MATTER_LINE = re.compile(r"([A-Za-z_][\w.-]*)[ \t]*:[ \t]*(.*)")


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Markdown front matter: simple `key: value` lines between a first line `---` and the next `---`.

    Returns (metadata with lower-case keys and unquoted values, remaining text). Without a closed block the
    text is returned unchanged. Nested YAML structures are not interpreted (their lines are skipped).
    """
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, text
    meta: dict[str, str] = {}
    for raw in lines[1:end]:
        m = _FRONT_MATTER_LINE.fullmatch(raw.strip()) if raw[:1] not in (" ", "\t") else None
        if not m:
            continue
        value = m[2].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if value:
            meta[m[1].lower()] = value
    return meta, "\n".join(lines[end + 1 :]).lstrip("\n")
