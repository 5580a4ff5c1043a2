"""What the chat shows, as Markdown built from an Answer: pure functions, no Chainlit (used by app.py).

Text that comes from documents, the model or the user is made inert (assistant/safety/markdown.py): no Markdown
image, link or HTML reaches the page except the links to our own sources.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from assistant.answer.base import Answer
from assistant.i18n import all_messages, framing, t
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


def doctype_name(doc_type: str, lang: str, count: int = 2) -> str:
    """A document type in words ("vraag-en-antwoordpagina's van de Rijksoverheid"), singular for a count of 1;
    a type that prompts/messages.toml does not name is shown with its dashes and underscores as spaces."""
    key = f"doctype.{doc_type}.{'one' if count == 1 else 'other'}"
    return t(key, lang) if key in all_messages() else re.sub(r"[-_]+", " ", doc_type).strip()


def sources_summary(types: Mapping[str, int], lang: str) -> str:
    """ "179 vraag-en-antwoordpagina's van de Rijksoverheid, 1 ander document": every document counted once."""
    parts = [
        f"{count} {md_escape(doctype_name(kind, lang, count))}"
        for kind, count in types.items()
        if kind not in ("-", "") and count
    ]
    other = sum(count for kind, count in types.items() if kind in ("-", ""))
    if other:
        parts.append(f"{other} {t('ui.documents_other.' + ('one' if other == 1 else 'other'), lang)}")
    return ", ".join(parts)


def welcome_markdown(stats: Mapping[str, Any], lang: str) -> str:
    """The welcome shown above the starters: what it answers, which sources are loaded, the privacy note."""
    parts = [t("ui.welcome_title", lang), t("ui.welcome", lang)]
    documents = int(stats.get("documents") or 0)
    if documents:
        dates = stats.get("date_range") or {}
        parts.append(
            t(
                "ui.welcome_sources",
                lang,
                documents=documents,
                types=sources_summary(stats.get("types") or {}, lang) or "-",
                first=dates.get("first") or "?",
                last=dates.get("last") or "?",
            )
        )
    else:
        parts.append(t("ui.welcome_no_sources", lang))
    parts += [t("ui.welcome_limits", lang), t("ui.privacy", lang)]
    return "\n\n".join(parts)


def answer_language(answer: Answer, lang: str) -> str:
    """The language everything about an answer is shown in: its question's (`lang`, the browser's, only when the
    answer names none)."""
    return framing(answer.language) if answer.language else lang


def answer_markdown(
    answer: Answer, typed: str, lang: str, filters: Filters | None = None, anchor: str | None = None
) -> str:
    """The final message, all in the answer's language (the question's; `lang`, the browser's, only when the
    answer names none): a status line when it is not a normal answer, the rewrite of a follow-up, the verified
    answer text with its [n] markers linked to the sources listed under it (`anchor`), active filters, and the
    label saying how the answer was made, only under an answer that quotes the sources."""
    said = answer_language(answer, lang)
    lines: list[str] = []
    if answer.status != "answered":
        key = f"ui.status_{answer.status}"
        lines.append(t(key if key in all_messages() else "ui.status_error", said))
    typed_clean = " ".join(typed.split())
    if answer.standalone_question and answer.standalone_question not in (typed_clean, answer.question):
        lines.append(t("ui.understood_as", said, question=md_escape(answer.standalone_question)))
    text = safe_answer_text(answer.answer, [safe_url(c.url) or "" for c in answer.citations])
    lines.append(link_markers(text, [c.n for c in answer.citations], anchor) if anchor else text)
    summary = filter_summary(filters, said)
    if summary:
        lines.append(t("ui.filters_active", said, filters=summary))
    if answer.citations:
        lines.append(f"*{t(f'ui.mode_{answer.mode}', said)}*")
    return "\n\n".join(lines)


# [n], also in a row ("[1][2]"); not escaped ("\[1]"), not a link's text or a reference ("[1](x)", "[1]: x").
_MARKER = re.compile(r"(?<![\\\[])\[(\d{1,3})\](?![(:])")


def source_anchor(n: int, anchor: str) -> str:
    """The fragment of source `n` in the list under the answer whose sources carry `anchor`."""
    return f"{anchor}-{n}"


def link_markers(text: str, numbers: list[int], anchor: str) -> str:
    """Each [n] of a cited source becomes a link to that source in the list under the answer (#anchor-n); other
    bracketed numbers are left alone. `anchor` is ours (letters, digits, dashes)."""
    cited = set(numbers)

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[\\[{n}\\]](#{source_anchor(n, anchor)})" if n in cited else match.group(0)

    return _MARKER.sub(link, text)


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


ANY = "all"  # the "any" choice of the type and language filters (Chainlit's Select refuses an empty value)


def filters_from_settings(values: Mapping[str, Any]) -> Filters | None:
    """Chat settings (date range, type, language) -> retrieval Filters; None when nothing is set."""
    dates = values.get("dates")
    since = until = None
    if isinstance(dates, list | tuple):
        since = _day(dates[0]) if len(dates) > 0 else None
        until = _day(dates[1]) if len(dates) > 1 else None
    elif dates:
        since = _day(dates)

    def chosen(value: Any) -> str | None:
        return None if value in (None, "", ANY) else str(value)

    filters = Filters(
        since=since, until=until, type=chosen(values.get("type")), language=chosen(values.get("language"))
    )
    return None if filters.is_empty() else filters


def filter_choices(values: Iterable[str], lang: str, name: Callable[[str, str], str]) -> dict[str, str]:
    """The items of a filter select as {label: value}: "all" first, then each value named in words; never an
    empty value (Chainlit's Select blanks the page on one)."""
    items = {t("ui.filter_any", lang): ANY}
    for value in values:
        if value and value not in ("-", "und", ANY):
            items[name(value, lang)] = value
    return items


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
        parts.append(md_escape(doctype_name(filters.type, lang)))
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
