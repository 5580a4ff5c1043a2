"""Languages: the one loader of the offline detector (py3langid), document language detection and codes."""

from __future__ import annotations

import re
import threading
from typing import Any

UNDETERMINED = "und"  # returned by detect_language when the text is too short or undecidable
_MIN_LETTERS = 20  # fewer letters than this: no language guess
_SAMPLE_CHARS = 2000  # only the start of the text is classified (speed; the rest rarely changes the answer)
# Languages py3langid confuses with Dutch; if one of them wins narrowly and Dutch is close, Dutch is chosen.
_DUTCH_LOOKALIKES = frozenset({"af", "fy", "li"})
_DUTCH_MARGIN = 0.35  # prefer "nl" when P(top) - P(nl) is below this
_MIN_CONFIDENCE = 0.2  # below this the top guess is "und"

_lock = threading.Lock()
_identifiers: dict[tuple[str, ...], Any] = {}


def identifier(languages: tuple[str, ...] = ()) -> Any:
    """The py3langid identifier with normalised probabilities, loaded once per language set (~1 s each);
    `languages` restricts it (e.g. ("nl", "en")), empty = every language it knows."""
    found = _identifiers.get(languages)
    if found is None:
        with _lock:
            found = _identifiers.get(languages)
            if found is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                found = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                if languages:
                    found.set_languages(list(languages))
                _identifiers[languages] = found
    return found


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when it has under 20 letters or no clear winner.

    Only the first ~2000 characters are used. Afrikaans/Frisian/Limburgish narrowly beating Dutch is read as Dutch.
    """
    sample = text[:_SAMPLE_CHARS]
    if sum(1 for ch in sample if ch.isalpha()) < _MIN_LETTERS:
        return UNDETERMINED
    ranking = identifier().rank(sample)
    if not ranking:
        return UNDETERMINED
    top, top_p = ranking[0]
    if top in _DUTCH_LOOKALIKES:
        nl_p = next((p for lang, p in ranking if lang == "nl"), 0.0)
        if top_p - nl_p < _DUTCH_MARGIN:
            return "nl"
    if top_p < _MIN_CONFIDENCE:
        return UNDETERMINED
    return str(top)


# ISO 639-2/3 codes that documents commonly carry, mapped to ISO 639-1.
_THREE_LETTER = {
    "nld": "nl", "dut": "nl", "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr",
    "fry": "fy", "spa": "es", "ita": "it", "pol": "pl", "tur": "tr", "ara": "ar", "pap": "pap",
}  # fmt: skip


def normalise_language(value: str | None) -> str | None:
    """Primary ISO 639-1 subtag: "nl-NL", "NL", "nl_be", "nld" -> "nl"; empty, "und" or malformed -> None."""
    if not value:
        return None
    primary = re.split(r"[-_\s]", str(value).strip(), maxsplit=1)[0].lower()
    primary = _THREE_LETTER.get(primary, primary)
    if primary == UNDETERMINED or not re.fullmatch(r"[a-z]{2,3}", primary):
        return None
    return primary
