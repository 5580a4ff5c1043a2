"""The offline composer: answers with quoted source sentences inside fixed frames, never with invented text.

How it answers (docs/decisions/0015-offline-answerer.md):
1. It reads the documents of the best retrieved passages (whole documents up to MAX_DOC_CHARS, else the
   retrieved passages with a sentence of context on each side) and takes their statements as candidates
   (questions and headings are never quoted).
2. Each candidate gets features (`features.py`): its meaning's closeness to the question (the sentence vectors
   stored at ingestion against the question's vector), the question's words it holds weighted by how rare they are,
   the question's names, whether it is the kind of sentence asked for (a date for "when", a number for "how
   many", a reason for "why", a person for "who", ...), and where it stands. A logistic model fitted on the tune
   half of the development set turns them into the probability that the sentence answers the question.
3. The best sentence must reach the model's answer threshold (chosen on the tune half), else `not_found`. When
   it says that the information is withheld, the answer is `withheld` (what is known is quoted beside it);
   otherwise `answered`, with further sentences of the same source that together answer the question (and the
   sentence before one that leans on it), and a "not everything is public" remark when a withholding statement of
   that source is relevant too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from assistant.answer.base import Answer, Citation, ComposeRequest, DocumentTexts, Mode
from assistant.answer.extractive.features import (
    QuestionProfile,
    kind_is_known,
    kind_match,
    lexical_share,
    new_names,
    question_kind,
    words,
)
from assistant.answer.extractive.model import AnswerModel, AnswerModels, load_models
from assistant.answer.extractive.render import finalise, render
from assistant.answer.extractive.rules import RuleComposer
from assistant.answer.extractive.terms import (
    SentenceTerms,
    analyse,
    blank_cue_words,
    entity_matches,
    sentence_terms,
    term_matches,
    withheld_spans,
)
from assistant.i18n import framing as framing_of
from assistant.i18n import t
from ingestion.sentences import sentence_spans
from vectorstore.records import Hit, SentenceSpan

MAX_HITS = 5  # sentences are taken from the documents of this many top hits ...
MAX_DOCS = 3  # ... at most this many documents, each read whole when not longer than MAX_DOC_CHARS
MAX_DOC_CHARS = 30_000
MAX_ANSWER_SENTENCES = 3  # plus at most one withheld remark: 1-4 quotes
MAX_WITHHELD_SENTENCES = 2

_WORDS = re.compile(r"\w+")
# A sentence that starts like this leans on the one before it ("Voor kinderen is het 5 jaar."): quote both.
_LEANS_BACK = re.compile(
    r"^(?:ook|maar|dat|dit|die|deze|daar\w*|hier\w*|ze|zij|hij|het|dan|wel|toch|also|but|this|that|these|those|"
    r"it|they|he|she|there|then|however|for\s+(?:children|kids|people\s+under))\b",
    re.IGNORECASE,
)


class SentenceIndex(Protocol):
    """Where the sentence vectors stored at ingestion are read."""

    def sentences(self, doc_id: str) -> list[SentenceSpan]: ...

    def sentence_vectors(self, sentence_ids: Sequence[str]) -> dict[str, list[float]]: ...


class TermStatistics(Protocol):
    """How rare a word is in the store (inverse document frequency of analysed tokens)."""

    def idf(self, tokens: Sequence[str]) -> dict[str, float]: ...


@dataclass
class Candidate:
    """One source sentence and what is known about it."""

    hit: Hit  # the retrieved passage holding it (or the document's best one)
    start: int  # offsets in the document text
    end: int
    text: str
    index: int  # position among the document's statements
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0
    withholding: bool = False  # says the information asked about is not made public
    about_object: bool = (
        False  # for a withholding statement: what remains without the cue words matches the question
    )

    @property
    def key(self) -> tuple[str, int]:
        return self.hit.doc_id, self.start


@dataclass
class Scored:
    """The candidates of one question, the model that scored them and the question's profile."""

    candidates: list[Candidate]
    model: AnswerModel
    profile: QuestionProfile


@dataclass
class _Document:
    best: Hit
    hits: list[Hit]
    text: str
    rank: int
    windows: list[tuple[int, int]]  # the parts read: the whole text, or passages with context


