"""What the offline answerer knows about each candidate sentence: how close it is in meaning to the question,
which of the question's words and names it holds (weighted by how rare they are), whether it is the kind of
sentence the question asks for (a date for "when", a number for "how many", a reason for "why", ...) and where it
stands (in a retrieved passage, in the best document). `FEATURES` names the vector the scoring model weighs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import prompts
from assistant.answer.extractive.terms import (
    QueryTerms,
    SentenceTerms,
    entity_matches,
    has_number,
    term_matches,
)

FEATURES = (
    "dense",  # cosine similarity of sentence and question (0 when no vectors)
    "dense_gap",  # how far below the best candidate's similarity (0 for the best)
    "lexical",  # share of the question's term weight (IDF) found in the sentence
    "lexical_window",  # the same, in the sentence and its neighbours
    "focus",  # the same with each word weighted by its rarity among the document's sentences
    "doc_coverage",  # share of the question's weight found anywhere in the part of the document read
    "dense_doc",  # dense minus the mean of its document's sentences (closeness beyond the shared topic)
    "names",  # share of the question's names in the sentence
    "names_missing",  # the question names something the document never mentions
    "kind_match",  # the sentence is the kind the question asks for (date, number, reason, person, ...)
    "kind_known",  # the question's kind has such a test (who/when/how_many/why/opinion/falls_under)
    "new_name",  # a who/which question, and the sentence names someone or something the question does not
    "in_passage",  # inside a retrieved passage (not only elsewhere in its document)
    "doc_rank",  # 1 / rank of the document among the retrieved ones
    "chunk_dense",  # cosine similarity of the best retrieved chunk of the document
    "withholding",  # says information is not made public
    "first_sentence",  # the document's first statement
    "short",  # fewer than 6 words
    "long",  # more than 45 words
)

_WORD = re.compile(r"\w+", re.UNICODE)
_KINDS = ("who", "when", "how_many", "why", "opinion", "falls_under")


@lru_cache(maxsize=1)
def _kind_patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    raw = prompts.load_toml("cues.toml")["question_type"]
    return {name: tuple(re.compile(p, re.IGNORECASE) for p in raw[name]) for name in raw["order"]}


def question_kind(question: str) -> str:
    """opinion, why, when, how_many, who, falls_under, yes_no or which (see prompts/cues.toml)."""
    for name, patterns in _kind_patterns().items():
        if any(p.search(question) for p in patterns):
            return name
    return "which"


@lru_cache(maxsize=1)
def _sentence_kind_patterns() -> dict[str, re.Pattern[str]]:
    raw = prompts.load_toml("cues.toml")["sentence_kind"]
    return {name: re.compile("|".join(f"(?:{p})" for p in raw[name]), re.IGNORECASE) for name in raw}


_NAME = re.compile(
    r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-Ý][a-zà-ÿ]+(?:\s+(?:van|der|den|de|ter|te)\s+)?(?:\s+[A-ZÀ-Ý][a-zà-ÿ]+)?"
)
_PARTY = re.compile(r"\b(?:[A-Z]{2,}|PvdA|PvdD|GroenLinks|ChristenUnie|50PLUS|D66|JA21)\b")


def kind_match(kind: str, sentence: str) -> bool:
    """Whether the sentence is the kind of answer the question's kind asks for."""
    if kind == "how_many":
        return has_number(sentence)
    if kind == "who":
        return bool(
            _NAME.search(sentence)
            or _PARTY.search(sentence)
            or _sentence_kind_patterns()["who"].search(sentence)
        )
    patterns = _sentence_kind_patterns()
    return bool(patterns[kind].search(sentence)) if kind in patterns else False


def new_names(question: str, sentence: str) -> bool:
    """Whether the sentence names a person, place, party or body (capitalised inside the sentence, or an
    abbreviation) that the question does not mention: what a "who" or "which" question asks for."""
    asked = {w.lower() for w in _WORD.findall(question)}
    for m in (*_NAME.finditer(sentence), *_PARTY.finditer(sentence)):
        if any(w.lower() not in asked for w in _WORD.findall(m.group(0))):
            return True
    return False


@dataclass
class QuestionProfile:
    """What is measured once per question: its kind and the weight of each of its terms."""

    terms: QueryTerms
    kind: str
    weights: list[float]  # IDF of each content term (same order as terms.terms)
    total: float = field(init=False)

    def __post_init__(self) -> None:
        self.total = sum(self.weights) + len(self.terms.entities) * max(self.weights, default=3.0)


def lexical_share(
    profile: QuestionProfile, sentence: SentenceTerms, named: list[bool] | None = None
) -> float:
    """The share of the question's term weight (content terms by IDF, names as the rarest term) in the sentence;
    `named`: which of the question's names the sentence mentions, when already known."""
    if profile.total <= 0:
        return 0.0
    pairs = zip(profile.terms.terms, profile.weights, strict=True)
    got = sum(w for term, w in pairs if term_matches(term, sentence))
    if named is None:
        named = [entity_matches(entity, sentence) for entity in profile.terms.entities]
    got += sum(named) * max(profile.weights, default=3.0)
    return got / profile.total


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


def words(text: str) -> int:
    return len(_WORD.findall(text))


def kind_is_known(kind: str) -> bool:
    return kind in _KINDS
