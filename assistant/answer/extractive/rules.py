"""The offline answerer's first reading: a rule on term coverage, with fixed thresholds (docs/decisions/
0015-offline-answerer.md). Precise when the question's words stand in the answering sentence; when it finds
nothing, the learned reading of `composer.py` decides.

How a status is chosen:
1. Every sentence of the top hits is scored by its *coverage* of the question: the share of the question's
   content terms (stemmed, glossary-widened) and names it contains; a name counts 1 in the sentence, 0.5 when
   it is only elsewhere in the same passage.
2. A sentence that says information is withheld (cue patterns in prompts/cues.toml) *and* is about the thing
   asked (a content term outside the cue phrase) is a withholding statement; its coverage is counted without
   the words of the cue phrase itself.
3. `withheld` when the best withholding statement covers the question at least as well as any answering
   sentence (what is known is quoted beside it); `answered` when an answering sentence reaches MIN_COVERAGE (quantity questions also need a
   number, questions with names need one of them in the passage), with a "not everything is public" remark
   quoting a relevant withholding statement; otherwise `not_found` without citations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.answer.base import Answer, Citation, ComposeRequest, DocumentTexts, Mode
from assistant.answer.extractive.render import finalise, render
from assistant.answer.extractive.terms import (
    QueryTerms,
    analyse,
    blank_cue_words,
    entity_matches,
    find_entities,
    has_number,
    sentence_terms,
    term_matches,
    withheld_spans,
)
from assistant.i18n import framing as framing_of
from assistant.i18n import t
from ingestion.chunking import split_sentences
from ingestion.sentences import sentence_spans
from vectorstore.records import Hit

# --- fixed thresholds of the rule (calibrated on the seed questions; docs/decisions/0015-offline-answerer.md) ---
MAX_HITS = 5  # sentences are taken from the documents of this many top hits ...
MAX_DOCS = 3  # ... at most this many documents, each read whole when not longer than MAX_DOC_CHARS
MAX_DOC_CHARS = 30_000
CONTEXT_SENTENCES = 2  # a name within this many sentences before/after counts as context
MIN_BEST_COVERAGE = 0.6  # the best answering sentence covers more than half of the question's terms and names
MIN_COVERAGE = 0.5  # further answering sentences cover at least half
MIN_WITHHELD_COVERAGE = 0.6  # the best withholding statement (cue words not counted), likewise
MIN_MORE_WITHHELD_COVERAGE = 0.34  # a second withholding statement covers at least a third
MIN_REMARK_COVERAGE = (
    0.6  # a withholding statement added as a remark to an answer: as strong as a best answer
)
CONTEXT_ENTITY_WEIGHT = 0.5  # a name found in the same passage but not in the sentence
RANK_WEIGHT = 0.1  # score bonus of a sentence from the hit at rank r: RANK_WEIGHT / r
OUTSIDE_PASSAGE_FACTOR = 0.5  # a sentence outside the retrieved passages gets half its document's rank bonus
NAMING_BONUS = 0.15  # "which/who" questions: a sentence naming something new
LENGTH_PENALTY = 0.003  # per word: of two equally good sentences, the shorter one is the better quote
SAME_SOURCE_BONUS = 0.1  # further sentences from the source of the best one read as one coherent answer
MAX_ANSWER_SENTENCES = 3  # plus at most one withheld remark: 1-4 quotes
MAX_WITHHELD_SENTENCES = 2
MIN_SENTENCE_WORDS = 3

_WORDS = re.compile(r"\w+")
_LINE = re.compile(r"[^\n]*\S")
_LEADING_MARKUP = re.compile(r"^(?:#{1,6}\s+|[-*•]\s+|\d{1,2}[.)]\s+)")


@dataclass
class Candidate:
    """One source sentence and how it relates to the question."""

    hit: Hit
    start: int  # offsets in the document text
    end: int
    text: str
    coverage: float
    matched: frozenset[int]  # indices of the question's content terms found in the sentence
    entity_in_sentence: bool
    entity_in_document: bool
    score: float = 0.0
    withholding: bool = False  # says the information asked about is not made public
    object_coverage: float = 0.0  # coverage without the words of the withholding phrase
    names: frozenset[str] = field(default_factory=frozenset)  # names in the sentence not in the question
    number: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return self.hit.doc_id, self.start


@lru_cache(maxsize=256)
def _statements(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence spans of a text, one per line at most, without list markers; headings and questions are left
    out (a question states nothing, a heading is not a statement)."""
    spans: list[tuple[int, int]] = []
    headings = [(s, e) for s, e, kind in sentence_spans(text) if kind == "heading"]
    for s0, e0 in split_sentences(text):
        for m in _LINE.finditer(text, s0, e0):
            s, e = m.span()
            if text.startswith("#", s) or text[e - 1] == "?" or text[e - 2 : e] in ("?”", '?"'):
                continue
            if any(hs <= s < he or hs < e <= he for hs, he in headings):
                continue  # a heading (a title line without a full stop) is not a statement
            markup = _LEADING_MARKUP.match(text, s, e)
            if markup and markup.end() < e:
                s = markup.end()
            spans.append((s, e))
    return tuple(spans)


