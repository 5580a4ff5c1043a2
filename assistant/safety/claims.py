"""Is a model-written sentence supported by what it cites? Offline, entailment-style checks (issue 11, point 1).

A citation proves only that its quote is in the source. Before a sentence is shown as resting on it, the sentence
itself must be supported by that quote (and its passage):

1. **Hard facts** must occur in the cited evidence (quote, passage, title, speaker): every number (digits
   compared without separators: 06-12345678, NL91 ABNA 0417 1643 00, 1.000), every e-mail address and URL,
   every name (a capitalised word inside the sentence, an acronym); across languages a name may be spelled
   differently (Morocco / Marokko: a close spelling or the glossary). A negation needs a negation in the evidence.
2. **Content terms** (words that are not function words, stemmed with Snowball for Dutch and English; Dutch
   participles without `ge-`; compounds by containment; the bilingual glossary of prompts/glossary.toml and
   close spellings across languages): `coverage` is the share found in the quote (plus title and speaker).
3. **Meaning**: the cosine similarity of sentence and quote with the offline multilingual embedder (e5, both as
   `query:`), when one is given.

A sentence is supported when the hard facts hold and either every content term is in the quote in the same
language (no embedding needed), or coverage and similarity both reach the same-language thresholds (and at most
one content term in five is new), or, across
languages (an English sentence over a Dutch quote), coverage and similarity reach theirs or the similarity alone
is very high (`ClaimThresholds`, calibrated on our own pairs: docs/decisions/0013-claim-support-checks.md).
A sentence with nothing to check (no term, name or number: "Volgens de bron geldt het volgende") claims
nothing and passes. Without an embedder, only the first rule can pass a sentence: the check fails closed.

`quick` is the streaming variant: the quote is not known yet, so every content term, number and name must be in
one window of three consecutive sentences of the cited passage. Sentences it does not pass are held back until the
final check decides.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

import prompts

Embed = Callable[[list[str]], Sequence[Sequence[float]]]

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+", re.I)
_MARKER = re.compile(r"\[\d+\]")
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9À-Þ])")


def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function and discourse words: they carry no claim that a source must support (both languages, lower case).
_FUNCTION_WORDS = _wordlist(
    """
    a an the this that these those it its it's there here their them they he she his her him we us our you your i me my
    is are was were be been being am has have had having do does did done will would shall should can could may
    might must of in on at by for with from to into onto about as than then so such also only just even still too
    very more most much many some any all each both either other another same own which who whom whose what when
    where why how whether if while because although though since until unless and or but nor yet however therefore
    thus according say says said state states stated told tells mention mentions mentioned source sources passage
    passages document documents text following follows following regarding concerning per via within without
    de het een den der des dit dat deze die daar hier er ze zij hij hem haar hun ons onze jij je jouw u uw ik mij
    mijn wij we men is zijn was waren ben bent wordt worden werd werden geworden heeft hebben had hadden heb
    zal zullen zou zouden kan kunnen kon konden mag mogen mocht moet moeten moest wil willen wilde
    van in op aan bij met voor door over onder tot uit naar om als dan dus ook nog al alleen maar of en want
    omdat doordat terwijl hoewel toen nu zo zoals welke welk wie wat waar wanneer hoe waarom volgens zegt zei
    zeggen gezegd stelt stelde meldt meldde noemt bron bronnen passage passages tekst document documenten
    genoemde volgende volgt betreft aldus namelijk echter daarom immers weliswaar kunt kun zult wilt hoeft
    despite every also although besides including include includes included example instance e.g
    bijvoorbeeld ondanks ieder iedere elke elk geldt gelden gold golden applies"""
)
_STOPWORDS = _FUNCTION_WORDS | frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN)
_NEGATIONS = _wordlist(
    "not no never none nothing nobody neither nor cannot can't won't isn't aren't wasn't weren't don't doesn't "
    "didn't niet geen nooit niets niemand noch nergens"
)
_NL_HINTS = _wordlist(
    "de het een van en dat die niet is op te zijn voor met als er aan ook om dan maar bij nog wordt werd heeft "
    "kunt u uw deze naar"
)
_EN_HINTS = _wordlist(
    "the a an of and that is in to for with as on it be are was by not this from or has have can you your"
)


@dataclass(frozen=True)
class ClaimThresholds:
    """When a sentence counts as supported (calibrated: docs/decisions/0013-claim-support-checks.md)."""

    same_coverage: float = 0.65  # same language: share of content terms found in the quote ...
    same_missing_share: float = 0.2  # ... at most this share of them missing (at least one may be) ...
    same_similarity: float = 0.90  # ... and cosine similarity of sentence and quote
    cross_coverage: float = 0.5  # another language: coverage through the glossary and close spellings ...
    cross_similarity: float = 0.88  # ... with this similarity,
    cross_similarity_alone: float = 0.92  # or this similarity whatever the coverage
    name_ratio: float = 0.6  # a name spelled differently across languages: difflib ratio at least this
    prompt_similarity: float = 0.885  # a sentence this similar to a line of the prompts repeats them


@dataclass(frozen=True)
class Evidence:
    """What one citation offers as support: its verified quote (None while streaming), the passage it is in,
    the document's language, title and speaker."""

    passage: str
    quote: str | None = None
    language: str | None = None
    meta: str = ""  # title and speaker: names in a sentence may come from them


