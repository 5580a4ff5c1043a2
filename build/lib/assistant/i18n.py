"""All user-visible text, from `prompts/messages.toml`, in Dutch and English, and the one rule that maps any
language tag (a question's language, a browser's, `LANG`, an Accept-Language header) to the two we speak."""

from __future__ import annotations

import os
import string
from functools import lru_cache
from typing import Any

import prompts

LANGUAGES = ("nl", "en")


class MessagesError(RuntimeError):
    """The messages file is incomplete or inconsistent (checked at start)."""


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if (
            isinstance(value, dict)
            and set(value) <= set(LANGUAGES)
            and all(isinstance(v, str) for v in value.values())
        ):
            out[name] = value
        elif isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            raise MessagesError(f"messages.toml: {name} must be a table with nl and en texts")
    return out


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@lru_cache(maxsize=1)
def all_messages() -> dict[str, dict[str, str]]:
    """Every message, validated: both languages present, the same placeholders in each."""
    raw = prompts.load_toml("messages.toml")
    messages = _flatten(raw)
    for key, texts in messages.items():
        missing = [lang for lang in LANGUAGES if not texts.get(lang)]
        if missing:
            raise MessagesError(f"messages.toml: {key} has no text for {', '.join(missing)}")
        if _placeholders(texts["nl"]) != _placeholders(texts["en"]):
            raise MessagesError(f"messages.toml: {key} has different placeholders in nl and en")
    return messages


def nl_or_en(tag: str | None) -> str:
    """`nl` for any Dutch language tag ("nl", "nl-NL", "nl_BE.UTF-8", "nl-NL,nl;q=0.9"), else `en`."""
    return "nl" if (tag or "").strip().lower().startswith("nl") else "en"


def framing(language: str | None) -> str:
    """The language canned text is written in for a question in `language` (nl, en, or another code)."""
    return nl_or_en(language)


def default_language(setting: str = "auto") -> str:
    """`nl` or `en`: the setting, or for `auto` the LC_ALL/LANG environment."""
    if setting in LANGUAGES:
        return setting
    return nl_or_en(os.environ.get("LC_ALL") or os.environ.get("LANG"))


def t(key: str, lang: str = "en", **params: Any) -> str:
    """The message `key` in `lang` (falls back to English), with placeholders filled in."""
    texts = all_messages()[key]
    text = texts.get(lang) or texts["en"]
    return text.format(**params) if params else text
