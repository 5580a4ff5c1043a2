"""One question in, one verified answer out: guard -> condense -> language -> retrieve -> compose -> verify.

Every part is injected (retriever, composer, document texts, condenser), so the CLI, the UI, the HTTP API and
the tests run the same steps. Citation verification always runs and fails closed: a citation whose quote is
not in the stored document text is dropped together with the lines that cite it, and an answer left without
any valid citation becomes `not_found`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from assistant.answer.base import Answer, Citation, Composer, DocumentTexts
from assistant.citations import verify_citations
from assistant.followup import condense
from assistant.guard import MAX_QUESTION_CHARS, check_question
from assistant.language import detect_question_language
from assistant.messages import t
from vectorstore.results import Filters, Hit

Condenser = Callable[[str, list[str]], str]
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
    """The ordered steps of answering; `run` never raises for bad input (it refuses instead)."""

    def __init__(
        self,
        retriever: Retriever,
        composer: Composer,
        texts: DocumentTexts,
        condenser: Condenser | None = None,
    ) -> None:
        self.retriever = retriever
        self.composer = composer
        self.texts = texts
        self.condenser = condenser or condense

    def run(
        self,
        question: str,
        history: list[str] | None = None,
        filters: Filters | None = None,
        k: int = 8,
    ) -> Answer:
        timings: dict[str, float] = {}
        started = clock = time.perf_counter()

        def lap(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[step] = (now - clock) * 1000
            clock = now

        clean, refusal = check_question(question)
        lap("guard")
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
            timings["total"] = (time.perf_counter() - started) * 1000
            answer.timings_ms = timings
            return answer

        turns = [c for c in (check_question(h)[0] for h in (history or []) if isinstance(h, str)) if c]
        standalone = self.condenser(clean, turns) if turns else clean
        lap("condense")
        language = detect_question_language(clean)
        lap("language")
        hits = self.retriever.search(standalone, k=k, filters=filters)
        lap("retrieve")
        answer = self.composer.compose(clean, standalone, language, hits, self.texts)
        lap("compose")
        answer = self.verify(answer)
        lap("verify")
        timings["total"] = (time.perf_counter() - started) * 1000
        answer.timings_ms = timings
        return answer

    def verify(self, answer: Answer) -> Answer:
        """Check every citation against the stored text; fail closed (see the module docstring)."""
        valid, rejected = verify_citations(answer.citations, self.texts)
        if rejected:
            answer = drop_rejected(answer, valid, rejected)
        if answer.status in ("answered", "withheld") and not answer.citations:
            return replace(
                answer,
                status="not_found",
                answer=t("answer.not_found", _framing(answer.language)),
                citations=[],
                notes=[*answer.notes, "no_valid_citation"],
            )
        if answer.status in ("not_found", "refused") and answer.citations:
            answer = replace(answer, citations=[])  # these statuses never show sources as support
        return answer