class ExtractiveComposer:
    """Selects the sentences that answer the question and frames them; mode "extractive"."""

    mode: Mode = "extractive"

    def __init__(
        self,
        texts: DocumentTexts,
        sentences: SentenceIndex | None = None,
        terms: TermStatistics | None = None,
        models: AnswerModels | None = None,
    ) -> None:
        self.texts = texts
        self.sentences = sentences
        self.terms = terms
        self.models = models or load_models()
        self.rules = RuleComposer(texts)

    # --- compose --------------------------------------------------------------------------------------------
    def compose(self, request: ComposeRequest) -> Answer:
        """The rule's answer when it finds one (the question's words stand in the answering sentence), else the
        learned reading's."""
        first = self.rules.compose(request)
        if first.status in ("answered", "withheld"):
            request.stats["answered_by"] = "rule"
            return self._complete(request, first)
        request.stats["answered_by"] = "model"
        return self.learned(request)

    def _complete(self, request: ComposeRequest, answer: Answer) -> Answer:
        """The rule's plain answer (no withheld part) with the further sentences of its source that the model
        finds answer the question too ("10 jaar vanaf 18" beside "5 jaar onder 18"): an answer must not mislead by
        omission. Unchanged when the model adds nothing."""
        if answer.status != "answered" or answer.notes or len(answer.citations) >= MAX_ANSWER_SENTENCES:
            return answer
        scored = self.candidates(request)
        by_span = {(c.hit.doc_id, c.start, c.end): c for c in scored.candidates}
        quoted = [by_span.get((c.doc_id, c.start, c.end)) for c in answer.citations]
        if not quoted or any(c is None for c in quoted):
            return answer
        chosen = [c for c in quoted if c is not None]
        doc_id = chosen[0].hit.doc_id
        model = scored.model
        for c in sorted(scored.candidates, key=lambda c: -c.probability):
            if len(chosen) >= MAX_ANSWER_SENTENCES or c.probability < model.answer_threshold:
                break
            if c.hit.doc_id == doc_id and not c.withholding and c not in chosen:
                chosen.append(c)
        if len(chosen) == len(quoted):
            return answer
        text, citations = render([(None, sorted(chosen, key=lambda c: c.key))], answer.language)
        return replace(answer, answer=text, citations=citations)

    def learned(self, request: ComposeRequest) -> Answer:
        """The answer chosen by the scoring model alone."""
        question, standalone = request.question, request.standalone
        framing = framing_of(request.language)
        answer = Answer(question, standalone, "not_found", t("answer.not_found", framing), framing)
        scored = self.candidates(request)
        candidates, model = scored.candidates, scored.model
        if not candidates:
            return answer
        asks_withheld = scored.profile.terms.asks_withheld
        ranked = sorted(candidates, key=lambda c: -c.probability)
        best = ranked[0]
        request.stats["answer_score"] = round(best.probability, 3)
        if best.probability < model.answer_threshold:
            return answer
        if best.withholding and not asks_withheld:
            quoted = [best, *[c for c in ranked[1:] if c.withholding and _extra(model, c, best)]]
            blocks = [(t("answer.withheld_intro", framing), quoted[:MAX_WITHHELD_SENTENCES])]
            known = next((c for c in ranked if not c.withholding and _extra(model, c, best)), None)
            if known is not None:
                blocks.append((t("answer.known_remark", framing), [known]))
            answer.status = "withheld"
        else:
            chosen = _select(model, best, ranked, candidates, asks_withheld)
            blocks = [(None, sorted(chosen, key=lambda c: c.key))]
            remark = _remark(model, best, ranked, chosen, asks_withheld)
            if remark is not None:
                blocks.append((t("answer.withheld_remark", framing), [remark]))
                answer.notes.append("withheld_remark")
            answer.status = "answered"
        answer.answer, answer.citations = render(blocks, framing)
        return answer

    # --- candidates and their scores ------------------------------------------------------------------------
    def candidates(self, request: ComposeRequest) -> Scored:
        """Every statement of the documents read, with its features and probability, the model that scored them
        (with or without sentence vectors) and the question's profile."""
        question = request.standalone or request.question
        terms = analyse(question)
        profile = QuestionProfile(terms, question_kind(question), self._term_weights(terms))
        documents = self._documents(request.hits)
        out: list[Candidate] = []
        for doc in documents:
            for start, end in doc.windows:
                request.read(doc.best.doc_id, start, end)
            out.extend(self._statements(doc, profile))
        if not out:
            return Scored([], self.models.with_vectors, profile)
        vectors = self._dense(out, request.query_vector)
        model = self.models.pick(vectors)
        best_dense = max(c.features["dense"] for c in out)
        for c in out:
            c.features["dense_gap"] = c.features["dense"] - best_dense
            c.probability = model.probability(c.features)
        return Scored(out, model, profile)

    def _term_weights(self, terms) -> list[float]:
        """The IDF of each content term (its rarest form), or 1.0 each without statistics."""
        if self.terms is None or not terms.terms:
            return [1.0] * len(terms.terms)
        forms = {form for term in terms.terms for form in term.forms}
        idf = self.terms.idf(sorted(forms))
        ceiling = max(idf.values(), default=1.0)
        weights = []
        for term in terms.terms:
            known = [idf[f] for f in term.forms if f in idf]
            # a word the store never saw is as rare as the rarest known one (it cannot be matched anyway)
            weights.append(max(known) if known else ceiling)
        return weights

    def _documents(self, hits: list[Hit]) -> list[_Document]:
        """The best MAX_DOCS documents among the top MAX_HITS hits, with the parts of them that are read."""
        by_doc: dict[str, list[Hit]] = {}
        for hit in hits[:MAX_HITS]:
            by_doc.setdefault(hit.doc_id, []).append(hit)
        out: list[_Document] = []
        for rank, doc_hits in enumerate(list(by_doc.values())[:MAX_DOCS], 1):
            try:
                text = self.texts.text(doc_hits[0].doc_id)
            except Exception:
                text = None
            if not text:
                continue
            if len(text) <= MAX_DOC_CHARS:
                windows = [(0, len(text))]
            else:  # a long document: its retrieved passages, a sentence of context on each side
                windows = [(max(0, h.start - 300), min(len(text), h.end + 300)) for h in doc_hits]
            out.append(_Document(doc_hits[0], doc_hits, text, rank, windows))
        return out

    def _statements(self, doc: _Document, profile: QuestionProfile) -> list[Candidate]:
        text = doc.text
        spans = [(s, e) for s, e, kind in sentence_spans(text) if kind == "statement"]
        wanted = [any(ws <= s and e <= we for ws, we in doc.windows) for s, e in spans]
        near = [
            w or (i > 0 and wanted[i - 1]) or (i + 1 < len(wanted) and wanted[i + 1])
            for i, w in enumerate(wanted)
        ]
        terms, entities = profile.terms.terms, profile.terms.entities
        language = doc.best.language
        prepared = {i: sentence_terms(text[s:e], language) for i, (s, e) in enumerate(spans) if near[i]}
        named = {i: [entity_matches(x, p) for x in entities] for i, p in prepared.items()}
        in_document = not entities or any(any(hits) for hits in named.values())
        share = {i: lexical_share(profile, p, named[i]) for i, p in prepared.items()}
        focus, coverage = _focus(profile, prepared, named)
        chunk_dense = max((h.dense_score or 0.0) for h in doc.hits)
        out: list[Candidate] = []
        for i, (s, e) in enumerate(spans):
            if not wanted[i]:
                continue
            sentence = text[s:e]
            container = next((h for h in doc.hits if h.start <= s and e <= h.end), None)
            cand = Candidate(hit=container or doc.best, start=s, end=e, text=sentence, index=i)
            own_share, own_named = share[i], named[i]
            cues = withheld_spans(sentence)
            if cues:  # what a withholding statement is about: its words without the cue phrase
                remaining = sentence_terms(blank_cue_words(sentence, cues), language)
                own_named = [entity_matches(x, remaining) for x in entities]
                own_share = lexical_share(profile, remaining, own_named)
                cand.withholding = True
                cand.about_object = any(own_named) or any(term_matches(term, remaining) for term in terms)
            window = [own_share, *(share[j] for j in (i - 1, i + 1) if j in share)]
            cand.features = {
                "lexical": own_share,
                "lexical_window": max(window),
                "focus": focus.get(i, 0.0),
                "doc_coverage": coverage,
                "names": sum(own_named) / len(entities) if entities else 0.0,
                "names_missing": 0.0 if in_document else 1.0,
                "kind_match": 1.0
                if kind_is_known(profile.kind) and kind_match(profile.kind, sentence)
                else 0.0,
                "kind_known": 1.0 if kind_is_known(profile.kind) else 0.0,
                "new_name": 1.0
                if profile.kind in ("who", "which") and new_names(profile.terms.text, sentence)
                else 0.0,
                "in_passage": 1.0 if container is not None else 0.0,
                "doc_rank": 1.0 / doc.rank,
                "chunk_dense": chunk_dense,
                "withholding": 1.0 if cand.withholding else 0.0,
                "first_sentence": 1.0 if i == 0 else 0.0,
                "short": 1.0 if words(sentence) < 6 else 0.0,
                "long": 1.0 if words(sentence) > 45 else 0.0,
            }
            out.append(cand)
        return out

    def _dense(self, candidates: list[Candidate], query_vector: list[float] | None) -> bool:
        """Each candidate's cosine similarity to the question, from the stored sentence vectors (0 without);
        whether there were vectors to compare."""
        for c in candidates:
            c.features["dense"] = 0.0
            c.features["dense_doc"] = 0.0
        if query_vector is None or self.sentences is None:
            return False
        ids: dict[tuple[str, int, int], str] = {}
        for doc_id in {c.hit.doc_id for c in candidates}:
            for span in self.sentences.sentences(doc_id):
                ids[(doc_id, span.start, span.end)] = span.sentence_id
        wanted = {c.key: ids.get((c.hit.doc_id, c.start, c.end)) for c in candidates}
        vectors = self.sentences.sentence_vectors([i for i in wanted.values() if i])
        if not vectors:
            return False
        q = np.asarray(query_vector, dtype=np.float32)
        for c in candidates:
            vector = vectors.get(wanted[c.key] or "")
            if vector is not None:
                c.features["dense"] = float(np.dot(q, np.asarray(vector, dtype=np.float32)))
        by_doc: dict[str, list[float]] = {}
        for c in candidates:
            by_doc.setdefault(c.hit.doc_id, []).append(c.features["dense"])
        for c in candidates:  # closeness beyond the document's topic, which all its sentences share
            c.features["dense_doc"] = c.features["dense"] - float(np.mean(by_doc[c.hit.doc_id]))
        return True

    # --- after verification ---------------------------------------------------------------------------------
    def finalise(self, answer: Answer, valid: list[Citation], rejected: list[Citation]) -> Answer:
        """The answer with only valid citations: lines citing a rejected one removed, the rest renumbered 1..n."""
        return finalise(answer, valid, rejected)


