"""All user-visible text, from `prompts/messages.toml`, in Dutch and English."""

from __future__ import annotations

import os
import string
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

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
def catalog() -> dict[str, dict[str, str]]:
    """Every message, validated: both languages present, the same placeholders in each."""
    raw = tomllib.loads((resources.files("prompts") / "messages.toml").read_text(encoding="utf-8"))
    messages = _flatten(raw)
    for key, texts in messages.items():
        missing = [lang for lang in LANGUAGES if not texts.get(lang)]
        if missing:
            raise MessagesError(f"messages.toml: {key} has no text for {', '.join(missing)}")
        if _placeholders(texts["nl"]) != _placeholders(texts["en"]):
            raise MessagesError(f"messages.toml: {key} has different placeholders in nl and en")
    return messages


def default_language(setting: str = "auto") -> str:
    """`nl` or `en`: the setting, or for `auto` the LANG/LC_ALL environment."""
    if setting in LANGUAGES:
        return setting
    env = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "nl" if env.lower().startswith("nl") else "en"


def t(key: str, lang: str = "en", **params: Any) -> str:
    """The message `key` in `lang` (falls back to English), with placeholders filled in."""
    texts = catalog()[key]
    text = texts.get(lang) or texts["en"]
    return text.format(**params) if params else text
