"""LLM mode: fluent answers written by a chat model from numbered passages, then checked like every answer.

`LLMComposer.compose` fits the retrieved passages into the token budget, sends them as delimited DATA blocks with
the prompts of `prompts/`, asks for JSON (`answer`, `status`, `citations: [{passage, quote}]`) and streams the
characters of `answer` to the request's sink unit by unit (text up to a citation marker), each shown only when it
could stay: a valid marker, no forbidden phrase or leak, every sentence supported by its passage (the quick claim
check). The returned answer holds
only citations of passages that were given, whose quote is in that passage; sentences with hidden-instruction
phrases or prompt leaks are already removed. The pipeline's verify step then checks every quote against the stored
text and `finalise` keeps only sentences that carry a valid `[n]` marker. Any `LLMError` (a ComposeError)
propagates: the pipeline falls back to the offline composer.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import replace
from typing import Any

from assistant.answer.base import Answer, Citation, ComposeRequest, DocumentTexts, Mode
from assistant.answer.llm.client import LLMClient, LLMError, encoding_for
from assistant.answer.llm.config import LLMConfig
from assistant.answer.llm.jsonstream import AnswerFieldStream
from assistant.answer.llm.prompts import PromptSet
from assistant.answer.quotes import locate_quote
from assistant.i18n import framing as framing_of
from assistant.i18n import t
from assistant.safety.claims import ClaimChecker, Evidence, split_sentences
from assistant.safety.output import (
    MarkedUnits,
    PromptLeakGuard,
    drop_forbidden_sentences,
    has_markup,
    redact_passage,
    sanitize,
    unsafe_sentence,
)
from ingestion.tokens import count_tokens
from vectorstore.records import Hit

log = logging.getLogger("openbaar.llm")

MODEL_STATUSES = ("answered", "withheld", "not_found", "conflicting")
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "status": {"type": "string", "enum": list(MODEL_STATUSES)},
        "citations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"passage": {"type": "integer"}, "quote": {"type": "string"}},
                "required": ["passage", "quote"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["answer", "status", "citations"],
    "additionalProperties": False,
}
WHOLE_DOCUMENT_TOKENS = 900  # a document this short is given whole instead of by chunk
WHOLE_DOCUMENT_CHARS = 8_000
MESSAGE_OVERHEAD_TOKENS = 8  # per chat message (role, separators)
SAFETY_MARGIN_TOKENS = 64  # tokenizers of other servers count differently
PASSAGE_HEADER_TOKENS = 40  # the delimiter and metadata lines of one passage (estimate before counting)
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")
_MARKER_GROUP = re.compile(r"(?:\s*\[\d+\])+[.!?;:,]?[\"'”’)]*")
_MARKER = re.compile(r"\[(\d+)\]")
_ONLY_MARKS = re.compile(r"^[\s\[\]\d.,;:!?\"'”’()-]*$")


def response_format(kind: str) -> dict[str, Any]:
    """The `response_format` of the settings' choice."""
    if kind == "json_object":
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {"name": "openbaar_answer", "schema": ANSWER_SCHEMA, "strict": True},
    }


def parse_reply(content: str) -> dict[str, Any]:
    """The model's JSON reply, checked; LLMError("malformed") when it is not the agreed shape."""
    try:
        data = json.loads(_FENCE.sub("", content))
    except (ValueError, TypeError):
        raise LLMError("malformed") from None
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        raise LLMError("malformed")
    status = data.get("status")
    citations = data.get("citations") or []
    if status not in MODEL_STATUSES or not isinstance(citations, list):
        raise LLMError("malformed")
    clean: list[tuple[int, str]] = []
    for item in citations:
        if not isinstance(item, dict):
            raise LLMError("malformed")
        number, quote = item.get("passage"), item.get("quote")
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(quote, str):
            raise LLMError("malformed")
        clean.append((number, quote))
    return {"answer": data["answer"], "status": status, "citations": clean}


