"""Hybrid retrieval: BM25 and dense (Chroma) candidates fused by weighted reciprocal rank fusion (`fusion.py`).

Dense retrieval always passes a precomputed query vector to Chroma (never `query_texts`, which would load
Chroma's default embedder from the network). When the embedder fails, retrieval continues with BM25 alone,
logs one warning and sets `dense_available = False` so callers can tell the user.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from vectorstore.config import RetrievalConfig
from vectorstore.errors import EmbeddingError
from vectorstore.records import METADATA_FIELDS, Filters, Hit
from vectorstore.retrieval.filters import ChunkColumns, Resolved
from vectorstore.retrieval.fusion import near_duplicate, rrf, shingles

if TYPE_CHECKING:
    from vectorstore.store import Store

log = logging.getLogger(__name__)

_HIT_FIELDS = METADATA_FIELDS  # Hit carries every metadata field


class HybridRetriever:
    """Weighted RRF over BM25 and dense candidates, with metadata filters and near-duplicate collapse."""

    dense_retry_seconds = 60.0  # after an embedder failure, try dense again after this long

    def __init__(self, store: Store, config: RetrievalConfig | None = None) -> None:
        self.store = store
        self.config = config or RetrievalConfig()
        self.dense_available = True
        self._warned = False
        self._failed_at: float | None = None
        self._columns: ChunkColumns | None = None
        self._lock = threading.Lock()

    # --- public ----------------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """The best `k` chunks for `query`, best first, within `filters`."""
        if not query.strip() or k <= 0:
            return []
        resolved = self._resolve(filters)
        if resolved.empty:
            return []
        depth = max(self.config.candidates, k)
        dense = self._dense(query, depth, resolved.where) if self.config.dense_weight > 0 else []
        lexical = (
            self.store.lexical.search(query, depth, resolved.mask) if self.config.lexical_weight > 0 else []
        )
        return self._hits(dense, [c for c, _ in lexical], k)

    def dense_only(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Plain vector similarity top-k (for comparison and benchmarks)."""
        resolved = self._resolve(filters)
        if resolved.empty:
            return []
        return self._hits(self._dense(query, k, resolved.where), [], k, collapse=False)

    def lexical_only(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """BM25 top-k (for comparison and benchmarks)."""
        resolved = self._resolve(filters)
        if resolved.empty:
            return []
        ids = [c for c, _ in self.store.lexical.search(query, k, resolved.mask)]
        return self._hits([], ids, k, collapse=False)

    # --- filters ---------------------------------------------------------------------------------------
    def _resolve(self, filters: Filters | None) -> Resolved:
        if filters is None or filters.is_empty():
            return Resolved(None, None)
        lexical = self.store.lexical
        with self._lock:
            if self._columns is None or self._columns.lexical is not lexical:
                self._columns = ChunkColumns.load(self.store.catalog, lexical)
            columns = self._columns
        return columns.resolve(filters)

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
            query_embeddings=[vector], n_results=n, where=where, include=["metadatas", "documents"]
        )
        return list(zip(result["ids"][0], result["metadatas"][0], result["documents"][0], strict=True))

    # --- fusion ----------------------------------------------------------------------------------------
    def _hits(
        self, dense: list[tuple[str, dict, str]], lexical: list[str], k: int, collapse: bool = True
    ) -> list[Hit]:
        cfg = self.config
        ordered, scores, dense_rank, lexical_rank = rrf(
            [c for c, _, _ in dense], lexical, cfg.dense_weight, cfg.lexical_weight, cfg.rrf_k
        )
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
                grams = shingles(text or "")
                if any(near_duplicate(grams, other, cfg.duplicate_threshold) for other in kept):
                    continue
                kept.append(grams)
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
                    **{f: meta.get(f) for f in _HIT_FIELDS},
                )
            )
            if len(hits) >= k:
                break
        return hits
