"""The records every layer shares: documents and chunks (what ingestion writes), hits and filters (what
retrieval takes and gives), and the one list of metadata fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vectorstore.dates import normalise_date

# Metadata every document and chunk may carry (missing values are None, and left out of the vector store).
METADATA_FIELDS = ("title", "date", "url", "language", "type", "speaker", "party")


@dataclass
class Document:
    """One document as read from a file (or one line of a JSONL file), before or after cleaning."""

    doc_id: str
    text: str
    source_path: Path
    title: str | None = None
    date: str | None = None  # ISO, as precise as known: "2023", "2023-06", "2023-06-14"
    url: str | None = None
    language: str | None = None  # ISO 639-1 ("nl", "en", ...); detected when missing
    type: str | None = None
    speaker: str | None = None
    party: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # any other metadata, kept as-is

    def metadata(self) -> dict[str, Any]:
        """The metadata fields that are set."""
        return {k: getattr(self, k) for k in METADATA_FIELDS if getattr(self, k) not in (None, "")}


@dataclass(frozen=True)
class Chunk:
    """A piece of a cleaned document; `text == document_text[start:end]` always holds."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    tokens: int


@dataclass(frozen=True)
class Sentence:
    """A sentence of a cleaned document, embedded on its own so answers can be chosen by meaning;
    `text == document_text[start:end]`."""

    sentence_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SentenceSpan:
    """Where a stored sentence is: its id and offsets in the document text."""

    sentence_id: str
    start: int
    end: int


@dataclass(frozen=True)
class DocumentState:
    """What re-ingestion compares against: the hashes and chunk count of a stored document."""

    doc_id: str
    raw_hash: str
    text_hash: str
    source_path: str
    n_chunks: int


class FilterError(ValueError):
    """A filter value that cannot be used (a date that is not a date); `field` names the filter."""

    def __init__(self, field_name: str, value: str) -> None:
        super().__init__(f"{field_name}: not a date: {value!r}")
        self.field = field_name
        self.value = value


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval. Dates are ISO prefixes ("2023", "2023-06", "2023-06-14"), inclusive.

    Dates are checked and normalised when the filter is made ("14-06-2023" -> "2023-06-14"); a value that is not a
    date raises FilterError, so a typo is an error where the filter is built, never an empty result later."""

    since: str | None = None
    until: str | None = None
    language: str | None = None
    type: str | None = None
    speaker: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is None or value == "":
                object.__setattr__(self, name, None)
                continue
            iso = normalise_date(value)
            if iso is None:
                raise FilterError(name, str(value))
            object.__setattr__(self, name, iso)
        for name in ("language", "type", "speaker"):
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)

    def is_empty(self) -> bool:
        return not any(asdict(self).values())


@dataclass
class Hit:
    """One retrieved chunk with its document's metadata; `text == document_text[start:end]`."""

    rank: int
    score: float
    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    title: str | None = None
    date: str | None = None
    speaker: str | None = None
    party: str | None = None
    url: str | None = None
    language: str | None = None
    type: str | None = None
    dense_rank: int | None = None  # 1-based rank in the dense list, None if absent
    lexical_rank: int | None = None  # 1-based rank in the BM25 list, None if absent
    dense_score: float | None = (
        None  # cosine similarity of the chunk to the question, when it was a dense hit
    )
    sentence_rank: int | None = None  # 1-based rank of the chunk's best sentence among the nearest sentences

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
