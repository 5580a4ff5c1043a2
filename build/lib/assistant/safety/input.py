"""Input checks before anything is retrieved: clean the question, refuse empty, unreadable or off-topic input.

`check_question(text) -> (clean_text, refusal_key | None)`; a refusal key names a message in
prompts/messages.toml ([refusal.*]). Off-topic patterns live in prompts/scope.toml.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import prompts

MAX_QUESTION_CHARS = 1000  # longer input is refused: questions are short; this bounds retrieval work
MIN_LETTERS = 2  # fewer letters or digits than this is not a question

# Unicode tag characters (invisible "ASCII smuggling"), zero-width characters, BOM, bidi controls: removed.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # controls incl. newlines and tabs: become spaces
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def off_topic_patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    """Category -> compiled patterns, from prompts/scope.toml."""
    raw = prompts.load_toml("scope.toml")
    return {
        category: tuple(re.compile(p, re.IGNORECASE) for p in patterns)
        for category, patterns in raw["off_topic"].items()
    }


def clean_question(text: str) -> str:
    """NFC, invisible characters removed, control characters and whitespace runs as one space, ends stripped."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def off_topic_category(text: str) -> str | None:
    """The scope.toml category a question clearly falls in, or None."""
    for category, patterns in off_topic_patterns().items():
        if any(p.search(text) for p in patterns):
            return category
    return None


def check_question(text: object) -> tuple[str, str | None]:
    """(cleaned question, None) when it may be answered, else (cleaned question, refusal message key)."""
    if not isinstance(text, str):
        return "", "refusal.invalid"
    if len(text) > 20 * MAX_QUESTION_CHARS:  # do not even clean megabytes
        return "", "refusal.too_long"
    clean = clean_question(text)
    if not clean:
        return "", "refusal.empty"
    if len(clean) > MAX_QUESTION_CHARS:
        return clean, "refusal.too_long"
    if sum(ch.isalnum() for ch in clean) < MIN_LETTERS:
        return clean, "refusal.invalid"
    if off_topic_category(clean) is not None:
        return clean, "refusal.off_topic"
    return clean, None
