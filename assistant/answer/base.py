"""The answer contract shared by every composer, the CLI (`ask --json`), the UI and the HTTP API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from vectorstore.results import Hit

Status = Literal["answered", "withheld", "not_found", "refused", "error"]
Mode = Literal["extractive", "llm"]
STATUSES: tuple[Status, ...] = (
    "answered",
    "withheld",
    "not_found",
    "refused",
    "error",
)  # error: canned reply


@dataclass
class Citation:
    """A numbered source; `quote` occurs verbatim in the stored cleaned text of `doc_id` (checked before showing)."""

    n: int
    doc_id: str
    chunk_id: str
    title: str | None
    date: str | None
    speaker: str | None
    url: str | None
    quote: str
    party: str | None = None
    language: str | None = None
    start: int | None = None  # character offsets of the quote in the document text
    end: int | None = None


@dataclass
class Answer:
    """One answer. `to_dict()` is the public JSON of `openbaar ask --json` and the HTTP API."""

    question: str
    standalone_question: str
    status: Status
    answer: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    mode: Mode = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # machine-readable remarks, e.g. "dense_unavailable"
    prompt_version: str | None = None  # LLM mode: short hash of the prompt files used
    model: str | None = None  # LLM mode: the chat model that wrote the answer

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["timings_ms"] = {k: round(v, 1) for k, v in self.timings_ms.items()}
        return data


class DocumentTexts(Protocol):
    """Where composers and the citation check read a document's stored cleaned text."""

    def text(self, doc_id: str) -> str | None: ...


class Composer(Protocol):
    """Turns retrieved hits into an answer for a (standalone) question."""

    mode: Mode

    def compose(
        self, question: str, standalone: str, language: str, hits: list[Hit], texts: DocumentTexts
    ) -> Answer: ...