def _focus(
    profile: QuestionProfile, prepared: dict[int, SentenceTerms], named: dict[int, list[bool]]
) -> tuple[dict[int, float], float]:
    """Per sentence, the share of the question's words it holds, each weighted by how rare it is among the
    document's sentences: the words that set the question apart from the document's topic ("bellen" in a
    page about the ombudsman) weigh most, words every sentence has weigh nothing. Also the share of the
    question's weight (by rarity in the store) that the part of the document read holds anywhere."""
    if not prepared:
        return {}, 0.0
    n = len(prepared)
    columns: list[dict[int, bool]] = [
        {i: term_matches(term, p) for i, p in prepared.items()} for term in profile.terms.terms
    ]
    columns += [{i: named[i][k] for i in prepared} for k in range(len(profile.terms.entities))]
    weights = []
    for column in columns:
        df = sum(column.values())
        weights.append(math.log((n + 1) / (df + 0.5)) if df else 0.0)
    rarest = max(profile.weights, default=3.0)
    store_weights = [*profile.weights, *([rarest] * len(profile.terms.entities))]
    found = sum(w for w, column in zip(store_weights, columns, strict=True) if any(column.values()))
    coverage = found / profile.total if profile.total > 0 else 0.0
    total = sum(weights)
    if total <= 0:
        return {i: 0.0 for i in prepared}, coverage
    share = {
        i: sum(w for w, column in zip(weights, columns, strict=True) if column[i]) / total for i in prepared
    }
    return share, coverage


