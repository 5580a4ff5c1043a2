"""One question in, one verified answer out: guard -> condense -> language -> retrieve -> compose -> verify.

Every part is injected (retriever, composer, document texts, condenser, fallback composer), so the CLI, the UI,
the HTTP API and the tests run the same steps. Citation verification always runs and fails closed: a citation
whose quote is not in the stored document text (or holds markup or a hidden instruction) is dropped together
with the lines (extractive) or the sentences (LLM) that cite it, and an answer left without any valid citation
becomes `not_found` - or, in LLM mode, the offline (fallback) composer's answer with a note.

Streaming: `run(..., on_token=f)` calls `f` from the calling thread with pieces of answer text as a streaming
composer (LLM) produces them; otherwise once with the final text. The returned answer is the verified one and may
differ from what was streamed. A failing model gives the fallback answer (note `llm_failed`); any other failure
gives a canned "technical problem" answer (status `error`), never exception text. Each run writes one JSON log
line (`openbaar.request`) with a request id and counts, never the question text.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from assistant.answer.base import Answer, Citation, Composer, DocumentTexts
from assistant.citations import verify_citations
from assistant.followup import condense
from assistant.guard import MAX_QUESTION_CHARS, check_question
from assistant.language import detect_question_language
from assistant.llm import REQUEST_STATS, LLMError
from assistant.messages import t
from assistant.safety import quote_is_safe
from vectorstore.results import Filters, Hit

Condenser = Callable[[str, list[str]], str]
TokenCallback = Callable[[str], None]
log = logging.getLogger("openbaar.request")
_MARKER = re.compile(r"\[(\d+)\]")


class Retriever(Protocol):
    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]: ...


def _framing(language: str) -> str:
    return "nl" if language == "nl" else "en"


def drop_rejected(answer: Answer, valid: list[Citation], rejected: list[Citation]) -> Answer:
    """The answer with only valid citations: lines citing a rejected one removed, the rest renumbered 1..n."""
    bad = {c.n for c in rejected}
    renumber = {c.n: i for i, c in enumerate(valid, 1)}
    lines = [line for line in answer.answer.split("\n") if not {int(n) for n in _MARKER.findall(line)} & bad]
    text = _MARKER.sub(lambda m: f"[{renumber.get(int(m.group(1)), m.group(1))}]", "\n".join(lines))
    citations = [replace(c, n=renumber[c.n]) for c in valid]
    notes = [*answer.notes, f"citations_rejected:{len(rejected)}"] if rejected else answer.notes
    return replace(answer, answer=text, citations=citations, notes=notes)


class Pipeline:
    """The ordered steps of answering; `run` never raises (it refuses, falls back or apologises instead).

    Safe to call from several threads at once: a run keeps its state in locals and a context variable.
    """

    def __init__(
        self,
        retriever: Retriever,
        composer: Composer,
        texts: DocumentTexts,
        condenser: Condenser | None = None,
        fallback: Composer | None = None,
    ) -> None:
        self.retriever = retriever
        self.composer = composer
        self.texts = texts
        self.condenser = condenser or condense
        self.fallback = fallback

    def run(
        self,
        question: str,
        history: list[str] | None = None,
        filters: Filters | None = None,
        k: int = 8,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        stats: dict[str, Any] = {"request_id": uuid.uuid4().hex[:12], "mode": self.composer.mode}
        context = REQUEST_STATS.set(stats)
        try:
            answer = self._run(question, history, filters, k, on_token, stats)
        finally:
            REQUEST_STATS.reset(context)
        self._log(answer, stats)
        return answer

    def _run(
        self,
        question: str,
        history: list[str] | None,
        filters: Filters | None,
        k: int,
        on_token: TokenCallback | None,
        stats: dict[str, Any],
    ) -> Answer:
        timings: dict[str, float] = {}
        started = clock = time.perf_counter()
        emit = _SafeCallback(on_token)

        def lap(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[step] = (now - clock) * 1000
            clock = now

        def finish(answer: Answer) -> Answer:
            timings["total"] = (time.perf_counter() - started) * 1000
            if str(stats.get("condense", "")).startswith("fallback"):
                answer.notes.append("condense_fallback")
            answer.timings_ms = timings
            if not emit.called:
                emit(answer.answer)
            return answer

        clean, refusal = check_question(question)
        lap("guard")
        stats["question_chars"] = len(clean)
        if refusal is not None:
            language = detect_question_language(clean) if clean else "nl"
            params = {"limit": MAX_QUESTION_CHARS} if refusal == "refusal.too_long" else {}
            answer = Answer(
                question=clean,
                standalone_question=clean,
                status="refused",
                answer=t(refusal, _framing(language), **params),
                language=_framing(language),
                mode=self.composer.mode,
                notes=[refusal],
            )
            return finish(answer)

        language = "nl"
        try:
            turns = [c for c in (check_question(h)[0] for h in (history or []) if isinstance(h, str)) if c]
            stats["history_turns"] = len(turns)
            standalone = self._condense(clean, turns) if turns else clean
            lap("condense")
            language = detect_question_language(clean)
            lap("language")
            hits = self.retriever.search(standalone, k=k, filters=filters)
            stats["hits"] = len(hits)
            lap("retrieve")
            answer = self._compose(clean, standalone, language, hits, emit, stats)
            lap("compose")
            answer = self.verify(answer)
            if answer.mode == "llm" and "no_valid_citation" in answer.notes and self.fallback is not None:
                answer = self._fall_back(clean, standalone, language, hits, "llm_unsupported", answer.notes)
            lap("verify")
        except Exception as exc:  # last line of defence: a canned answer, the type in the log only
            stats["error"] = type(exc).__name__
            log.debug("request %s failed", stats["request_id"], exc_info=True)
            framing = _framing(language)
            answer = Answer(
                clean, clean, "error", t("answer.technical_problem", framing), framing,
                mode=self.composer.mode, notes=["technical_problem"],
            )  # fmt: skip
        return finish(answer)

    def _condense(self, question: str, turns: list[str]) -> str:
        try:
            return self.condenser(question, turns)
        except Exception as exc:  # a broken condenser must not cost the answer
            REQUEST_STATS.get()["condense"] = f"fallback:{type(exc).__name__}"
            return condense(question, turns)

    def _compose(
        self,
        question: str,
        standalone: str,
        language: str,
        hits: list[Hit],
        emit: _SafeCallback,
        stats: dict[str, Any],
    ) -> Answer:
        if not getattr(self.composer, "streams", False):
            return self.composer.compose(question, standalone, language, hits, self.texts)
        try:
            return self.composer.compose(question, standalone, language, hits, self.texts, on_token=emit)  # type: ignore[call-arg]
        except LLMError as exc:
            stats["llm_error"] = exc.kind
            if self.fallback is None:
                raise
            return self._fall_back(
                question, standalone, language, hits, "llm_failed", [f"llm_error:{exc.kind}"]
            )

    def _fall_back(
        self, question: str, standalone: str, language: str, hits: list[Hit], reason: str, notes: list[str]
    ) -> Answer:
        """The fallback composer's verified answer, with `reason` noted (and said, when it is not a 'no')."""
        assert self.fallback is not None
        answer = self.verify(self.fallback.compose(question, standalone, language, hits, self.texts))
        remark = reason == "llm_failed" or answer.status in ("answered", "withheld")
        key = "answer.llm_fallback" if reason == "llm_failed" else "answer.llm_unsupported"
        text = f"{t(key, answer.language)}\n{answer.answer}" if remark else answer.answer
        kept = [n for n in notes if n != "no_valid_citation"]
        return replace(answer, answer=text, notes=[*answer.notes, reason, *kept])

    def verify(self, answer: Answer) -> Answer:
        """Check every citation against the stored text; fail closed (see the module docstring)."""
        valid, rejected = verify_citations(answer.citations, self.texts)
        unsafe = [c for c in valid if not quote_is_safe(c.quote)]
        if unsafe:
            valid = [c for c in valid if quote_is_safe(c.quote)]
            rejected = [*rejected, *unsafe]
        if answer.mode == "llm" and answer.status in ("answered", "withheld"):
            from assistant.answer.llm import keep_supported

            answer = keep_supported(answer, valid)
            if rejected:
                answer.notes.append(f"citations_rejected:{len(rejected)}")
        elif rejected:
            answer = drop_rejected(answer, valid, rejected)
        if answer.status in ("answered", "withheld") and not answer.citations:
            return replace(
                answer,
                status="not_found",
                answer=t("answer.not_found", _framing(answer.language)),
                citations=[],
                notes=[*answer.notes, "no_valid_citation"],
            )
        if answer.status in ("not_found", "refused", "error") and answer.citations:
            answer = replace(answer, citations=[])  # these statuses never show sources as support
        return answer

    @staticmethod
    def _log(answer: Answer, stats: dict[str, Any]) -> None:
        """One structured line per request: ids and counts, never the question or the key."""
        record = {
            **{k: v for k, v in stats.items() if k != "llm_deadline"},
            "answer_mode": answer.mode,
            "status": answer.status,
            "citations": len(answer.citations),
            "notes": answer.notes,
            "total_ms": round(answer.timings_ms.get("total", 0.0), 1),
        }
        failed = answer.status == "error" or any(n in ("llm_failed", "llm_unsupported") for n in answer.notes)
        log.log(
            logging.WARNING if failed else logging.INFO, json.dumps(record, ensure_ascii=False, default=str)
        )


class _SafeCallback:
    """Wraps the caller's on_token: remembers whether it was called; an exception in it stops further calls
    (a closed UI connection must not cost the answer)."""

    def __init__(self, callback: TokenCallback | None) -> None:
        self.callback = callback
        self.called = False

    def __call__(self, text: str) -> None:
        if self.callback is None or not text:
            return
        self.called = True
        try:
            self.callback(text)
        except Exception:
            log.debug("on_token failed; streaming stopped", exc_info=True)
            self.callback = None
