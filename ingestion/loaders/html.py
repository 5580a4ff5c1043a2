"""HTML: the main text with blocks as paragraphs, and title, language, canonical URL and date from the head."""

from __future__ import annotations

import re
from typing import Any

from ingestion.loaders.base import decode_bytes
from vectorstore.dates import normalise_date

_HTML_DROP = (
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe", "template",
)  # fmt: skip
_HTML_BLOCKS = (
    "address", "article", "blockquote", "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "main", "ol", "p", "pre", "section", "summary", "table",
    "ul", "caption", "body",
)  # fmt: skip
_HTML_LINES = ("li", "tr", "br")
# Private-use markers for paragraph and line breaks, resolved after HTML whitespace has been collapsed.
_PARA_MARK, _LINE_MARK = "\ue000", "\ue001"
_MARK_RUN = re.compile(f"[ {_PARA_MARK}{_LINE_MARK}]*[{_PARA_MARK}{_LINE_MARK}][ {_PARA_MARK}{_LINE_MARK}]*")
_HTML_DATE_NAMES = (
    "date", "dc.date", "dcterms.date", "dc.date.issued", "dcterms.issued", "article:published_time",
    "og:published_time",
)  # fmt: skip


def _declared_charset(data: bytes) -> str | None:
    m = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", data[:4096], re.IGNORECASE)
    return m[1].decode("ascii") if m else None


def load_html(data: bytes) -> tuple[str, dict[str, Any]]:
    """(.html/.htm) main text with blocks separated by blank lines, and title/language/url/date."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(decode_bytes(data, _declared_charset(data)), "html.parser")
    meta: dict[str, Any] = {}
    title_tag = soup.find("title")
    if isinstance(title_tag, Tag) and title_tag.get_text(strip=True):
        meta["title"] = " ".join(title_tag.get_text().split())
    html = soup.find("html")
    if isinstance(html, Tag) and html.get("lang"):
        meta["language"] = str(html["lang"])
    canonical = soup.find("link", rel="canonical")
    if isinstance(canonical, Tag) and canonical.get("href"):
        meta["url"] = str(canonical["href"])
    for tag in soup.find_all("meta"):
        name = str(tag.get("name") or tag.get("property") or "").lower()
        content = str(tag.get("content") or "").strip()
        if not content:
            continue
        if name == "og:url" and "url" not in meta:
            meta["url"] = content
        elif name in _HTML_DATE_NAMES and "date" not in meta and normalise_date(content):
            meta["date"] = content

    if "title" not in meta:
        h1 = soup.find("h1")
        if isinstance(h1, Tag) and h1.get_text(strip=True):
            meta["title"] = " ".join(h1.get_text().split())

    for tag in soup.find_all([*_HTML_DROP, "head"]):
        tag.decompose()
    for tag in soup.find_all(hidden=True):
        tag.decompose()
    main = soup.find("main") or soup.find("article") or soup.find("body") or soup
    for pre in main.find_all("pre"):
        for s in pre.find_all(string=True):
            s.replace_with(str(s).replace("\n", _LINE_MARK))
    for tag in main.find_all(list(_HTML_BLOCKS)):
        tag.insert_before(_PARA_MARK)
        tag.append(_PARA_MARK)
    for tag in main.find_all(list(_HTML_LINES)):
        tag.insert_before(_LINE_MARK)
        tag.append(_LINE_MARK)
    for cell in main.find_all(["td", "th"]):
        cell.insert_before(" ")
    text = " ".join("".join(main.strings).split())
    text = _MARK_RUN.sub(lambda m: "\n\n" if _PARA_MARK in m[0] else "\n", text)
    return text.strip(), meta