def keep_supported(answer: Answer, valid: list[Citation]) -> Answer:
    """Keep the parts of a model-written answer that end in a marker of a valid citation; invalid markers are
    removed from kept parts, parts whose markers are all invalid and text without any marker are dropped, and
    citations the kept text does not mention are left out. Text is sanitized (allowed links: citation URLs)."""
    numbers = {c.n for c in valid}
    lines: list[str] = []
    dropped = 0
    for line in answer.answer.split("\n"):
        kept: list[str] = []
        pos = 0
        for m in _MARKER_GROUP.finditer(line):
            unit, pos = line[pos : m.end()], m.end()
            marks = {int(n) for n in _MARKER.findall(m.group(0))}
            if marks & numbers:
                kept.append(_MARKER.sub(lambda x: x.group(0) if int(x.group(1)) in numbers else "", unit))
            else:
                dropped += 1
        if line[pos:].strip() and not _ONLY_MARKS.match(line[pos:]):
            dropped += 1  # text after the last marker has no support
        text = re.sub(r"[ \t]{2,}", " ", "".join(kept)).strip()
        if text and not _ONLY_MARKS.match(text):
            lines.append(text)
    text = sanitize("\n".join(lines), [c.url for c in valid if c.url])
    used = {int(n) for n in _MARKER.findall(text)}
    citations = [c for c in valid if c.n in used]
    notes = [*answer.notes, f"unsupported_dropped:{dropped}"] if dropped else list(answer.notes)
    return replace(answer, answer=text.strip(), citations=citations, notes=notes)


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
MIN_PARAGRAPH_CHARS = 200  # a shorter paragraph (a heading, a one-liner) is joined to the next


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of the text's paragraphs, short ones joined to the next; together they cover the text."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(text)))
    out: list[tuple[int, int]] = []
    pending: int | None = None
    for s, e in bounds:
        if e <= s:
            continue
        begin = s if pending is None else pending
        if e - begin < MIN_PARAGRAPH_CHARS:
            pending = begin
            continue
        out.append((begin, e))
        pending = None
    if pending is not None:  # a short last paragraph joins the one before
        last_end = max(e for s, e in bounds if e > s)
        out[-1:] = [(out[-1][0] if out else pending, last_end)]
    return out


def _meta(hit: Hit) -> str:
    """Title and speaker of a passage: names in a sentence may come from them."""
    return " ".join(v for v in (hit.title, hit.speaker, hit.party) if v)


