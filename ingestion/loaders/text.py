"""Plain text and Markdown: a leading metadata header (and front matter) split off the text."""

from __future__ import annotations

import re
from typing import Any

from ingestion.metadata import parse_front_matter, parse_header


def load_plain(text: str, markdown: bool) -> tuple[str, dict[str, Any]]:
    """(.txt/.md) text without its metadata header, and that metadata."""
    meta: dict[str, Any] = {}
    if markdown:
        front, text = parse_front_matter(text)
        meta.update(front)
    header, text = parse_header(text)
    meta.update(header)
    if markdown and not meta.get("title"):
        m = re.search(r"^#[ \t]+(.+?)[ \t#]*$", text, re.MULTILINE)
        if m:
            meta["title"] = m[1]
    return text, meta
