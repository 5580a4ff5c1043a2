"""Question analysis for the offline composer and follow-ups: content terms, named entities, question type.

Terms are stemmed with the same Snowball stemmers as the BM25 index (`vectorstore.lexical.tokenize`), in
Dutch and English, and widened with the bilingual glossary (`prompts/glossary.toml`), so an English question
can match Dutch text. Words of the question frame (`prompts/cues.toml` [frame]) and stopwords are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

import prompts
from vectorstore.lexical import tokenize

_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
# A capitalised word (incl. "Noord-Afrika", "DigiD", "BRP"), possibly joined by name particles ("van der").
_CAP = r"[A-ZÀ-ÝĲ][\w’'-]*"
_PARTICLE = r"(?:van|der|den|de|ter|ten|te|op|het|von|da|di|du|le|la|of|the|and|en)"
_ENTITY = re.compile(rf"{_CAP}(?:\s+(?:{_PARTICLE}\s+){{0,3}}{_CAP})*")
_QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»]{2,60})[\"“”„«»]")
MIN_SUFFIX_MATCH = 5  # "partnerschap" matches "migratiepartnerschap": Dutch compounds end in their head word
MIN_PREFIX_MATCH = 7  # "partnerschap" matches "partnerschapsakkoord"


def _cues() -> dict:
    return prompts.load_toml("cues.toml")


@lru_cache(maxsize=1)
def frame_words() -> frozenset[str]:
    """Question words, frame verbs and stopwords of both languages (lower case)."""
    return frozenset(_cues()["frame"]["words"]) | frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def withheld_patterns() -> tuple[re.Pattern[str], ...]:
    """Patterns of sentences saying that information is withheld (nl and en)."""
    cues = _cues()["withheld"]
    return tuple(re.compile(p, re.IGNORECASE) for lang in ("nl", "en") for p in cues[lang])


@lru_cache(maxsize=1)
def withheld_words() -> frozenset[str]:
    """Words of withholding phrases ("niet", "openbaar", "noemen"): not evidence of answering the question."""
    return frozenset(w.lower() for w in _cues()["withheld"]["words"])


@lru_cache(maxsize=8)
def _patterns(section: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in _cues()[section]["patterns"])


@lru_cache(maxsize=4096)
def stems(text: str) -> frozenset[str]:
    """The Dutch and English stems of the words of `text`, plus the lower-cased words themselves."""
    words = [w.lower() for w in _WORD.findall(text)]
    out = set(words)
    for w in words:
        out.update(tokenize(w, "nl"))
        out.update(tokenize(w, "en"))
    return frozenset(out)


@lru_cache(maxsize=1)
def _glossary() -> dict[str, frozenset[str]]:
    """Lower-cased word/phrase -> the lower-cased members of its group (including itself)."""
    raw = prompts.load_toml("glossary.toml")
    index: dict[str, set[str]] = {}
    for group in raw["groups"]:
        members = {g.lower() for g in group}
        for member in members:
            index.setdefault(member, set()).update(members)
            for stem in stems(member) if " " not in member else ():
                index.setdefault(stem, set()).update(members)
    return {k: frozenset(v) for k, v in index.items()}


def glossary_forms(word: str) -> frozenset[str]:
    """Equivalent words (other language, synonyms) of a word or phrase, from the glossary; empty if none."""
    table = _glossary()
    key = word.lower()
    found = set(table.get(key, ()))
    if not found:
        for stem in stems(key) if " " not in key else ():
            found |= table.get(stem, frozenset())
    return frozenset(found)


@dataclass(frozen=True)
class Term:
    """One content word of the question and the stems that count as a match for it."""

    surface: str
    forms: frozenset[str]  # stems (nl and en) of the word and of its glossary equivalents
    phrases: tuple[tuple[str, ...], ...] = ()  # multi-word glossary equivalents, as lower-cased word tuples


@dataclass(frozen=True)
class Entity:
    """A name in the question ("Jan Klink", "Noord-Afrika", a quoted term)."""

    surface: str
    words: tuple[str, ...]  # lower-cased words
    alternatives: tuple[tuple[str, ...], ...] = ()  # glossary equivalents ("Morocco" -> ("marokko",))

    @property
    def key_words(self) -> tuple[tuple[str, ...], ...]:
        """Word sequences that count as a mention: the full name, its equivalents, and a person's surname."""
        options = [self.words, *self.alternatives]
        if len(self.words) >= 2 and self.words[-1] not in frame_words() and "-" not in self.surface:
            options.append((self.words[-1],))
        return tuple(options)


