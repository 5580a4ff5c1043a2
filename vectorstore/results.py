"""What retrieval takes (filters) and gives back (hits). Shared by vectorstore/ and assistant/."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval. Dates are ISO prefixes ("2023", "2023-06", "2023-06-14"), inclusive."""

    since: str | None = None
    until: str | None = None
    language: str | None = None
    type: str | None = None
    speaker: str | None = None

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