class RuleComposer:
    """Selects the sentences that answer the question and frames them; mode "extractive"."""

    mode: Mode = "extractive"

    def __init__(self, texts: DocumentTexts) -> None:
        self.texts = texts

    def compose(self, request: ComposeRequest) -> Answer:
        question, standalone, hits = request.question, request.standalone, request.hits
        framing = framing_of(request.language)
        query = analyse(standalone or question)
        candidates = self._candidates(query, hits, self.texts, request) if not query.empty else []
        answer = Answer(question, standalone, "not_found", t("answer.not_found", framing), framing)
        if query.asks_withheld:  # "what is kept secret?": a withholding statement is the answer
            for c in candidates:
                c.withholding = False
        answers = sorted((c for c in candidates if self._answers(c, query)), key=lambda c: -c.score)
        withholding = [c for c in candidates if c.withholding and self._withholds(c, query)]
        withholding.sort(key=lambda c: (-c.object_coverage, -c.score))
        best_answer = answers[0] if answers and answers[0].coverage >= MIN_BEST_COVERAGE else None
        if (
            withholding
            and withholding[0].object_coverage >= MIN_WITHHELD_COVERAGE
            and (best_answer is None or withholding[0].object_coverage >= best_answer.coverage)
        ):
            quoted = withholding[:MAX_WITHHELD_SENTENCES]
            blocks = [(t("answer.withheld_intro", framing), quoted)]
            if best_answer is not None:
                blocks.append((t("answer.known_remark", framing), [best_answer]))
            answer.status = "withheld"
        elif best_answer is not None:
            chosen = self._select(answers, query)
            blocks = [(None, sorted(chosen, key=lambda c: c.key))]
            remark = self._remark(candidates, chosen)
            if remark is not None:
                blocks.append((t("answer.withheld_remark", framing), [remark]))
                answer.notes.append("withheld_remark")
            answer.status = "answered"
        else:
            return answer
        answer.answer, answer.citations = render(blocks, framing)
        return answer

    # --- scoring --------------------------------------------------------------------------------------------
    def _documents(self, hits: list[Hit], texts: DocumentTexts) -> list[tuple[Hit, list[Hit], str, int]]:
        """(best hit, hits, text, base offset) of the best MAX_DOCS documents among the top MAX_HITS hits.

        A document's whole stored text is read (small-to-big: the answering sentence is often beside the
        retrieved passage); a long or unreadable one falls back to the retrieved passages."""
        by_doc: dict[str, list[Hit]] = {}
        for hit in hits[:MAX_HITS]:
            by_doc.setdefault(hit.doc_id, []).append(hit)
        out: list[tuple[Hit, list[Hit], str, int]] = []
        for doc_hits in list(by_doc.values())[:MAX_DOCS]:
            try:
                text = texts.text(doc_hits[0].doc_id)
            except Exception:
                text = None
            if text is not None and len(text) <= MAX_DOC_CHARS:
                out.append((doc_hits[0], doc_hits, text, 0))
            else:
                out.extend((doc_hits[0], doc_hits, h.text, h.start) for h in doc_hits)
        return out

    def _candidates(
        self, query: QueryTerms, hits: list[Hit], texts: DocumentTexts, request: ComposeRequest
    ) -> list[Candidate]:
        seen: set[tuple[str, int]] = set()
        out: list[Candidate] = []
        n_terms = len(query.terms) + len(query.entities)
        question_words = {w for ent in query.entities for w in ent.surface.lower().split()}
        ranks = {h.chunk_id: (h.rank if h.rank and h.rank > 0 else i) for i, h in enumerate(hits, 1)}
        for best, doc_hits, text, base in self._documents(hits, texts):
            request.read(best.doc_id, base, base + len(text))
            spans = _statements(text)
            prepared = [sentence_terms(text[s:e], best.language) for s, e in spans]
            mentions = [[entity_matches(ent, p) for ent in query.entities] for p in prepared]
            in_document = any(any(m) for m in mentions)
            for i, (s, e) in enumerate(spans):
                sentence = text[s:e]
                start = base + s
                if (best.doc_id, start) in seen or len(sentence.split()) < MIN_SENTENCE_WORDS:
                    continue
                seen.add((best.doc_id, start))
                window = mentions[max(0, i - CONTEXT_SENTENCES) : i + CONTEXT_SENTENCES + 1]
                near = [any(col) for col in zip(*window, strict=True)] if query.entities else []
                here = mentions[i]
                entity_weight = sum(
                    1.0 if h else CONTEXT_ENTITY_WEIGHT if n else 0.0 for h, n in zip(here, near, strict=True)
                )
                matched = frozenset(
                    j for j, term in enumerate(query.terms) if term_matches(term, prepared[i])
                )
                container = next((h for h in doc_hits if h.start <= start and base + e <= h.end), None)
                rank = ranks[(container or best).chunk_id]
                cand = Candidate(
                    hit=container or best,
                    start=start,
                    end=base + e,
                    text=sentence,
                    coverage=(len(matched) + entity_weight) / n_terms,
                    matched=matched,
                    entity_in_sentence=any(here),
                    entity_in_document=in_document,
                    number=has_number(sentence),
                )
                cues = withheld_spans(sentence)
                if cues:
                    stripped = sentence_terms(blank_cue_words(sentence, cues), best.language)
                    obj = frozenset(j for j, term in enumerate(query.terms) if term_matches(term, stripped))
                    cand.withholding = bool(obj)
                    cand.object_coverage = (len(obj) + entity_weight) / n_terms
                if query.naming:
                    cand.names = frozenset(
                        n for n in find_entities(sentence, quoted=False) if n.lower() not in question_words
                    ) - {ent.surface for ent in query.entities}
                cand.score = (
                    cand.coverage
                    + RANK_WEIGHT / rank * (1.0 if container else OUTSIDE_PASSAGE_FACTOR)
                    + (NAMING_BONUS if cand.names else 0.0)
                    - LENGTH_PENALTY * len(sentence.split())
                )
                out.append(cand)
        return out

    @staticmethod
    def _grounded(c: Candidate, query: QueryTerms) -> bool:
        """The sentence itself matches something, and for a question with names its document mentions one."""
        if not (c.matched or c.entity_in_sentence):
            return False
        return not query.entities or c.entity_in_document

    def _answers(self, c: Candidate, query: QueryTerms) -> bool:
        if c.withholding or c.coverage < MIN_COVERAGE or not self._grounded(c, query):
            return False
        return c.number or not query.quantity

    def _withholds(self, c: Candidate, query: QueryTerms) -> bool:
        return c.object_coverage >= MIN_MORE_WITHHELD_COVERAGE and self._grounded(c, query)

    @staticmethod
    def _select(answers: list[Candidate], query: QueryTerms) -> list[Candidate]:
        """The best sentence, then sentences that add a term or (for which/who questions) a new name; from
        another source only when they would be good enough on their own."""
        first = answers[0]
        chosen = [first]
        covered = set(first.matched)
        names = set(first.names)
        rest = sorted(
            answers[1:], key=lambda c: -(c.score + SAME_SOURCE_BONUS * (c.hit.doc_id == first.hit.doc_id))
        )
        for c in rest:
            if len(chosen) >= MAX_ANSWER_SENTENCES:
                break
            if c.hit.doc_id != first.hit.doc_id and c.coverage < MIN_BEST_COVERAGE:
                continue  # another source must be as strong as a best answer on its own
            adds_term = bool(c.matched - covered)
            adds_name = query.naming and bool(c.names - names)
            if adds_term or adds_name:
                chosen.append(c)
                covered |= c.matched
                names |= c.names
        return chosen

    @staticmethod
    def _remark(candidates: list[Candidate], chosen: list[Candidate]) -> Candidate | None:
        """The most relevant withholding statement (cue words included), if relevant enough."""
        picked = {c.key for c in chosen}
        pool = [c for c in candidates if c.withholding and c.key not in picked]
        pool = [c for c in pool if c.coverage >= MIN_REMARK_COVERAGE]
        return max(pool, key=lambda c: c.score) if pool else None

    def finalise(self, answer: Answer, valid: list[Citation], rejected: list[Citation]) -> Answer:
        """The answer with only valid citations: lines citing a rejected one removed, the rest renumbered 1..n."""
        return finalise(answer, valid, rejected)
