"""The answer contract shared by every composer, the CLI (`ask --json`), the UI and the HTTP API, and the one
protocol every composer implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from vectorstore.records import Hit

Status = Literal["answered", "withheld", "not_found", "refused", "error"]
Mode = Literal["extractive", "llm"]
STATUSES: tuple[Status, ...] = (
    "answered",
    "withheld",
    "not_found",
    "refused",
    "error",
)  # error: canned reply
SUPPORTING: tuple[Status, ...] = ("answered", "withheld")  # statuses that must rest on a valid citation
TokenSink = Callable[[str], None]


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

    @classmethod
    def from_hit(
        cls, n: int, hit: Hit, quote: str, start: int | None = None, end: int | None = None
    ) -> Citation:
        """Citation `n` of `quote`, found at `start`..`end` of the document of `hit`, with the hit's metadata."""
        return cls(
            n=n,
            doc_id=hit.doc_id,
            chunk_id=hit.chunk_id,
            title=hit.title,
            date=hit.date,
            speaker=hit.speaker,
            url=hit.url,
            quote=quote,
            party=hit.party,
            language=hit.language,
            start=start,
            end=end,
        )


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


class ComposeRequest(Protocol):
    """What a composer reads of a request (the pipeline's request context provides it)."""

    question: str  # as the user typed it (cleaned)
    standalone: str  # the question on its own (a follow-up rewritten)
    language: str  # the question's language
    hits: list[Hit]
    deadline: (
        float  # time.monotonic() by which every model call of the request must be done (read when calling)
    )
    stats: dict[str, Any]  # counters for the request's log line

    def emit(self, text: str) -> None:
        """Stream a piece of answer text to the user (safe to call; never raises)."""

    def read(self, doc_id: str, start: int, end: int) -> None:
        """Record a span of a document the composer read to write the answer."""


class ComposeError(Exception):
    """A composer could not write an answer (e.g. its model failed); the pipeline falls back when it can.
    `notes` go into the answer's notes, `stats` into the request's log line."""

    def __init__(
        self, kind: str, notes: list[str] | None = None, stats: dict[str, Any] | None = None
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.notes = notes or []
        self.stats = stats or {}


class Composer(Protocol):
    """Turns retrieved hits into an answer, then keeps only what valid citations support."""

    mode: Mode

    def compose(self, request: ComposeRequest) -> Answer:
        """An answer to `request.standalone` from `request.hits`, streaming its text through `request.emit`
        when the composer writes it piece by piece. Raises ComposeError when it cannot answer."""
        ...

    def finalise(self, answer: Answer, valid: list[Citation], rejected: list[Citation]) -> Answer:
        """The answer with only what `valid` citations support (rejected ones and what rests on them removed)."""
        ...
