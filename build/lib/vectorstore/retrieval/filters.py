"""Filters turned into what the two searches understand: a Chroma `where` clause and a BM25 row mask.

The per-chunk metadata (date key, language, type, speaker) is read from the catalog once per loaded BM25 index
and kept as integer-coded columns aligned with the index rows, so a filtered query costs a few array operations.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from vectorstore.catalog import Catalog
from vectorstore.dates import date_bounds, date_sort_key
from vectorstore.lexical import LexicalIndex
from vectorstore.records import Filters

_WORDS = re.compile(r"\w+", re.UNICODE)
FILTER_FIELDS = ("language", "type", "speaker")


def fold(value: str) -> str:
    """Case- and width-insensitive form of a metadata value."""
    return unicodedata.normalize("NFKC", value).casefold().strip()


def speaker_matches(wanted: str, name: str) -> bool:
    """Case-insensitive: "schreinemacher" matches "Liesje Schreinemacher", and "Mark Rutte" matches "Rutte"."""
    needle, name = fold(wanted), fold(name)
    if needle in name:
        return True
    name_words = _WORDS.findall(name)
    return bool(name_words) and set(name_words) <= set(_WORDS.findall(needle))


class _Column:
    """One metadata field of every BM25 row, as integer codes into the list of its distinct values."""

    def __init__(self, values: list[str | None]) -> None:
        self.values: list[str] = sorted({v for v in values if v})
        index = {v: i for i, v in enumerate(self.values)}
        self.codes = np.array([index.get(v, -1) if v else -1 for v in values], dtype=np.int32)

    def mask(self, wanted: list[str]) -> np.ndarray:
        index = {v: i for i, v in enumerate(self.values)}
        return np.isin(self.codes, [index[v] for v in wanted])


@dataclass(frozen=True)
class Resolved:
    """A filter turned into stored values: a Chroma `where` and a BM25 row mask."""

    where: dict[str, Any] | None
    mask: np.ndarray | None
    empty: bool = False  # nothing can match (e.g. no such speaker)


@dataclass
class ChunkColumns:
    """Per-chunk metadata aligned with the rows of one loaded BM25 index (loaded once, reused per query)."""

    lexical: LexicalIndex
    date_key: np.ndarray  # int64, 0 = no date
    columns: dict[str, _Column]
    chunk_spans: dict[str, list[tuple[int, str]]]  # doc_id -> (start, chunk_id) of its chunks, by start

    @classmethod
    def load(cls, catalog: Catalog, lexical: LexicalIndex) -> ChunkColumns:
        n = len(lexical.chunk_ids)
        date_key = np.zeros(n, dtype=np.int64)
        fields: dict[str, list[str | None]] = {f: [None] * n for f in FILTER_FIELDS}
        row_of = lexical.row_of
        spans: dict[str, list[tuple[int, str]]] = {}
        for chunk_id, doc_id, start, date, language, type_, speaker in catalog.iter_chunk_metadata():
            spans.setdefault(doc_id, []).append((start, chunk_id))
            i = row_of.get(chunk_id)
            if i is None:
                continue
            date_key[i] = date_sort_key(date) or 0
            fields["language"][i], fields["type"][i], fields["speaker"][i] = language, type_, speaker
        for chunks in spans.values():
            chunks.sort()
        return cls(lexical, date_key, {f: _Column(v) for f, v in fields.items()}, spans)

    def resolve(self, filters: Filters) -> Resolved:
        """The `where` clause and row mask of `filters` (which are already valid: see `Filters`)."""
        if filters.is_empty():
            return Resolved(None, None)
        clauses: list[dict[str, Any]] = []
        mask = np.ones(len(self.date_key), dtype=bool)
        low, high = date_bounds(filters.since, filters.until)
        if low is not None:
            clauses.append({"date_key": {"$gte": low}})
            mask &= self.date_key >= low
        if high is not None:
            clauses.append({"date_key": {"$lte": high}})
            mask &= (self.date_key <= high) & (self.date_key > 0)
        for name in FILTER_FIELDS:
            wanted = getattr(filters, name)
            if not wanted:
                continue
            column = self.columns[name]
            if name == "speaker":
                values = [v for v in column.values if speaker_matches(wanted, v)]
            else:
                values = [v for v in column.values if fold(v) == fold(wanted)]
            if not values:
                return Resolved(None, None, empty=True)
            clauses.append({name: {"$in": values}})
            mask &= column.mask(values)
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return Resolved(where, mask, empty=not mask.any())
