"""What the chat shows, as Markdown built from an Answer: pure functions, no Chainlit (used by app.py).

Text that comes from documents, the model or the user is made inert (assistant/safety/markdown.py): no Markdown
image, link or HTML reaches the page except the links to our own sources.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from assistant.answer.base import Answer, Citation
from assistant.i18n import all_messages, t
from assistant.safety.markdown import defang, neutralise
from vectorstore.records import Filters

_MD_SPECIAL = re.compile(
    r"([!-/:-@\[-`{-~])"
)  # every ASCII punctuation character: CommonMark escapes them all
_ISO = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def md_escape(text: str) -> str:
    """Plain text shown literally in Markdown: every Markdown special character escaped, lines joined, and bare
    URLs and e-mail addresses made inert (remark-gfm links them in text even when escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", defang(" ".join(text.split())))


def safe_answer_text(text: str, allowed_urls: Iterable[str] = ()) -> str:
    """Answer text as Markdown paragraphs, inert: no image, HTML or link except to `allowed_urls` (the answer's
    own sources), bare URLs and e-mail addresses not linked."""
    allowed = [u for u in allowed_urls if u]
    text = defang(neutralise(text, allowed), protected=[f"]({u})" for u in allowed])
    return "\n\n".join(line.strip() for line in text.split("\n") if line.strip())


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript:, data:, relative or protocol-relative
    links, no characters that could end the Markdown link early)."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in " <>()[]\"'\\`"):
        return None
    if any(unicodedata.category(c)[0] in "CZ" for c in url):
        return None
    return url


def language_name(code: str, lang: str) -> str:
    key = f"language.{code}"
    return t(key, lang) if key in all_messages() else code


def welcome_markdown(stats: Mapping[str, Any], lang: str) -> str:
    """The welcome shown above the starters: what it answers, which sources are loaded, the privacy note."""
    parts = [t("ui.welcome_title", lang), t("ui.welcome", lang)]
    documents = int(stats.get("documents") or 0)
    if documents:
        dates = stats.get("date_range") or {}
        types = ", ".join(f"{md_escape(k)} {v}" for k, v in (stats.get("types") or {}).items() if k != "-")
        parts.append(
            t(
                "ui.welcome_sources",
                lang,
                documents=documents,
                types=types or "-",
                first=dates.get("first") or "?",
                last=dates.get("last") or "?",
            )
        )
    else:
        parts.append(t("ui.welcome_no_sources", lang))
    parts += [t("ui.welcome_limits", lang), t("ui.privacy", lang)]
    return "\n\n".join(parts)


def answer_markdown(answer: Answer, typed: str, lang: str, filters: Filters | None = None) -> str:
    """The final message: a status line when it is not a normal answer, the rewrite of a follow-up, the
    verified answer text, active filters and the small label saying how the answer was made."""
    lines: list[str] = []
    if answer.status != "answered":
        key = f"ui.status_{answer.status}"
        lines.append(t(key if key in all_messages() else "ui.status_error", lang))
    typed_clean = " ".join(typed.split())
    if answer.standalone_question and answer.standalone_question not in (typed_clean, answer.question):
        lines.append(t("ui.understood_as", lang, question=md_escape(answer.standalone_question)))
    lines.append(safe_answer_text(answer.answer, [safe_url(c.url) or "" for c in answer.citations]))
    summary = filter_summary(filters, lang)
    if summary:
        lines.append(t("ui.filters_active", lang, filters=summary))
    lines.append(f"*{t(f'ui.mode_{answer.mode}', lang)}*")
    return "\n\n".join(lines)


def source_name(citation: Citation, lang: str) -> str:
    return f"{t('ui.source_label', lang)} {citation.n}"


def source_markdown(citation: Citation, lang: str) -> str:
    """One numbered source: the quote, title, date, speaker (and party) and a link to the original."""
    lines = [f"“{md_escape(citation.quote)}”", ""]
    title = md_escape(citation.title or citation.doc_id)
    meta = " · ".join(md_escape(str(v)) for v in (citation.date, citation.speaker, citation.party) if v)
    lines.append(f"**{title}**" + (f" — {meta}" if meta else ""))
    if citation.language and citation.language != lang and citation.language in ("nl", "en"):
        lines.append(f"*{t('ui.source_translated', lang, language=language_name(citation.language, lang))}*")
    url = safe_url(citation.url)
    if url:
        lines.append(f"[{t('ui.source_open', lang)}]({url})")
    return "\n".join(lines)


def _day(value: Any) -> str | None:
    """An ISO day from a date picker value (`2023-06-01`, `2023-06-01T00:00:00.000Z`, a date)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        head = value.strip()[:10]
        try:
            return date.fromisoformat(head).isoformat()
        except ValueError:
            return head if _ISO.match(head) else None
    return None


def filters_from_settings(values: Mapping[str, Any]) -> Filters | None:
    """Chat settings (date range, type, language) -> retrieval Filters; None when nothing is set."""
    dates = values.get("dates")
    since = until = None
    if isinstance(dates, list | tuple):
        since = _day(dates[0]) if len(dates) > 0 else None
        until = _day(dates[1]) if len(dates) > 1 else None
    elif dates:
        since = _day(dates)
    doc_type = values.get("type") or None
    language = values.get("language") or None
    filters = Filters(since=since, until=until, type=doc_type, language=language)
    return None if filters.is_empty() else filters


def filter_summary(filters: Filters | None, lang: str) -> str:
    """A short readable summary of active filters ("" when none)."""
    if filters is None or filters.is_empty():
        return ""
    parts = []
    if filters.since:
        parts.append(t("ui.filter_since", lang, date=filters.since))
    if filters.until:
        parts.append(t("ui.filter_until", lang, date=filters.until))
    if filters.type:
        parts.append(md_escape(filters.type))
    if filters.language:
        parts.append(language_name(filters.language, lang))
    return ", ".join(parts)


def date_bounds(stats: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The store's first and last dates as full ISO days (for the date picker's limits)."""
    dates = stats.get("date_range") or {}
    first, last = dates.get("first"), dates.get("last")

    def full(value: Any, end: bool) -> str | None:
        if not isinstance(value, str) or not _ISO.match(value):
            return None
        if len(value) == 4:
            value += "-12-31" if end else "-01-01"
        elif len(value) == 7:
            days = calendar.monthrange(int(value[:4]), int(value[5:7]))[1]
            value += f"-{days:02d}" if end else "-01"
        return value

    return full(first, False), full(last, True)