@dataclass(frozen=True)
class QueryTerms:
    """What the composer matches sentences against."""

    text: str
    terms: tuple[Term, ...]
    entities: tuple[Entity, ...]
    quantity: bool = False  # "hoeveel", "how many": the answer must contain a number
    naming: bool = False  # "welke", "wie", "which": the answer names something
    asks_withheld: bool = False  # the question is about what is withheld: withholding statements answer it
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.entities


def find_entities(text: str, quoted: bool = True) -> list[str]:
    """Capitalised names (and, if `quoted`, quoted terms) of a question, in order. A single capitalised word at
    the start counts only when it has more capitals ("DigiD"), since the start is capitalised anyway."""
    found: list[str] = [m.group(1).strip() for m in _QUOTED.finditer(text)] if quoted else []
    frame = frame_words()
    for m in _ENTITY.finditer(text):
        name = m.group(0)
        words = name.split()
        while words and (words[0].lower() in frame or words[0].lower() in _PARTICLE_WORDS):
            # sentence-initial question word, or a particle left over ("En Jan Klink" -> "Jan Klink")
            words = words[1:]
        while words and words[-1].lower() in _PARTICLE_WORDS:
            words = words[:-1]
        if not words:
            continue
        at_start = m.start() == _first_word_start(text) and " ".join(words) == m.group(0)
        tail = next((w for w in words[1:] if w.lower() not in _PARTICLE_WORDS), "")
        if (
            at_start
            and len(words) > 2
            and words[1].lower() in _PARTICLE_WORDS
            and tail.isupper()
            and len(tail) > 1
        ):
            # "Verzamelen de AIVD en MIVD ...": the first word is capitalised only by position
            words = words[words.index(tail) :]
            at_start = False
        name = " ".join(words)
        if at_start and len(words) == 1 and not any(ch.isupper() for ch in name[1:]):
            continue  # "Geef", "Marokko" at the start of a question: capitalised only by position

        if not any(name == f or name in f for f in found):
            found.append(name)
    return found


_PARTICLE_WORDS = frozenset({"van", "der", "den", "de", "ter", "ten", "te", "op", "het", "von", "da", "di", "du",
                             "le", "la", "of", "the", "and", "en"})  # fmt: skip


def _first_word_start(text: str) -> int:
    m = _WORD.search(text)
    return m.start() if m else 0


def analyse(question: str) -> QueryTerms:
    """Content terms and entities of a (standalone) question."""
    frame = frame_words()
    entity_names = find_entities(question)
    entities: list[Entity] = []
    entity_words: set[str] = set()
    for name in entity_names:
        words = tuple(w.lower() for w in _WORD.findall(name))
        if not words:
            continue
        alternatives = tuple(
            tuple(_WORD.findall(form)) for form in sorted(glossary_forms(name)) if form != name.lower()
        )
        entities.append(Entity(name, words, alternatives))
        entity_words.update(words)
    terms: list[Term] = []
    seen: set[str] = set()
    for word in _WORD.findall(question):
        low = word.lower()
        if low in frame or low in entity_words or low in seen or (low.isdigit() and len(low) < 2):
            continue
        seen.add(low)
        forms = set(stems(low))
        phrases: list[tuple[str, ...]] = []
        for equivalent in glossary_forms(low):
            if " " in equivalent:
                phrases.append(tuple(equivalent.split()))
            else:
                forms |= stems(equivalent)
        forms -= frame
        if forms:
            terms.append(Term(word, frozenset(forms), tuple(phrases)))
    return QueryTerms(
        text=question,
        terms=tuple(terms),
        entities=tuple(entities),
        quantity=any(p.search(question) for p in _patterns("quantity")),
        naming=any(p.search(question) for p in _patterns("naming")),
        asks_withheld=any(p.search(question) for p in _patterns("asks_withheld")),
    )


@dataclass(frozen=True)
class SentenceTerms:
    """A sentence's words and stems, prepared once for matching."""

    words: tuple[str, ...]
    stems: frozenset[str]
    joined: str = ""  # " stem1 stem2 ... ": affix matching as one substring search


