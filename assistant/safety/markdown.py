"""What becomes an image, a link or HTML when text is rendered as Markdown, decided by a Markdown parser.

Everything that reaches a page is untrusted: document titles, speakers, quotes, model text, the rewritten
question. The chat renders Markdown with react-markdown and remark-gfm, so two views decide what is live:
- CommonMark, parsed here with markdown-it-py (the same grammar: nested brackets, protocol-relative URLs,
  reference-style images whose definition comes later, autolinks `<...>`, raw HTML);
- GFM's literal autolinks, which remark-gfm finds in the *text* of the parsed tree (after escapes and entities are
  decoded) with the two patterns below, copied from mdast-util-gfm-autolink-literal as bundled by Chainlit 2.12.

`neutralise(text, allowed_urls)` keeps the text and removes what would load or link: images (whole), raw HTML,
reference definitions, links whose destination is not an allowed URL (their text stays), autolinks; with
`bare_urls="remove"` also bare URLs and e-mail addresses. It repeats until the parser finds nothing more (a removal
can reveal markup that was escaped before) and fails closed: text that does not settle loses every character that
can build a link or an image. `defang` makes bare URLs and addresses inert for GFM without visible change (a word
joiner, U+2060, inside `http://`, `www.` and before `@`). `MarkdownStream` applies the same to text arriving in
pieces: it holds back what could still become a link or image (an open bracket, an open `<`, a partial word) and
checks that what was shown so far plus the new piece is still inert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

BareUrls = Literal["keep", "remove"]
JOINER = "\u2060"  # WORD JOINER: invisible, breaks GFM's literal autolink patterns
MAX_PASSES = 6

# remark-gfm (mdast-util-gfm-autolink-literal): the patterns it runs over text nodes ("\w" is ASCII in JS).
GFM_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I | re.ASCII)
GFM_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)
_SCRIPT_SCHEME = re.compile(r"\b(?:javascript|vbscript)\s*:", re.I)  # flagged by has_markup, even as text
_RAW_BLOCK = re.compile(r"<\s*(script|style|iframe|object|embed|svg|math|template|textarea|title)\b", re.I)
_LIVE_CHARS = re.compile(r"[\[\]()<>!]")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark")
    md.validateLink = lambda url: True  # the browser's renderer makes a link of any destination: so do we
    return md


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


def _bare_matches(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in GFM_URL.finditer(text)]
    spans += [m.span() for m in GFM_EMAIL.finditer(text)]
    return sorted(spans)


def _remove_bare(text: str, allowed: frozenset[str]) -> str:
    out, pos = [], 0
    for s, e in _bare_matches(text):
        if s < pos:
            continue
        if text[s:e] in allowed:
            continue
        out.append(text[pos:s])
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _link_allowed(token: Token, allowed: frozenset[str]) -> bool:
    href = str(token.attrs.get("href", ""))
    return token.markup != "autolink" and href in allowed


def _inline_dirty(children: list[Token], allowed: frozenset[str], bare: BareUrls) -> bool:
    for child in children:
        if child.type in ("image", "html_inline"):
            return True
        if child.type == "link_open" and not _link_allowed(child, allowed):
            return True
        if (
            child.type == "text"
            and bare == "remove"
            and _remove_bare(child.content, allowed) != child.content
        ):
            return True
    return False


def _render_inline(children: list[Token], allowed: frozenset[str], bare: BareUrls) -> str:
    """Inline tokens back to Markdown without what is not allowed (text stays as the parser decoded it)."""
    out: list[str] = []
    links: list[str | None] = []  # per open link: its destination when kept, else None
    skip_depth = 0  # inside an autolink that is dropped whole
    raw_block: str | None = None  # inside <script>...</script> (and the like): its content goes too
    for child in children:
        kind = child.type
        if raw_block is not None:
            if kind == "html_inline" and re.match(rf"<\s*/\s*{raw_block}\b", child.content, re.I):
                raw_block = None
            continue
        if kind == "html_inline":
            opened = _RAW_BLOCK.match(child.content)
            if opened and not child.content.rstrip().endswith("/>"):
                raw_block = opened.group(1)
            continue
        if kind == "link_open":
            if child.markup == "autolink" and not _link_allowed(child, allowed):
                skip_depth += 1
                links.append(None)
                continue
            keep = _link_allowed(child, allowed)
            links.append(str(child.attrs["href"]) if keep else None)
            if keep:
                out.append("<" if child.markup == "autolink" else "[")
            continue
        if kind == "link_close":
            href = links.pop() if links else None
            if child.markup == "autolink":
                if href is None:
                    skip_depth = max(0, skip_depth - 1)
                else:
                    out.append(">")
                continue
            if href is not None:
                out.append(f"]({href})")
            continue
        if skip_depth:
            continue
        if kind in ("image", "html_inline"):
            continue
        if kind == "text":
            out.append(_remove_bare(child.content, allowed) if bare == "remove" else child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "code_inline":
            out.append(f"{child.markup}{child.content}{child.markup}")
        elif kind.endswith(("_open", "_close")):
            out.append(child.markup)
        else:
            out.append(child.content)
    return "".join(out)


def _rewrite(text: str, allowed: frozenset[str], bare: BareUrls) -> str:
    """One pass: every paragraph (or heading, list item, quote line) holding disallowed inline markup is written
    again without it; raw HTML blocks and reference definitions (lines no block claims) are removed."""
    tokens = _parser().parse(text)
    lines: list[str | None] = list(text.split("\n"))
    covered: set[int] = set()
    for token in tokens:
        if token.map is None:
            continue
        start, end = token.map
        if token.type == "html_block":  # its text stays, its tags go (script and style blocks whole)
            inline = _parser().parseInline(token.content.rstrip("\n"))[0].children or []
            rendered = _render_inline(inline, allowed, bare).split("\n")
            for i in range(start, min(end, len(lines))):
                lines[i] = rendered[i - start] if i - start < len(rendered) else None
            covered.update(range(start, end))
            continue
        covered.update(range(start, end))
        if token.type != "inline" or not token.children:
            continue
        if not _inline_dirty(token.children, allowed, bare):
            continue
        source = token.content.split("\n")
        around: list[
            tuple[str, str]
        ] = []  # per line: what precedes and follows the inline text (markers, spaces)
        for i, content_line in enumerate(source):
            row = lines[start + i] if start + i < len(lines) and lines[start + i] is not None else ""
            at = row.find(content_line) if content_line else -1
            if at >= 0:
                around.append((row[:at], row[at + len(content_line) :]))
            else:
                around.append((row[: len(row) - len(row.lstrip())], ""))
        rendered = _render_inline(token.children, allowed, bare).split("\n")
        if len(rendered) == len(source):
            for i, new in enumerate(rendered):
                lines[start + i] = around[i][0] + new + around[i][1]
        else:
            joined = " ".join(r.strip() for r in rendered if r.strip())
            lines[start] = around[0][0] + joined + around[-1][1]
            for i in range(1, len(source)):
                lines[start + i] = None
    for i, line in enumerate(lines):
        if i not in covered and line is not None and line.strip():
            lines[i] = None  # a reference definition (consumed by the parser, shown by nobody)
    return "\n".join(line for line in lines if line is not None)


def _strip_live(text: str, bare: BareUrls, allowed: frozenset[str]) -> str:
    """Fail closed: no character left that can open a link, an image or HTML."""
    text = _LIVE_CHARS.sub("", text)
    return _remove_bare(text, allowed) if bare == "remove" else text


def neutralise(text: str, allowed_urls: Iterable[str] = (), bare_urls: BareUrls = "keep") -> str:
    """`text` with images, raw HTML, reference definitions, autolinks and links other than to `allowed_urls`
    removed (a link's text stays); `bare_urls="remove"` also drops bare URLs and e-mail addresses. Text that
    holds none of these is returned unchanged."""
    if not text:
        return text
    allowed = frozenset(u for u in allowed_urls if u)
    text = _normalise_newlines(text)
    for _ in range(MAX_PASSES):
        new = _rewrite(text, allowed, bare_urls)
        if new == text:
            return text
        text = new
    return _strip_live(text, bare_urls, allowed)


def is_inert(text: str, allowed_urls: Iterable[str] = ()) -> bool:
    """True when rendering `text` as Markdown gives no image, HTML, reference definition or link other than to
    `allowed_urls` (bare URLs are not counted: see `defang`)."""
    return neutralise(text, allowed_urls) == _normalise_newlines(text)


def has_markup(text: str) -> bool:
    """True when the text holds a Markdown image or link, raw HTML, a reference definition or a script URL."""
    return not is_inert(text) or bool(_SCRIPT_SCHEME.search(text))


def defang(text: str, protected: Iterable[str] = ()) -> str:
    """Bare URLs and e-mail addresses made inert for GFM renderers (a word joiner inside `http://`, after `www`
    and before `@`); occurrences inside the `protected` strings (e.g. our own link targets) are left alone."""
    keep = [p for p in protected if p]
    if keep:
        pattern = re.compile("|".join(re.escape(p) for p in sorted(keep, key=len, reverse=True)))
        parts, pos = [], 0
        for m in pattern.finditer(text):
            parts.append(defang(text[pos : m.start()]))
            parts.append(m.group(0))
            pos = m.end()
        parts.append(defang(text[pos:]))
        return "".join(parts)
    text = re.sub(r"(?i)\b(https?)(?=://)", lambda m: m.group(1) + JOINER, text)
    text = re.sub(r"(?i)(?<![\w.-])(www)(?=\.)", lambda m: m.group(1) + JOINER, text)
    return re.sub(r"(?<=[-.\w+])@(?=[-\w])", JOINER + "@", text)


class MarkdownStream:
    """Streamed text made inert piece by piece (see the module docstring); `feed` then `finish`.

    What is returned, joined, never renders an image, HTML or a link (nor a bare URL: `defang`). A piece that would
    only be inert together with text not yet seen is held back; if the shown text and a new piece still combine into
    markup, streaming stops (`broken`) and the caller's final text replaces what was streamed."""

    def __init__(self, bare_urls: BareUrls = "keep") -> None:
        self.bare = bare_urls
        self.pending = ""
        self.shown = ""
        self.broken = False

    def feed(self, piece: str) -> str:
        if self.broken or not piece:
            return ""
        self.pending += piece
        cut = hold_from(self.pending)
        ready, self.pending = self.pending[:cut], self.pending[cut:]
        return self._release(ready)

    def finish(self) -> str:
        ready, self.pending = self.pending, ""
        return "" if self.broken else self._release(ready)

    def _release(self, ready: str) -> str:
        if not ready:
            return ""
        safe = defang(neutralise(ready, bare_urls=self.bare))
        block = self.shown[self.shown.rfind("\n\n") + 1 :] if "\n\n" in self.shown else self.shown
        if not is_inert(block + safe) or _bare_matches(block + safe):
            self.broken = True
            return ""
        self.shown += safe
        return safe


def hold_from(text: str) -> int:
    """Index from which `text` must be held back because what follows could still make it a link, an image or
    HTML: an unmatched `[`, a `]` at the end or before an unclosed `(`, an open `<`, a partial last word."""
    cut = len(text)
    stack: list[int] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            stack.append(i)
        elif ch == "]" and stack:
            opener = stack.pop()
            after = text[i + 1 : i + 2]
            open_target = after == "(" and not _parens_closed(text, i + 1)  # `[x](` still being written
            definition = after == ":" and "\n" not in text[i + 1 :]  # `[x]: ...` up to the line's end
            if not after or open_target or definition:
                cut = min(cut, opener)
        i += 1
    if stack:
        cut = min(cut, stack[0])
    if cut > 0 and cut < len(text) and text[cut - 1] == "!":
        cut -= 1
    lt = text.rfind("<")
    if lt >= 0 and ">" not in text[lt:]:
        cut = min(cut, lt)
    if text and not text[-1].isspace():
        space = max(text.rfind(c) for c in (" ", "\n", "\t"))
        cut = min(cut, space + 1)
    return max(cut, 0)


def _parens_closed(text: str, start: int) -> bool:
    depth = 0
    for ch in text[start:]:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return True
    return False
