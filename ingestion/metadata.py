"""The metadata header of plain-text and Markdown files (`date 2023-06`, `title: ...`, front matter)."""

from __future__ import annotations

import re

from vectorstore.dates import normalise_date
from vectorstore.records import METADATA_FIELDS

# Keys a plain-text or Markdown file may declare in its leading header lines.
HEADER_KEYS = ("id", *METADATA_FIELDS)

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