@lru_cache(maxsize=32768)
def sentence_terms(text: str, language: str | None) -> SentenceTerms:
    """Lower-cased words and stems (in the sentence's language, or both when unknown)."""
    words = tuple(w.lower() for w in _WORD.findall(text))
    out = set(words)
    for part in words:
        for piece in part.split("-"):
            out.add(piece)
    languages = (language,) if language in ("nl", "en") else ("nl", "en")
    for lang in languages:
        out.update(tokenize(" ".join(w.replace("-", " ") for w in words), lang))
    return SentenceTerms(words, frozenset(out), " " + " ".join(out) + " ")


def term_matches(term: Term, sentence: SentenceTerms) -> bool:
    """Whether the sentence contains the term: same stem, a compound ending/starting in it, or a glossary phrase."""
    if term.forms & sentence.stems:
        return True
    joined = sentence.joined
    for form in term.forms:
        if len(form) >= MIN_SUFFIX_MATCH and (
            f"{form} " in joined or (len(form) >= MIN_PREFIX_MATCH and f" {form}" in joined)
        ):
            return True
    return any(_contains_sequence(sentence.words, phrase) for phrase in term.phrases)


def entity_matches(entity: Entity, sentence: SentenceTerms) -> bool:
    """Whether the sentence mentions the entity: full name, glossary equivalent, a person's surname, or for a
    one-word name also an inflected or compound form ("Woo-verzoeken" for "Woo-verzoek")."""
    if any(_contains_sequence(sentence.words, option) for option in entity.key_words):
        return True
    if len(entity.words) != 1:
        return False
    for word in (entity.words[0], *(a[0] for a in entity.alternatives if len(a) == 1)):
        parts = word.split("-")  # "AOW-uitkering": every part must be there, not just "AOW"
        if all(_part_matches(part, sentence) for part in parts):
            return True
    return False


def _part_matches(word: str, sentence: SentenceTerms) -> bool:
    forms = stems(word)
    return bool(forms & sentence.stems) or any(
        len(f) >= MIN_PREFIX_MATCH and f" {f}" in sentence.joined for f in forms
    )


def _contains_sequence(words: tuple[str, ...], seq: tuple[str, ...]) -> bool:
    if not seq:
        return False
    expanded = tuple(p for w in words for p in ([w, *w.split("-")] if "-" in w and len(seq) == 1 else [w]))
    if len(seq) == 1:
        return seq[0] in expanded
    n = len(seq)
    return any(words[i : i + n] == seq for i in range(len(words) - n + 1))


def has_number(text: str) -> bool:
    """Whether the text states a number (digits or a Dutch/English number word)."""
    return bool(_NUMBER.search(text))


_NUMBER = re.compile(
    r"\d|\b(?:een\s+paar|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|dertig|veertig"
    r"|vijftig|honderd\w*|duizend\w*|miljoen\w*|miljard\w*|dozijn|tientallen|honderden|duizenden|enkele"
    r"|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?"
    r"|thousands?|millions?|billions?|dozens?|several)\b",
    re.IGNORECASE,
)

_PLAIN_WORD = re.compile(r"\w+")
_CUE_HINT = re.compile(
    r"niet|geen|vertrouwelijk|geheim|terughoudend|weiger|mededeling|not\b|n.t\b|declin|refus|confidential"
    r"|withheld|classified|secret",
    re.IGNORECASE,
)
_CUE_STEMS = ("vertrouwelijk", "geheim", "terughoudend", "confidential")


def withheld_spans(text: str) -> list[tuple[int, int]]:
    """Where the text says information is withheld (the cue patterns of prompts/cues.toml)."""
    if not _CUE_HINT.search(text):  # cheap pre-check: most sentences have none of the cue words
        return []
    return [m.span() for p in withheld_patterns() for m in p.finditer(text)]


def blank_cue_words(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the withholding words inside cue phrases blanked ("niet openbaar maken"), so that what
    remains says what is withheld ("met welke landen")."""
    vocabulary = withheld_words()
    chars = list(text)
    for s, e in spans:
        for m in _PLAIN_WORD.finditer(text, s, e):
            if m.group(0).lower() in vocabulary or m.group(0).lower().startswith(_CUE_STEMS):
                chars[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(chars)
