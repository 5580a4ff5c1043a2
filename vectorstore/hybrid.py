"""Hybrid retrieval: BM25 and dense (Chroma) candidates fused by weighted reciprocal rank fusion.

    score(chunk) = dense_weight / (rrf_k + dense_rank) + lexical_weight / (rrf_k + lexical_rank)

Dense retrieval always passes a precomputed query vector to Chroma (never `query_texts`, which would load
Chroma's default embedder from the network). When the embedder fails, retrieval continues with BM25 alone,
logs one warning and sets `dense_available = False` so callers can tell the user.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ingestion.metadata import date_sort_key
from vectorstore.embeddings import EmbeddingError
from vectorstore.lexical import LexicalIndex
from vectorstore.results import Filters, Hit

if TYPE_CHECKING:
    from assistant.settings import Settings
    from vectorstore.store import Store

log = logging.getLogger(__name__)

_META_FIELDS = ("title", "date", "speaker", "party", "url", "language", "type")
_WORDS = re.compile(r"\w+", re.UNICODE)


# --- filters -----------------------------------------------------------------------------------------------
def date_bounds(filters: Filters) -> tuple[int | None, int | None]:
    """Inclusive date_key bounds of a filter: "until 2023-06" -> 20230699 (so 2023-06-30 is included)."""
    low = high = None
    if filters.since:
        low = date_sort_key(filters.since)
        if low is None:
            raise ValueError(f"not a date: {filters.since!r}")
    if filters.until:
        key = date_sort_key(filters.until)
        if key is None:
            raise ValueError(f"not a date: {filters.until!r}")
        year, month, day = key // 10000, key // 100 % 100, key % 100
        high = year * 10000 + (month or 99) * 100 + (day or 99)
    return low, high


class _Column:
    """One metadata field of every BM25 row, as integer codes into the list of its distinct values."""

    def __init__(self, values: list[str | None]) -> None:
        self.values: list[str] = sorted({v for v in values if v})
        index = {v: i for i, v in enumerate(self.values)}
        self.codes = np.array([index.get(v, -1) if v else -1 for v in values], dtype=np.int32)

    def mask(self, wanted: list[str]) -> np.ndarray:
        index = {v: i for i, v in enumerate(self.values)}
        return np.isin(self.codes, [index[v] for v in wanted])


@dataclass
class _Catalogue:
    """Per-chunk metadata aligned with the rows of one loaded BM25 index (loaded once, reused per query)."""

    lexical: LexicalIndex
    date_key: np.ndarray  # int64, 0 = no date
    columns: dict[str, _Column]

    @classmethod
    def load(cls, store: Store, lexical: LexicalIndex) -> _Catalogue:
        n = len(lexical.chunk_ids)
        date_key = np.zeros(n, dtype=np.int64)
        fields: dict[str, list[str | None]] = {f: [None] * n for f in ("language", "type", "speaker")}
        row_of = lexical.row_of
        for chunk_id, date, language, type_, speaker in store.catalog.iter_chunk_metadata():
            i = row_of.get(chunk_id)
            if i is None:
                continue
            date_key[i] = date_sort_key(date) or 0
            fields["language"][i], fields["type"][i], fields["speaker"][i] = language, type_, speaker
        return cls(lexical, date_key, {f: _Column(v) for f, v in fields.items()})


def speaker_matches(wanted: str, name: str) -> bool:
    """Case-insensitive: "schreinemacher" matches "Liesje Schreinemacher", and "Mark Rutte" matches "Rutte"."""
    needle, name = _fold(wanted), _fold(name)
    if needle in name:
        return True
    name_words = _WORDS.findall(name)
    return bool(name_words) and set(name_words) <= set(_WORDS.findall(needle))


@dataclass(frozen=True)
class _Resolved:
    """A filter turned into stored values: a Chroma `where` and a BM25 row mask."""

    where: dict[str, Any] | None
    mask: np.ndarray | None
    empty: bool = False  # nothing can match (e.g. no such speaker)


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold().strip()


# --- near-duplicates ---------------------------------------------------------------------------------------
def _shingles(text: str) -> frozenset[str]:
    words = _WORDS.findall(_fold(text))
    if len(words) < 3:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + 3]) for i in range(len(words) - 2))


def near_duplicate(a: frozenset[str], b: frozenset[str], threshold: float) -> bool:
    """Word-3-gram containment: the share of the smaller chunk's 3-grams found in the other."""
    if not a or not b:
        return a == b
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small) >= threshold


