"""Offline condensing of follow-up questions into standalone questions (deterministic, explainable).

A question is a follow-up when it refers back: a personal pronoun (zij, hij, hem, haar, she, he, him, her,
they, ...), a continuation opener ("En ...", "And ...", "Wat nog meer"), or, when it names nothing itself, a
demonstrative (dat, die, daar, it, that, there) or being very short. Then, against the previous question (itself
made standalone first when it was a follow-up too):
1. an elliptical "En <name>?" swaps that name into the previous question ("Wat zei Jan Klink?" + "En Stieneke
   van der Graaf?" -> "Wat zei Stieneke van der Graaf?");
2. a singular personal pronoun is replaced by the person last named in the conversation ("zij" -> "Liesje
   Schreinemacher"; possessive "haar partij" -> "de partij van Liesje Schreinemacher") - only a name that is
   clearly a person's: two or more capitalised words, or one after a title such as "minister";
3. otherwise the follow-up is joined to the previous question ("Hoe lang is mijn paspoort geldig — en voor
   kinderen?"), so retrieval and the answerer see what it is about, and the reader sees how it was understood.
Anything else is returned unchanged.
"""

from __future__ import annotations

import re

from assistant.answer.extractive.terms import find_entities

_PERSONAL_NL = frozenset({"zij", "hij", "hem", "ze", "haar", "hun", "hen"})
_PERSONAL_EN = frozenset({"she", "he", "him", "her", "they", "them", "his", "their"})
_SINGULAR = frozenset({"zij", "hij", "hem", "ze", "haar", "she", "he", "him", "her", "his"})
_POSSESSIVE = frozenset(
    {"haar", "zijn", "hun", "her", "his", "their"}
)  # "zijn" only before a noun, see below
_DEMONSTRATIVE = frozenset(
    [
        "dat",
        "die",
        "dit",
        "deze",
        "daar",
        "daarvan",
        "daarover",
        "daarmee",
        "daarom",
        "daarna",
        "hiervan",
        "hierover",
        "toen",
        "it",
        "that",
        "this",
        "those",
        "these",
        "there",
        "then",
    ]
)
_OPENERS = re.compile(
    r"^(?:en|and|maar|but|ook|also|wat\s+nog\s+meer|what\s+else|en\s+verder|anything\s+else|nog\s+meer"
    r"|en\s+wat|and\s+what)\b[\s,]*",
    re.IGNORECASE,
)
_TITLE = re.compile(
    r"\b(?:minister|premier|staatssecretaris|kamerlid|president|secretary|senator|mevrouw|meneer|de\s+heer"
    r"|mr|mrs|ms|dr|prof)\.?\s+$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
# Capitalised words that name an office or a body, not a person ("Labor Secretary", "Tweede Kamer").
_NOT_PERSON = frozenset(
    [
        "secretary",
        "minister",
        "ministerie",
        "president",
        "house",
        "department",
        "council",
        "kamer",
        "tweede",
        "eerste",
        "raad",
        "commissie",
        "committee",
        "agency",
        "office",
        "state",
        "states",
        "union",
        "european",
        "europese",
        "nederland",
        "netherlands",
    ]
)
MAX_SHORT_WORDS = 3  # a question of at most this many words that names nothing is a follow-up


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
    if find_entities(question):
        return False
    return any(w in _DEMONSTRATIVE for w in words) or len(words) <= MAX_SHORT_WORDS


def person_names(turn: str) -> list[str]:
    """The names in a question that are clearly a person's (two capitalised words, or one after a title)."""
    out = []
    for name in find_entities(turn, quoted=False):
        capitals = [w for w in name.split() if w[:1].isupper()]
        if "-" in name or any(w.isupper() and len(w) > 1 for w in capitals):
            continue
        if any(w.lower() in _NOT_PERSON for w in capitals):
            continue
        at = turn.find(name)
        if len(capitals) >= 2 or (at > 0 and _TITLE.search(turn[:at])):
            out.append(name)
    return out


def _replace_pronoun(question: str, name: str, english: bool) -> str | None:
    """Replace the first singular personal pronoun by the name; None when there is none."""
    tokens = list(re.finditer(r"\w+(?:[-'’]\w+)*|[^\w\s]", question))
    for i, m in enumerate(tokens):
        word = m.group(0).lower()
        if word not in _SINGULAR:
            continue
        following = tokens[i + 1].group(0) if i + 1 < len(tokens) else ""
        possessive = word in _POSSESSIVE and following[:1].isalpha() and following[:1].islower()
        if possessive and following.lower() not in _OPENER_WORDS:
            noun_end = tokens[i + 1].end()
            template = "the {noun} of {name}" if english else "de {noun} van {name}"
            return question[: m.start()] + template.format(noun=following, name=name) + question[noun_end:]
        return question[: m.start()] + name + question[m.end() :]
    return None


_OPENER_WORDS = frozenset({"precies", "eigenlijk", "dan", "nu", "toen", "exactly", "then", "now"})


def _is_english(question: str) -> bool:
    return any(
        w in _PERSONAL_EN or w in {"what", "which", "who", "and", "the", "how", "why"}
        for w in _words(question)
    )


def _join(previous: str, question: str) -> str:
    """The previous question and the follow-up as one: "Hoe lang is mijn paspoort geldig — en voor kinderen?"."""
    body = previous.strip().rstrip(" ?!.")
    follow = question.strip()
    first = follow.split(" ", 1)[0]
    if (
        first[:1].isupper()
        and not (first.isupper() and len(first) > 1)
        and first not in find_entities(follow)
    ):
        follow = follow[:1].lower() + follow[1:]
    return f"{body} — {follow}"


def condense(question: str, history: list[str] | None = None) -> str:
    """A standalone version of `question` given earlier user turns (oldest first); unchanged if not a follow-up."""
    history = [h.strip() for h in (history or []) if h and h.strip()]
    question = question.strip()
    if not history or not is_followup(question):
        return question
    previous = history[-1]
    if len(history) > 1 and is_followup(previous):
        previous = condense(previous, history[:-1])
    opener = _OPENERS.match(question)
    core = question[opener.end() :] if opener and opener.end() < len(question) else question
    core = core[:1].upper() + core[1:]
    own_names = find_entities(core)
    previous_names = find_entities(previous)
    if opener and own_names and previous_names and len(_words(core)) <= len(own_names[0].split()) + 1:
        return previous.replace(previous_names[0], own_names[0], 1)  # "En Stieneke van der Graaf?"
    if not own_names:
        people = next((names for turn in [*reversed(history), previous] if (names := person_names(turn))), [])
        if people:
            resolved = _replace_pronoun(core, people[0], _is_english(core))
            if resolved is not None:
                return resolved
    return _join(previous, question)
