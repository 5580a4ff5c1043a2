"""Hybrid retrieval: ranked lists of chunks fused by weighted reciprocal rank fusion (`fusion.py`):

- dense: the chunks nearest to the question's vector (Chroma);
- lexical: BM25 over the same chunks (names, numbers, exact wording);
- sentences (when its weight is set): chunks ordered by their best sentence among the sentences nearest to the
  question, so a chunk whose one sentence says what is asked is found even when the rest of it is about more.

Dense retrieval always passes a precomputed query vector to Chroma (never `query_texts`, which would load
Chroma's default embedder from the network). The vector is computed once (`embed`) and may be passed in, so
later steps can reuse it. When the embedder fails, retrieval continues with BM25 alone, logs one warning and sets
`dense_available = False` so callers can tell the user.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from vectorstore.config import RetrievalConfig
from vectorstore.errors import EmbeddingError
from vectorstore.records import METADATA_FIELDS, Filters, Hit
from vectorstore.retrieval.filters import ChunkColumns, Resolved
from vectorstore.retrieval.fusion import near_duplicate, rrf, shingles
from vectorstore.retrieval.rerank import Candidate as RerankCandidate
from vectorstore.retrieval.rerank import cosines, load_rerank_model
from vectorstore.retrieval.rerank import features as rerank_features

if TYPE_CHECKING:
    from vectorstore.lexical import LexicalIndex
    from vectorstore.store import Store

log = logging.getLogger(__name__)

Vector = list[float]


class HybridRetriever:
    """Weighted RRF over dense, BM25 and sentence rankings, with metadata filters and near-duplicate collapse."""

    dense_retry_seconds = 60.0  # after an embedder failure, try dense again after this long

    def __init__(self, store: Store, config: RetrievalConfig | None = None) -> None:
        self.store = store
        self.config = config or RetrievalConfig()
        self.dense_available = True
        self._warned = False
        self._failed_at: float | None = None
        self._columns: ChunkColumns | None = None
        self._lock = threading.Lock()

    @property
    def embedder_id(self) -> str:
        """Which model makes the vectors (provider and model id): vectors of the same text can be shared."""
        embedder = self.store.embedder
        return f"{embedder.provider}:{embedder.model_id}"

    # --- public ----------------------------------------------------------------------------------------
    def embed(self, query: str) -> Vector | None:
        """The question's vector, or None when the embedder is unavailable (then a warning is logged once)."""
        if self._failed_at is not None and time.monotonic() - self._failed_at < self.dense_retry_seconds:
            return None
        try:
            vector = self.store.embedder.embed_query(query)
        except EmbeddingError as exc:
            self._failed_at = time.monotonic()
            self.dense_available = False
            if not self._warned:
                self._warned = True
                log.warning("dense retrieval unavailable, using BM25 only: %s", exc)
            return None
        self._failed_at = None
        self.dense_available = True
        return vector

    def search(
        self, query: str, k: int = 10, filters: Filters | None = None, vector: Vector | None = None
    ) -> list[Hit]:
        """The best `k` chunks for `query`, best first, within `filters` (`vector`: the query's, if known)."""
        if not query.strip() or k <= 0:
            return []
        lexical_index = self.store.lexical  # one snapshot per question: a reload meanwhile is seen next time
        resolved = self._resolve(filters, lexical_index)
        if resolved.empty:
            return []
        cfg = self.config
        depth = max(cfg.candidates, k)
        uses_vector = cfg.dense_weight > 0 or cfg.sentence_weight > 0
        if vector is None and uses_vector:
            vector = self.embed(query)
        dense = self._dense(vector, depth, resolved.where) if cfg.dense_weight > 0 and vector else []
        sentences = (
            self._sentence_ranking(vector, resolved.where, lexical_index)
            if cfg.sentence_weight > 0 and vector
            else []
        )
        lexical = lexical_index.search(query, depth, resolved.mask) if cfg.lexical_weight > 0 else []
        order = None
        if cfg.rerank and vector is not None:
            order = self.rerank(vector, dense, lexical, sentences)
        return self._hits(dense, [c for c, _ in lexical], sentences, k, order=order)

    def rerank_candidates(
        self,
        vector: Vector,
        dense: list[tuple[str, dict, str, float]],
        lexical: list[tuple[str, float]],
        sentences: list[str],
    ) -> list[RerankCandidate]:
        """The first fused candidates with their reranking features (see retrieval/rerank.py)."""
        cfg = self.config
        model = load_rerank_model()
        ordered, scores, _ = rrf(
            [
                ([c for c, *_ in dense], cfg.dense_weight),
                ([c for c, _ in lexical], cfg.lexical_weight),
                (sentences, cfg.sentence_weight),
            ],
            cfg.rrf_k,
        )
        head = ordered[: model.depth]
        similarity = {chunk_id: score for chunk_id, _, _, score in dense}
        bm25 = dict(lexical)
        missing = [c for c in head if c not in similarity]
        meta = {chunk_id: m for chunk_id, m, _, _ in dense}
        if missing:
            got = self.store.collection.get(ids=missing, include=["metadatas", "embeddings"])
            found = cosines(vector, list(got["embeddings"]))
            for chunk_id, m, cos in zip(got["ids"], got["metadatas"], found, strict=True):
                meta[chunk_id] = m
                similarity[chunk_id] = float(cos)
        candidates = [
            RerankCandidate(
                chunk_id=c,
                doc_id=str(meta[c].get("doc_id")),
                start=int(meta[c].get("start", 0)),
                end=int(meta[c].get("end", 0)),
                fused=scores[c],
                lexical=bm25.get(c),
                dense=similarity.get(c),
            )
            for c in head
            if c in meta
        ]
        best = self._best_sentences(vector, candidates)
        for c, f in zip(candidates, rerank_features(candidates, best), strict=True):
            c.features = f
        return candidates

    def rerank(
        self,
        vector: Vector,
        dense: list[tuple[str, dict, str, float]],
        lexical: list[tuple[str, float]],
        sentences: list[str],
    ) -> list[str]:
        """The first fused candidates in the learned model's order."""
        model = load_rerank_model()
        candidates = self.rerank_candidates(vector, dense, lexical, sentences)
        return [c.chunk_id for c in sorted(candidates, key=lambda c: -model.score(c.features or {}))]

    def _best_sentences(self, vector: Vector, candidates: list[RerankCandidate]) -> list[float]:
        """The best cosine of a stored sentence inside each candidate chunk (0 when it has none)."""
        spans: dict[str, list] = {}
        for doc_id in {c.doc_id for c in candidates}:
            spans[doc_id] = self.store.sentences(doc_id)
        inside = {
            c.chunk_id: [x.sentence_id for x in spans[c.doc_id] if c.start <= x.start and x.end <= c.end]
            for c in candidates
        }
        ids = sorted({i for group in inside.values() for i in group})
        vectors = self.store.sentence_vectors(ids)
        known = [i for i in ids if i in vectors]
        sims = dict(zip(known, cosines(vector, [vectors[i] for i in known]), strict=True))
        return [
            max((float(sims[i]) for i in inside[c.chunk_id] if i in sims), default=0.0) for c in candidates
        ]

    def dense_only(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Plain vector similarity top-k (for comparison and benchmarks)."""
        resolved = self._resolve(filters, self.store.lexical)
        vector = None if resolved.empty else self.embed(query)
        if vector is None:
            return []
        return self._hits(self._dense(vector, k, resolved.where), [], [], k, collapse=False)

    def lexical_only(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """BM25 top-k (for comparison and benchmarks)."""
        lexical_index = self.store.lexical
        resolved = self._resolve(filters, lexical_index)
        if resolved.empty:
            return []
        ids = [c for c, _ in lexical_index.search(query, k, resolved.mask)]
        return self._hits([], ids, [], k, collapse=False)

    # --- filters ---------------------------------------------------------------------------------------
    def _columns_now(self, lexical: LexicalIndex | None = None) -> ChunkColumns:
        """The filter columns of `lexical` (default: the store's current BM25 index), built once per index."""
        lexical = lexical or self.store.lexical
        with self._lock:
            if self._columns is None or self._columns.lexical is not lexical:
                self._columns = ChunkColumns.load(self.store.catalog, lexical)
            return self._columns

    def refresh(self, *_: object) -> None:
        """Build the filter columns of the store's current BM25 index now (called after a reload, so the next
        filtered question does not wait for them)."""
        self._columns_now()

    def _resolve(self, filters: Filters | None, lexical: LexicalIndex | None = None) -> Resolved:
        if filters is None or filters.is_empty():
            return Resolved(None, None)
        return self._columns_now(lexical).resolve(filters)

    # --- dense and sentences -----------------------------------------------------------------------------
    def _dense(
        self, vector: Vector, n: int, where: dict[str, Any] | None
    ) -> list[tuple[str, dict, str, float]]:
        """(chunk_id, metadata, text, cosine similarity) of the nearest chunks."""
        result = self.store.collection.query(
            query_embeddings=[vector],
            n_results=n,
            where=where,
            include=["metadatas", "documents", "distances"],
        )
        return [
            (chunk_id, meta, text, 1.0 - float(distance))
            for chunk_id, meta, text, distance in zip(
                result["ids"][0],
                result["metadatas"][0],
                result["documents"][0],
                result["distances"][0],
                strict=True,
            )
        ]

    def _sentence_ranking(
        self, vector: Vector, where: dict[str, Any] | None, lexical: LexicalIndex | None = None
    ) -> list[str]:
        """Chunk ids ordered by the rank of their best sentence among the nearest sentences."""
        nearest = self.store.nearest_sentences(vector, self.config.sentence_candidates, where)
        spans = self._columns_now(lexical).chunk_spans
        ordered: list[str] = []
        seen: set[str] = set()
        for _, doc_id, start, _end, _score in nearest:
            chunks = spans.get(doc_id)
            if not chunks:
                continue
            i = bisect.bisect_right(chunks, (start, "\uffff")) - 1  # the last chunk starting at or before it
            if i < 0:
                continue
            chunk_id = chunks[i][1]
            if chunk_id not in seen:
                seen.add(chunk_id)
                ordered.append(chunk_id)
        return ordered

    # --- fusion ----------------------------------------------------------------------------------------
    def _hits(
        self,
        dense: list[tuple[str, dict, str, float]],
        lexical: list[str],
        sentences: list[str],
        k: int,
        collapse: bool = True,
        order: list[str] | None = None,
    ) -> list[Hit]:
        cfg = self.config
        ordered, scores, (dense_rank, lexical_rank, sentence_rank) = rrf(
            [
                ([c for c, *_ in dense], cfg.dense_weight),
                (lexical, cfg.lexical_weight),
                (sentences, cfg.sentence_weight),
            ],
            cfg.rrf_k,
        )
        if order:  # reranked: that order first, then the rest of the fused list
            seen = set(order)
            ordered = [*order, *(c for c in ordered if c not in seen)]
        # Fetch text + metadata only for the head of the list (dense candidates carry theirs already).
        data = {chunk_id: (meta, text) for chunk_id, meta, text, _ in dense}
        similarity = {chunk_id: score for chunk_id, _, _, score in dense}
        head = ordered[: max(3 * k, k + 10)] if collapse else ordered[:k]
        missing = [c for c in head if c not in data]
        if missing:
            got = self.store.collection.get(ids=missing, include=["metadatas", "documents"])
            for chunk_id, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                data[chunk_id] = (meta, text)
        # Vectors are written before the catalog row: a chunk whose text is not (yet) in the catalog cannot be
        # verified, so it is never shown.
        in_catalog = self.store.catalog.known_chunks([c for c in head if c in data])

        hits: list[Hit] = []
        kept: list[frozenset[str]] = []
        for chunk_id in head:
            if chunk_id not in data or chunk_id not in in_catalog:  # an index ahead of or behind the other
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
                    dense_score=similarity.get(chunk_id),
                    sentence_rank=sentence_rank.get(chunk_id),
                    **{f: meta.get(f) for f in METADATA_FIELDS},
                )
            )
            if len(hits) >= k:
                break
        return hits
