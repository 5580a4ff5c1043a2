"""The language of a question: "nl", "en" or another ISO 639-1 code; "nl" when undecidable.

Questions are short, which generic detectors get wrong ("Wat zei Jan Klink?"), so two signals are combined:
counts of Dutch and English function words, then py3langid (offline), first over all languages (to notice a
clearly German or French question) and then restricted to Dutch and English.
"""

from __future__ import annotations

import re

from assistant.pipeline.context import RequestContext
from ingestion.language import identifier

DEFAULT = "nl"  # a Dutch product: undecidable questions are Dutch
# fmt: off
_NL = frozenset(
    ["welke", "welk", "wat", "wie", "wiens", "hoe", "hoeveel", "waarom", "wanneer", "waar", "zijn", "het", "de", "een", "en", "van", "niet", "met", "voor", "zei", "zegt", "heeft", "hebben", "wordt", "worden", "er", "ik", "je", "jij", "hij", "zij", "ze", "over", "naar", "ook", "nog", "deze", "dit", "dat", "die", "kan", "kun", "kunt", "moet", "mijn", "uw", "u", "zou", "zal", "bij", "tot", "geen", "wel", "maar", "dan", "als", "gaat", "krijg", "krijgt"]
)
# fmt: on
# fmt: off
_EN = frozenset(
    ["which", "what", "who", "whose", "how", "why", "when", "where", "are", "the", "a", "an", "and", "of", "not", "with", "for", "said", "says", "has", "have", "does", "did", "do", "there", "i", "you", "he", "she", "they", "about", "to", "also", "this", "that", "these", "those", "can", "could", "must", "my", "your", "would", "will", "at", "any", "get", "gets", "been", "was", "were", "from"]
)
# fmt: on
NL_EN = ("nl", "en")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_LOOKALIKES = frozenset({"af", "fy", "li"})  # confused with Dutch on short texts
FUNCTION_WORD_MARGIN = 2  # this many more function words of one language decides
OTHER_LANGUAGE_CONFIDENCE = 0.5  # py3langid's top other language needs this probability ...
MAX_NL_EN_FOR_OTHER = 0.1  # ... while Dutch and English together stay below this
NL_EN_CONFIDENCE = 0.7  # restricted to nl/en, py3langid decides above this probability


def function_word_counts(text: str) -> tuple[int, int]:
    """(Dutch, English) function words in the text; words both languages share ("is", "in") count for none."""
    words = [w.lower() for w in _WORD.findall(text)]
    return sum(w in _NL and w not in _EN for w in words), sum(w in _EN and w not in _NL for w in words)


def detect_question_language(text: str) -> str:
    """ "nl", "en", another code when clearly another language, or "nl" when undecidable."""
    words = _WORD.findall(text)
    if not words:
        return DEFAULT
    n_nl, n_en = function_word_counts(text)
    if abs(n_nl - n_en) >= FUNCTION_WORD_MARGIN:
        return "nl" if n_nl > n_en else "en"
    if n_nl == 0 and n_en == 0 and len(words) >= 3:
        ranking = dict(identifier().rank(text)[:20])
        top = max(ranking, key=ranking.__getitem__)
        nl_en = ranking.get("nl", 0.0) + ranking.get("en", 0.0)
        if (
            top not in ("nl", "en")
            and top not in _LOOKALIKES
            and ranking[top] >= OTHER_LANGUAGE_CONFIDENCE
            and nl_en < MAX_NL_EN_FOR_OTHER
        ):
            return str(top)
    top, p = identifier(NL_EN).classify(text)
    if p >= NL_EN_CONFIDENCE and (n_nl == n_en or (top == "nl") == (n_nl > n_en)):
        return str(top)
    if n_nl != n_en:
        return "nl" if n_nl > n_en else "en"
    return DEFAULT


class DetectLanguage:
    """The question's language decides the language of the answer's framing (quotes stay as written)."""

    name = "language"

    def __call__(self, ctx: RequestContext) -> None:
        ctx.language = detect_question_language(ctx.question)
        if ctx.language not in NL_EN:
            ctx.notes.append(f"question_language:{ctx.language}")
