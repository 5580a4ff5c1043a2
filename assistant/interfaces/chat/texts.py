"""Chainlit's own UI texts in Openbaar's words: the overrides `openbaar serve` writes into Chainlit's translation files.

Pure functions over prompts/messages.toml (no Chainlit): keys under `chainlit.` are Chainlit's translation keys
(placeholder, login form, new-chat dialog, theme menu, ...); the line under the message box (`chat.watermark`) says
how answers are made in the configured mode; `openbaar.*` holds texts our own page script needs.
"""

from __future__ import annotations

from typing import Any

from assistant.i18n import LANGUAGES, all_messages, t

PREFIX = "chainlit."


def _put(tree: dict[str, Any], path: list[str], value: str) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def chainlit_overrides(mode: str) -> dict[str, dict[str, Any]]:
    """{"nl": {...}, "en": {...}}: nested translation overrides for Chainlit's Dutch files and for all others.
    `mode` is the configured answer mode (`extractive` or `llm`): the footer says which."""
    out: dict[str, dict[str, Any]] = {lang: {} for lang in LANGUAGES}
    for key in all_messages():
        if key.startswith(PREFIX):
            for lang in LANGUAGES:
                _put(out[lang], key[len(PREFIX) :].split("."), t(key, lang))
    for lang in LANGUAGES:
        _put(out[lang], ["chat", "watermark"], t(f"ui.footer_{mode}", lang))
        _put(out[lang], ["openbaar", "themeToggle"], t("ui.theme_toggle", lang))
    return out


def widget_texts() -> dict[str, dict[str, str]]:
    """The texts the widget script adds on a host page, per language: the button's name, the welcome line, and
    the one line shown instead of a raw network error."""
    return {
        lang: {
            "button": t("ui.widget_button", lang),
            "welcome": t("ui.welcome", lang),
            "refused": t("ui.widget_refused", lang),
            "unreachable": t("ui.widget_unreachable", lang),
        }
        for lang in LANGUAGES
    }
