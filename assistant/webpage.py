"""The page Chainlit serves, made self-contained: no request from a visitor's browser goes to another origin.

Chainlit's index.html preconnects to Google Fonts and links KaTeX's CSS from a CDN. `public/theme.json` already
points the fonts at `/public/fonts/inter.css` (Inter woff2 files served by the app); `self_contained` removes the
remaining third-party links from the template, and `install` wraps Chainlit's template and markdown functions.
KaTeX is not needed because `latex = false` in .chainlit/config.toml.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

_THIRD_PARTY_LINK = re.compile(
    r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*/?>\s*", re.IGNORECASE | re.DOTALL
)
_META_URL = re.compile(r"(<meta property=\"og:(image|url)\" content=\")https?://[^\"]*(\">)")


def self_contained(html: str) -> str:
    """The index page without links to other origins (preconnects, fonts, KaTeX) or third-party meta URLs."""
    html = _THIRD_PARTY_LINK.sub("", html)
    return _META_URL.sub(
        lambda m: m.group(1) + ("/public/logo.svg" if m.group(2) == "image" else "/") + m.group(3), html
    )


def markdown_language(language: str) -> str:
    """`nl-NL`, `nl-BE`, `nl` -> `nl` (chainlit_nl.md); anything else is passed on (English is chainlit.md)."""
    return "nl" if language.lower().startswith("nl") else language


def install() -> None:
    """Wrap chainlit.server's page template and readme lookup (called once when the app module loads)."""
    import chainlit.server as server

    template: Callable[[str], str] = server.get_html_template
    markdown: Callable[[str, str], str | None] = server.get_markdown_str
    if getattr(template, "openbaar", False):
        return

    def html_template(root_path: str) -> str:
        return self_contained(template(root_path))

    def markdown_for(root: str, language: str) -> str | None:
        if markdown_language(language) == "nl":
            return markdown(root, "nl")
        default = Path(root) / "chainlit.md"  # English: no per-language file to look for (and warn about)
        return default.read_text(encoding="utf-8") if default.is_file() else None

    html_template.openbaar = True  # type: ignore[attr-defined]
    server.get_html_template = html_template
    server.get_markdown_str = markdown_for
