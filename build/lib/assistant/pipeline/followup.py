"""Offline condensing of follow-up questions into standalone questions (deterministic, explainable).

A question is a follow-up when it refers back: a personal pronoun (zij, hij, hem, haar, she, he, him, her,
they, ...), a continuation opener ("En ...", "And ...", "Wat nog meer"), or, when it names nothing itself, a
demonstrative (dat, die, daar, it, that, there) or being very short. Then:
1. a personal pronoun is replaced by the most recent name of earlier user turns ("zij" -> "Liesje
   Schreinemacher"; possessive "haar partij" -> "de partij van Liesje Schreinemacher");
2. an elliptical "En <name>?" swaps that name into the previous question ("Wat zei Jan Klink?" + "En Stieneke
   van der Graaf?" -> "Wat zei Stieneke van der Graaf?");
3. otherwise the names and content words of the previous question are added in parentheses.
Anything else is returned unchanged.
"""

from __future__ import annotations

import re

from assistant.answer.extractive.terms import find_entities, frame_words

_PERSONAL_NL = frozenset({"zij", "hij", "hem", "ze", "haar", "hun", "hen"})
_PERSONAL_EN = frozenset({"she", "he", "him", "her", "they", "them", "his", "their"})
_POSSESSIVE = frozenset(
    {"haar", "zijn", "hun", "her", "his", "their"}
)  # "zijn" only before a noun, see below
# fmt: off
_DEMONSTRATIVE = frozenset(
    ["dat", "die", "dit", "deze", "daar", "daarvan", "daarover", "daarmee", "daarom", "daarna", "hiervan", "hierover", "it", "that", "this", "those", "these", "there"]
)
# fmt: on
_OPENERS = re.compile(
    r"^(?:en|and|maar|but|ook|also|wat\s+nog\s+meer|what\s+else|en\s+verder|anything\s+else|nog\s+meer"
    r"|en\s+wat|and\s+what)\b[\s,]*",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
MAX_SHORT_WORDS = 3  # a question of at most this many words that names nothing is a follow-up
MAX_CONTEXT_WORDS = 6  # content words carried over from the previous question


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def is_followup(question: str) -> bool:
    """Whether the question refers back to earlier turns (see the module docstring)."""
    words = _words(question)
    if not words:
        return False
    if _OPENERS.match(question.strip()):
        return True
    if any(w in _PERSONAL_NL or w in _PERSONAL_EN for w in words):
        return True
    names = find_entities(question)
    if names:
        return False
    return any(w in _DEMONSTRATIVE for w in words) or len(words) <= MAX_SHORT_WORDS


def _last_with_names(history: list[str]) -> tuple[str, list[str]] | None:
    for turn in reversed(history):
        names = find_entities(turn)
        if names:
            return turn, names
    return None


def _context_words(turn: str) -> list[str]:
    frame = frame_words()
    names = {w.lower() for n in find_entities(turn) for w in _WORD.findall(n)}
    out: list[str] = []
    for word in _WORD.findall(turn):
        low = word.lower()
        if low not in frame and low not in names and word not in out and len(low) > 2:
            out.append(word)
    return out[:MAX_CONTEXT_WORDS]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _replace_pronoun(question: str, name: str, english: bool) -> str | None:
    """Replace the first personal pronoun by the name; None when there is none."""
    tokens = list(re.finditer(r"\w+(?:[-'’]\w+)*|[^\w\s]", question))
    for i, m in enumerate(tokens):
        word = m.group(0).lower()
        if word not in _PERSONAL_NL and word not in _PERSONAL_EN:
            continue
        following = tokens[i + 1].group(0) if i + 1 < len(tokens) else ""
        possessive = (
            word in _POSSESSIVE
            and following[:1].isalpha()
            and following.lower() not in frame_words()
            and following[:1].islower()
        )
        if possessive:
            noun_end = tokens[i + 1].end()
            template = "the {noun} of {name}" if english else "de {noun} van {name}"
            replacement = template.format(noun=following, name=name)
            return question[: m.start()] + replacement + question[noun_end:]
        return question[: m.start()] + name + question[m.end() :]
    return None


def condense(question: str, history: list[str] | None = None) -> str:
    """A standalone version of `question` given earlier user turns (oldest first); unchanged if not a follow-up."""
    history = [h for h in (history or []) if h and h.strip()]
    question = question.strip()
    if not history or not is_followup(question):
        return question
    english = (
        sum(w in _PERSONAL_EN or w in {"what", "which", "who", "and", "the"} for w in _words(question)) > 0
    )
    opener = _OPENERS.match(question)
    core = _capitalise(question[opener.end() :]) if opener and opener.end() < len(question) else question
    named = _last_with_names(history)
    own_names = find_entities(core)

    if named is not None and not own_names:
        resolved = _replace_pronoun(core, named[1][0], english)
        if resolved is not None:
            return resolved
    previous = history[-1]
    previous_names = find_entities(previous)
    if opener and own_names and previous_names and len(_words(core)) <= len(own_names[0].split()) + 1:
        # "En Stieneke van der Graaf?": the same question about another name
        return previous.replace(previous_names[0], own_names[0], 1)
    context = [*(n for n in previous_names if n not in own_names), *_context_words(previous)]
    if not context:
        return core
    body = core.rstrip(" ?!.")
    end = core[len(body) :].strip() or "?"
    return f"{body} ({', '.join(context)}){end}"