@dataclass
class Verdict:
    supported: bool
    reason: (
        str  # vacuous, lexical, dense, or why not: number, contact, name, negation, coverage, similarity, ...
    )
    coverage: float = 0.0
    similarity: float | None = None
    language: str = ""
    missing: int = 0  # content terms not found in the quote


@dataclass
class _Claim:
    terms: list[str]
    names: list[str]
    numbers: set[str]
    contacts: list[str]
    negated: bool
    language: str
    initials: list[str] = field(default_factory=list)  # a capitalised first word (a name across languages)

    @property
    def vacuous(self) -> bool:
        return not (self.terms or self.names or self.numbers or self.contacts)


@dataclass
class _Bag:
    """The words of some evidence, prepared for matching."""

    text: str
    words: set[str] = field(default_factory=set)
    stems: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    groups: set[int] = field(default_factory=set)
    negated: bool = False


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


_STEM_LOCK = threading.Lock()  # PyStemmer objects are not documented as thread-safe


def _stems(word: str) -> set[str]:
    """The word's Dutch and English stems (and a Dutch participle's without `ge-`)."""
    with _STEM_LOCK:
        out = {_stemmer("dutch").stemWord(word), _stemmer("english").stemWord(word), word}
        if word.startswith("ge") and len(word) >= 6:
            out.add(_stemmer("dutch").stemWord(word[2:]))
        if word.endswith("s") and len(word) >= 3:  # MPs, plurals the stemmers keep
            out.add(word[:-1])
    return out


@lru_cache(maxsize=1)
def _glossary() -> dict[str, set[int]]:
    """Stem -> the groups it is in: English and Dutch words that count as the same term (prompts/glossary.toml,
    shared with the extractive composer, and prompts/lexicon.toml, the claim check's own)."""
    groups = [*prompts.load_toml("glossary.toml")["groups"], *prompts.load_toml("lexicon.toml")["groups"]]
    out: dict[str, set[int]] = {}
    for i, group in enumerate(groups):
        for phrase in group:
            for word in _WORD.findall(_fold(phrase)):
                if word not in _STOPWORDS:
                    for stem in _stems(word):
                        out.setdefault(stem, set()).add(i)
    return out


def _numbers(text: str) -> set[str]:
    return {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}


def sentence_language(text: str, default: str = "nl") -> str:
    """nl or en, by function words (ties: `default`)."""
    words = [w.lower() for w in _WORD.findall(text)]
    nl = sum(w in _NL_HINTS for w in words)
    en = sum(w in _EN_HINTS for w in words)
    return "nl" if nl > en else "en" if en > nl else default


def split_sentences(text: str) -> list[str]:
    """Sentences of a piece of answer text (markers stay with the sentence they follow)."""
    return [s for s in _SENTENCE.split(text) if s.strip()]


def _analyse(sentence: str, default_language: str) -> _Claim:
    text = _MARKER.sub(" ", sentence)
    contacts = [m.group(0).lower().rstrip(".,;:") for m in (*_EMAIL.finditer(text), *_URL.finditer(text))]
    for contact in contacts:
        text = re.sub(re.escape(contact), " ", text, flags=re.I)
    numbers = _numbers(text)
    words = _WORD.findall(text)
    names: list[str] = []
    terms: list[str] = []
    initials: list[str] = []
    first = True
    for word in words:
        low = _fold(word)
        if word.isdigit() or any(c.isdigit() for c in word):
            first = False
            continue
        capital = word[:1].isupper() or (len(word) > 1 and sum(c.isupper() for c in word) > 1)
        is_name = (capital and not first) or (len(word) > 1 and sum(c.isupper() for c in word) > 1)
        initial = capital and first  # a capital that may be a name or just the sentence's start
        first = False
        if low in _STOPWORDS or low in _NEGATIONS or len(low) < 3:
            continue
        (names if is_name else terms).append(low)
        if initial:
            initials.append(low)
    negated = any(_fold(w) in _NEGATIONS for w in words)
    return _Claim(
        terms, names, numbers, contacts, negated, sentence_language(text, default_language), initials
    )