class LLMComposer:
    """Writes the answer with a chat model; mode "llm" (see the module docstring)."""

    mode: Mode = "llm"

    def __init__(
        self,
        client: LLMClient,
        prompts: PromptSet,
        config: LLMConfig,
        claims: ClaimChecker | None = None,
        texts: DocumentTexts | None = None,
    ) -> None:
        self.client = client
        self.texts = texts
        self.prompts = prompts
        self.claims = claims
        self.max_tokens = config.max_tokens
        self.temperature = config.temperature
        self.context_tokens = config.context_tokens
        self.format = response_format(config.response_format)
        self.encoding = encoding_for(client.model)
        self.leak_guard = PromptLeakGuard([prompts.system, prompts.answer, prompts.condense])
        self._fixed_tokens = count_tokens(prompts.system, self.encoding) + count_tokens(
            prompts.answer, self.encoding
        )

    # --- prompt ------------------------------------------------------------------------------------------
    def _block(self, n: int, hit: Hit, text: str, delimiter: str) -> str:
        meta = [
            f"title: {hit.title or hit.doc_id}",
            f"date: {hit.date or 'unknown'}",
            f"speaker: {hit.speaker or 'unknown'}" + (f" ({hit.party})" if hit.party else ""),
            f"language: {hit.language or 'unknown'}",
        ]
        return "\n".join([f"{delimiter} PASSAGE {n}", *meta, "text:", text, f"{delimiter} END PASSAGE {n}"])

    def passages(self, hits: list[Hit]) -> list[Hit]:
        """The passages to give, in rank order: a short document whole (small-to-big: the answering sentence is
        often beside the retrieved chunk), once, in place of its first retrieved chunk, as its paragraphs in
        order (one passage each, so that the model can cite several of them); longer ones by chunk."""
        out: list[Hit] = []
        whole: set[str] = set()
        for hit in hits:
            if hit.doc_id in whole:
                continue
            text = self._whole_text(hit)
            if text is None:
                out.append(hit)
                continue
            whole.add(hit.doc_id)
            out = [h for h in out if h.doc_id != hit.doc_id]
            out.extend(replace(hit, text=text[s:e], start=s, end=e) for s, e in paragraphs(text))
        return out

    def _whole_text(self, hit: Hit) -> str | None:
        if self.texts is None:
            return None
        try:
            text = self.texts.text(hit.doc_id)
        except Exception:
            return None
        if not text or hit.text != text[hit.start : hit.end]:
            return None
        if len(text) > WHOLE_DOCUMENT_CHARS or count_tokens(text, self.encoding) > WHOLE_DOCUMENT_TOKENS:
            return None
        return text

    def build_messages(
        self, question: str, language: str, hits: list[Hit]
    ) -> tuple[list[dict[str, str]], list[Hit], set[str], dict[str, int]]:
        """(messages, passages given, forbidden phrases, token counts): passages in rank order while they fit."""
        hits = self.passages(hits)
        delimiter = f"#####{secrets.token_hex(4)}#####"
        budget = (
            self.context_tokens
            - self.max_tokens
            - self._fixed_tokens
            - count_tokens(question, self.encoding)
            - 2 * MESSAGE_OVERHEAD_TOKENS
            - SAFETY_MARGIN_TOKENS
        )
        blocks: list[str] = []
        given: list[Hit] = []
        forbidden: set[str] = set()
        used = 0
        for hit in hits:
            text, payloads = redact_passage(hit.text)
            block = self._block(len(given) + 1, hit, text, delimiter)
            cost = count_tokens(block, self.encoding) + 2
            if used + cost > budget:
                if given:
                    break
                continue  # a single passage larger than the budget is skipped
            blocks.append(block)
            given.append(hit)
            forbidden |= payloads
            used += cost
        user = self.prompts.render(
            "answer",
            passages="\n\n".join(blocks) if blocks else "(none)",
            question=question,
            language=t(f"language.{language}", "en") if language in ("nl", "en") else language,
            delimiter=delimiter,
        )
        messages = [{"role": "system", "content": self.prompts.system}, {"role": "user", "content": user}]
        prompt_tokens = sum(
            count_tokens(m["content"], self.encoding) + MESSAGE_OVERHEAD_TOKENS for m in messages
        )
        counts = {
            "passages_retrieved": len(hits),
            "passages_given": len(given),
            "passage_tokens": used,
            "prompt_tokens": prompt_tokens,
            "max_answer_tokens": self.max_tokens,
            "context_tokens": self.context_tokens,
        }
        return messages, given, forbidden, counts

    # --- compose -----------------------------------------------------------------------------------------
    def compose(self, request: ComposeRequest) -> Answer:
        question, standalone, language = request.question, request.standalone, request.language
        framing = framing_of(language)
        messages, given, forbidden, counts = self.build_messages(
            standalone or question, language, request.hits
        )
        stats = request.stats
        stats.update(counts)
        base = Answer(
            question,
            standalone,
            "not_found",
            t("answer.not_found", framing),
            framing,
            mode="llm",
            prompt_version=self.prompts.version,
            model=self.client.model,
        )
        for hit in given:
            request.read(hit.doc_id, hit.start, hit.end)
        if not given:
            return base
        extractor = AnswerFieldStream()
        units = MarkedUnits()
        flushed = [False]
        evidence = {n: Evidence(hit.text, None, hit.language, _meta(hit)) for n, hit in enumerate(given, 1)}

        def show(unit: str) -> None:
            """Stream a unit only when it could stay: a valid marker, nothing unsafe, every sentence supported by
            its passage (the quick check; the rest waits for the verified answer)."""
            cited = [evidence[n] for n in map(int, _MARKER.findall(unit)) if n in evidence]
            if not cited or unsafe_sentence(unit, forbidden, self.leak_guard):
                return
            quick = self.claims.quick if self.claims is not None else (lambda *_: True)
            if not all(quick(s, cited, language) for s in split_sentences(unit)):
                return
            text = _MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in evidence else "", unit)
            request.emit(sanitize(text))

        def on_text(piece: str) -> None:
            if flushed[0]:
                return
            for unit in units.feed(extractor.feed(piece)) if piece else []:
                show(unit)
            if extractor.done:
                for unit in units.finish():
                    show(unit)
                flushed[0] = True

        content, finish = self.client.chat(
            messages,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            deadline=request.deadline,
            stats=stats,
            response_format=self.format,
            on_text=on_text,
        )
        if not flushed[0]:
            for unit in units.finish():
                show(unit)
        stats["answer_tokens"] = count_tokens(content, self.encoding)
        stats["finish_reason"] = finish
        reply = parse_reply(content)  # a reply cut at max_tokens is not valid JSON: LLMError("malformed")
        return self._answer(base, reply, given, forbidden)

    def finalise(self, answer: Answer, valid: list[Citation], rejected: list[Citation]) -> Answer:
        """Only the sentences that end in a valid citation's marker (see `keep_supported`)."""
        return keep_supported(answer, valid)

    def _answer(self, base: Answer, reply: dict[str, Any], given: list[Hit], forbidden: set[str]) -> Answer:
        citations: list[Citation] = []
        seen: set[int] = set()
        unknown = outside = 0
        for number, quote in reply["citations"]:
            if not 1 <= number <= len(given):
                unknown += 1
                continue
            hit = given[number - 1]
            if number in seen:
                continue  # one quote per passage: the first
            span = locate_quote(quote, hit.text)
            if span is None or has_markup(quote):
                outside += 1
                continue
            seen.add(number)
            quote = hit.text[span[0] : span[1]]
            citations.append(Citation.from_hit(number, hit, quote, hit.start + span[0], hit.start + span[1]))
        notes: list[str] = []
        if unknown:
            notes.append(f"citations_unknown_passage:{unknown}")
        if outside:
            notes.append(f"citations_quote_not_in_passage:{outside}")
        status = reply["status"]
        if status == "conflicting":
            notes.append("conflicting_sources")
            status = "answered"
        if status == "not_found":
            return replace(base, notes=notes)
        text, removed = drop_forbidden_sentences(reply["answer"], forbidden, self.leak_guard)
        if removed:
            notes.append(f"unsafe_sentences_removed:{removed}")
        return replace(base, status=status, answer=text, citations=citations, notes=notes)