# --- the retriever -----------------------------------------------------------------------------------------
class HybridRetriever:
    """Weighted RRF over BM25 and dense candidates, with metadata filters and near-duplicate collapse."""

    dense_retry_seconds = 60.0  # after an embedder failure, try dense again after this long

    def __init__(
        self,
        store: Store,
        *,
        dense_weight: float = 1.0,
        lexical_weight: float = 0.75,
        rrf_k: int = 5,
        candidates: int = 50,
        duplicate_threshold: float = 0.9,
    ) -> None:
        self.store = store
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.duplicate_threshold = duplicate_threshold
        self.dense_available = True
        self._warned = False
        self._failed_at: float | None = None
        self._catalogue: _Catalogue | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> HybridRetriever:
        return cls(
            store,
            dense_weight=settings.retrieval_dense_weight,
            lexical_weight=settings.retrieval_lexical_weight,
            rrf_k=settings.retrieval_rrf_k,
            candidates=settings.retrieval_candidates,
            duplicate_threshold=settings.retrieval_duplicate_threshold,
        )

    # --- public ----------------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """The best `k` chunks for `query`, best first, within `filters`."""
        if not query.strip() or k <= 0:
            return []
        resolved = self._resolve(filters or Filters())
        if resolved.empty:
            return []
        depth = max(self.candidates, k)
        dense = self._dense(query, depth, resolved.where) if self.dense_weight > 0 else []
        lexical = self.store.lexical.search(query, depth, resolved.mask) if self.lexical_weight > 0 else []
        return self._fuse(dense, [c for c, _ in lexical], k)

    def dense_only(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Plain vector similarity top-k (for comparison and benchmarks)."""
        resolved = self._resolve(filters or Filters())
        if resolved.empty:
            return []
        return self._fuse(self._dense(query, k, resolved.where), [], k, collapse=False)

    def lexical_only(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """BM25 top-k (for comparison and benchmarks)."""
        resolved = self._resolve(filters or Filters())
        if resolved.empty:
            return []
        ids = [c for c, _ in self.store.lexical.search(query, k, resolved.mask)]
        return self._fuse([], ids, k, collapse=False)

    # --- filters ---------------------------------------------------------------------------------------
    def _catalog_rows(self) -> _Catalogue:
        lexical = self.store.lexical
        with self._lock:
            if self._catalogue is None or self._catalogue.lexical is not lexical:
                self._catalogue = _Catalogue.load(self.store, lexical)
            return self._catalogue

    def _resolve(self, filters: Filters) -> _Resolved:
        if filters.is_empty():
            return _Resolved(None, None)
        cat = self._catalog_rows()
        clauses: list[dict[str, Any]] = []
        mask = np.ones(len(cat.date_key), dtype=bool)
        low, high = date_bounds(filters)
        if low is not None:
            clauses.append({"date_key": {"$gte": low}})
            mask &= cat.date_key >= low
        if high is not None:
            clauses.append({"date_key": {"$lte": high}})
            mask &= (cat.date_key <= high) & (cat.date_key > 0)
        for field, wanted in (
            ("language", filters.language),
            ("type", filters.type),
            ("speaker", filters.speaker),
        ):
            if not wanted:
                continue
            column = cat.columns[field]
            if field == "speaker":
                values = [v for v in column.values if speaker_matches(wanted, v)]
            else:
                values = [v for v in column.values if _fold(v) == _fold(wanted)]
            if not values:
                return _Resolved(None, None, empty=True)
            clauses.append({field: {"$in": values}})
            mask &= column.mask(values)
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return _Resolved(where, mask, empty=not mask.any())

    # --- dense -----------------------------------------------------------------------------------------
    def _dense(self, query: str, n: int, where: dict[str, Any] | None) -> list[tuple[str, dict, str]]:
        """(chunk_id, metadata, text) of the nearest chunks; [] (and a warning once) if the embedder fails."""
        if self._failed_at is not None and time.monotonic() - self._failed_at < self.dense_retry_seconds:
            return []
        try:
            vector = self.store.embedder.embed_query(query)
        except EmbeddingError as exc:
            self._failed_at = time.monotonic()
            self.dense_available = False
            if not self._warned:
                self._warned = True
                log.warning("dense retrieval unavailable, using BM25 only: %s", exc)
            return []
        self._failed_at = None
        self.dense_available = True
        result = self.store.collection.query(
            query_embeddings=[vector],
            n_results=n,
            where=where,
            include=["metadatas", "documents"],
        )
        return list(zip(result["ids"][0], result["metadatas"][0], result["documents"][0], strict=True))

    # --- fusion ----------------------------------------------------------------------------------------
    def _fuse(
        self,
        dense: list[tuple[str, dict, str]],
        lexical: list[str],
        k: int,
        collapse: bool = True,
    ) -> list[Hit]:
        scores: dict[str, float] = {}
        dense_rank: dict[str, int] = {}
        lexical_rank: dict[str, int] = {}
        for rank, (chunk_id, _, _) in enumerate(dense, 1):
            dense_rank[chunk_id] = rank
            scores[chunk_id] = scores.get(chunk_id, 0.0) + self.dense_weight / (self.rrf_k + rank)
        for rank, chunk_id in enumerate(lexical, 1):
            lexical_rank[chunk_id] = rank
            scores[chunk_id] = scores.get(chunk_id, 0.0) + self.lexical_weight / (self.rrf_k + rank)
        if not dense:
            for chunk_id in lexical:  # BM25 alone: keep its order even when a weight is 0
                scores[chunk_id] = scores[chunk_id] or 1.0 / (self.rrf_k + lexical_rank[chunk_id])
        ordered = sorted(scores, key=lambda c: (-scores[c], dense_rank.get(c, 10**9)))

        # Fetch text + metadata only for the head of the list (dense candidates carry theirs already).
        data = {chunk_id: (meta, text) for chunk_id, meta, text in dense}
        head = ordered[: max(3 * k, k + 10)] if collapse else ordered[:k]
        missing = [c for c in head if c not in data]
        if missing:
            got = self.store.collection.get(ids=missing, include=["metadatas", "documents"])
            for chunk_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                data[chunk_id] = (meta, text)

        hits: list[Hit] = []
        kept: list[frozenset[str]] = []
        for chunk_id in head:
            if chunk_id not in data:  # BM25 index briefly ahead of/behind the collection
                continue
            meta, text = data[chunk_id]
            if collapse:
                shingles = _shingles(text or "")
                if any(near_duplicate(shingles, other, self.duplicate_threshold) for other in kept):
                    continue
                kept.append(shingles)
            hits.append(
                Hit(
                    rank=len(hits) + 1,
                    score=scores[chunk_id],
                    chunk_id=chunk_id,
                    doc_id=str(meta.get("doc_id")),
                    text=text or "",
                    start=int(meta.get("start", 0)),
                    end=int(meta.get("end", 0)),
                    dense_rank=dense_rank.get(chunk_id),
                    lexical_rank=lexical_rank.get(chunk_id),
                    **{f: meta.get(f) for f in _META_FIELDS},
                )
            )
            if len(hits) >= k:
                break
        return hits