def _bag(text: str) -> _Bag:
    folded = _fold(_MARKER.sub(" ", text))
    words = {w for w in _WORD.findall(folded)}
    stems: set[str] = set()
    for word in words:
        stems |= _stems(word)
    glossary = _glossary()
    groups = {g for s in stems if s in glossary for g in glossary[s]}
    return _Bag(folded, words, stems, _numbers(text), groups, any(w in _NEGATIONS for w in words))


def _term_found(term: str, bag: _Bag, cross: bool) -> bool:
    stems = _stems(term)
    if stems & bag.stems:
        return True
    glossary = _glossary()
    if any(glossary[s] & bag.groups for s in stems if s in glossary):
        return True
    if len(term) >= 5 and term in bag.text:  # a part of a compound: partnerschap in migratiepartnerschappen
        return True
    if cross and len(term) >= 5:  # migration / migratie, partnerships / partnerschappen
        for word in bag.words:
            if len(word) >= 5 and word[:1] == term[:1]:
                prefix = len(_common_prefix(term, word))
                if prefix >= 6 or SequenceMatcher(None, term, word).ratio() >= 0.8:
                    return True
    return False


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def _name_found(name: str, bag: _Bag, cross: bool, ratio: float) -> bool:
    if name in bag.words or (len(name) >= 4 and name in bag.text) or _term_found(name, bag, cross=False):
        return True
    if cross:
        return any(
            word[:1] == name[:1] and SequenceMatcher(None, name, word).ratio() >= ratio for word in bag.words
        )
    return False


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


class ClaimChecker:
    """Checks sentences against the evidence they cite (see the module docstring). Thread-safe."""

    def __init__(
        self,
        thresholds: ClaimThresholds | None = None,
        embed: Embed | None = None,
        prompt_texts: Iterable[str] = (),
    ) -> None:
        self.thresholds = thresholds or ClaimThresholds()
        self._embed = embed
        self._vectors: dict[str, Sequence[float]] = {}
        self._lock = threading.Lock()
        self._prompt_lines = [
            line.strip(" -*0123456789.")
            for text in prompt_texts
            for line in re.split(r"\n|(?<=[.:])\s+", text)
            if len(line.split()) >= 5
        ]

    @property
    def dense_available(self) -> bool:
        return self._embed is not None

    def vectors(self, texts: Iterable[str]) -> list[Sequence[float]]:
        """Embeddings of `texts` (kept for reuse: quotes recur); raises when the embedder fails."""
        wanted = list(texts)
        with self._lock:
            missing = [t for t in dict.fromkeys(wanted) if t not in self._vectors]
        if missing:
            if self._embed is None:
                raise RuntimeError("no embedder")
            found = self._embed(missing)
            with self._lock:
                if len(self._vectors) > 4096:
                    self._vectors.clear()
                self._vectors.update(zip(missing, found, strict=True))
        with self._lock:
            return [self._vectors[t] for t in wanted]

    def similarity(self, a: str, b: str) -> float:
        va, vb = self.vectors([a, b])
        return _cosine(va, vb)

    def warm(self) -> None:
        """Embed the prompt lines now (a server calls this at start, so no visitor waits ~1 s for them)."""
        if self._prompt_lines and self._embed is not None:
            with contextlib.suppress(Exception):  # judged again (and failing closed) when a sentence needs it
                self.vectors(self._prompt_lines)

    def resembles_prompt(self, text: str) -> bool:
        """True when `text` says what a line of the prompts says, in any language (by meaning); also when it
        cannot be judged (no embedder, a failing one): fail closed."""
        if not self._prompt_lines:
            return False
        try:
            vector, *lines = self.vectors([_MARKER.sub("", text).strip(), *self._prompt_lines])
        except Exception:
            return True
        return max(_cosine(vector, line) for line in lines) >= self.thresholds.prompt_similarity

    # --- the checks ------------------------------------------------------------------------------------------
    def _hard(self, claim: _Claim, bag: _Bag, cross: bool, near: _Bag | None = None) -> str | None:
        """Why the sentence's hard facts are not in the evidence (None: they are). Across languages a capitalised
        first word counts as a name too (German, Libya); the polarity must match the quote (`near`)."""
        if not claim.numbers <= bag.numbers:
            return "number"
        if any(c not in bag.text for c in claim.contacts):
            return "contact"
        names = [*claim.names, *claim.initials] if cross else claim.names
        if any(not _name_found(n, bag, cross, self.thresholds.name_ratio) for n in names):
            return "name"
        if claim.negated != (near or bag).negated:
            return "negation"
        return None

    def check(self, sentence: str, evidence: Sequence[Evidence], default_language: str = "nl") -> Verdict:
        """Whether `sentence` is supported by the quotes (and passages) of `evidence` (its citations)."""
        claim = _analyse(sentence, default_language)
        if not evidence:
            return Verdict(False, "no_evidence", language=claim.language)
        if claim.vacuous:
            return Verdict(True, "vacuous", 1.0, language=claim.language)
        quotes = [e.quote or e.passage for e in evidence]
        cross = all((e.language or claim.language) != claim.language for e in evidence)
        everything = _bag(" ".join([*quotes, *(e.passage for e in evidence), *(e.meta for e in evidence)]))
        near = _bag(" ".join([*quotes, *(e.meta for e in evidence)]))
        why = self._hard(claim, everything, cross, near)
        if why is not None:
            return Verdict(False, why, language=claim.language)
        found = sum(_term_found(t, near, cross) for t in claim.terms)
        coverage = found / len(claim.terms) if claim.terms else 1.0
        if not cross and coverage >= 1.0:
            return Verdict(True, "lexical", coverage, language=claim.language)
        if self._embed is None:
            return Verdict(
                False, "undecided", coverage, language=claim.language, missing=len(claim.terms) - found
            )
        try:
            similarity = max(self.similarity(_MARKER.sub("", sentence).strip(), q) for q in quotes)
        except Exception:
            return Verdict(False, "undecided", coverage, language=claim.language)
        if self.resembles_prompt(sentence):
            return Verdict(False, "prompt", coverage, similarity, claim.language, len(claim.terms) - found)
        t = self.thresholds
        if cross:
            ok = (coverage >= t.cross_coverage and similarity >= t.cross_similarity) or (
                similarity >= t.cross_similarity_alone
            )
            why = "similarity" if coverage >= t.cross_coverage else "coverage"
        else:
            missing = len(claim.terms) - found
            enough = coverage >= t.same_coverage and missing <= max(
                1, int(t.same_missing_share * len(claim.terms))
            )
            ok = enough and similarity >= t.same_similarity
            why = "coverage" if not enough else "similarity"
        missing = len(claim.terms) - found
        return Verdict(ok, "dense" if ok else why, coverage, similarity, claim.language, missing)

    def quick(self, sentence: str, evidence: Sequence[Evidence], default_language: str = "nl") -> bool:
        """Streaming check without the quote or an embedding: every content term, number and name of the sentence
        in one window of three consecutive sentences of a cited passage, in the sentence's language."""
        claim = _analyse(sentence, default_language)
        if not evidence:
            return False
        if claim.vacuous:
            return True
        for e in evidence:
            if (e.language or claim.language) != claim.language:
                continue
            parts = split_sentences(e.passage) or [e.passage]
            for i in range(len(parts)):
                bag = _bag(" ".join([*parts[max(0, i - 1) : i + 2], e.meta]))
                if self._hard(claim, bag, cross=False) is None and all(
                    _term_found(term, bag, cross=False) for term in claim.terms
                ):
                    return True
        return False