# --- selection -------------------------------------------------------------------------------------------------
def _extra(model: AnswerModel, c: Candidate, best: Candidate) -> bool:
    """Good enough to quote beside the best sentence."""
    return c.probability >= max(model.extra_floor, model.extra_ratio * best.probability)


def _select(
    model: AnswerModel,
    best: Candidate,
    ranked: list[Candidate],
    candidates: list[Candidate],
    asks_withheld: bool,
) -> list[Candidate]:
    """The best sentence, further good sentences of the same source, and the sentence before one that leans on it
    (together they answer the question)."""
    chosen = [best]
    for c in ranked[1:]:
        if len(chosen) >= MAX_ANSWER_SENTENCES:
            break
        if (
            c.hit.doc_id == best.hit.doc_id
            and (asks_withheld or not c.withholding)
            and _extra(model, c, best)
        ):
            chosen.append(c)
    by_position = {(c.hit.doc_id, c.index): c for c in candidates}
    for c in list(chosen):
        previous = by_position.get((c.hit.doc_id, c.index - 1))
        if previous is None or previous in chosen or len(chosen) >= MAX_ANSWER_SENTENCES + 1:
            continue
        if _LEANS_BACK.match(c.text) or previous.text.rstrip().endswith(":"):
            chosen.append(previous)
    return chosen


def _remark(
    model: AnswerModel, best: Candidate, ranked: list[Candidate], chosen: list[Candidate], asks_withheld: bool
) -> Candidate | None:
    """A relevant withholding statement of the same source: "not everything is public"."""
    if asks_withheld:
        return None
    for c in ranked:
        if (
            c.withholding
            and c.about_object
            and c not in chosen
            and c.hit.doc_id == best.hit.doc_id
            and c.probability >= model.remark_threshold
        ):
            return c
    return None
