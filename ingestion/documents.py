"""The records that flow from the loaders through cleaning and chunking into the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Metadata keys every document and chunk may carry (missing values are None / omitted in the store).
CORE_FIELDS = ("title", "date", "url", "language", "type", "speaker", "party")


@dataclass
class SourceDocument:
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
        """Core metadata fields that are set."""
        return {k: getattr(self, k) for k in CORE_FIELDS if getattr(self, k) not in (None, "")}


@dataclass(frozen=True)
class LoadFailure:
    """A file (or one line of it) that could not be read. `code` is machine-readable, `detail` is for humans."""

    path: Path
    code: str  # one of FAILURE_CODES
    detail: str = ""
    line: int | None = None  # 1-based line number for JSONL lines

    @property
    def where(self) -> str:
        """`path` or `path:line`."""
        return f"{self.path}:{self.line}" if self.line else str(self.path)


FAILURE_CODES = (
    "empty",  # 0 bytes or no text after cleaning
    "binary",  # a text extension but binary content
    "too_large",  # over the configured size limit
    "corrupt",  # a PDF/DOCX that cannot be parsed
    "invalid_json",  # a JSONL line that is not a JSON object with text
    "unsupported",  # an extension no loader handles
    "unreadable",  # permission or I/O error
    "embedding_failed",  # the embedder failed on this document
    "duplicate_id",  # a second document with an id already seen in this run
)


@dataclass
class LoadResult:
    """What loading one file gave: documents (possibly several, for JSONL) and failures."""

    documents: list[SourceDocument] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)


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