_UNIT = re.compile(r"(?:\s*\[\d+\])+[.!?;:,]?[\"'”’)]*")
_NUMBER_IN = re.compile(r"\[(\d+)\]")


def filter_supported(
    checker: ClaimChecker, text: str, evidence: dict[int, Evidence], default_language: str = "nl"
) -> tuple[str, int]:
    """`text` without the sentences its citation markers do not support; (text, sentences dropped).

    Text is cut into units ending in a marker group (`... [1][2].`); each sentence of a unit is checked against the
    evidence of the unit's markers (a sentence without its own marker rests on the markers that follow it). A unit
    whose markers name no known evidence is left alone (other steps judge those), as is text without markers."""
    dropped = 0
    lines: list[str] = []
    for line in text.split("\n"):
        out: list[str] = []
        pos = 0
        changed = False
        for m in _UNIT.finditer(line):
            body, marks, pos = line[pos : m.start()], m.group(0), m.end()
            cited = [evidence[n] for n in map(int, _NUMBER_IN.findall(marks)) if n in evidence]
            if not cited:
                out.append(body + marks)
                continue
            sentences = split_sentences(body) or [body]
            kept = [s for s in sentences if checker.check(s + marks, cited, default_language).supported]
            if len(kept) < len(sentences):
                dropped += len(sentences) - len(kept)
                changed = True
            if kept:
                lead = body[: len(body) - len(body.lstrip())]
                out.append(lead + " ".join(k.strip() for k in kept) + marks)
        out.append(line[pos:])
        joined = "".join(out)
        lines.append(re.sub(r"[ \t]{2,}", " ", joined).strip() if changed else joined)
    return "\n".join(lines), dropped
