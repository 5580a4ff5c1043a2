"""The store: two Chroma collections (chunk vectors and sentence vectors; embedded or on a Chroma server) and the
shared state beside them (`vectorstore.state`): catalog, BM25 index, manifest with its generation, writer lock.

With files (the default), `<store>/` holds `chroma/` (embedded Chroma data), `catalog.sqlite`, `lexical/`,
`manifest.json` and `embeddings.sqlite` (cache). With a database (`StoreConfig.database`) everything but the
vectors is in PostgreSQL, and with a Chroma server as well the store needs no folder at all.

A running app answers from a `Snapshot` (BM25 index + generation). `refresh()` looks at the published generation
and swaps in the new index when it moved on (`watch()` does so every `reload_seconds` in a thread). Whenever an
index is loaded it is checked against the catalog (`Catalog.fingerprint`); one that does not match (an ingestion
was killed while it was saved, or is running) is rebuilt from the catalog in memory, never used stale.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vectorstore.chroma import (
    chunk_metadata,
    connect,
    open_collection,
    sentence_collection_name,
    sentence_metadata,
)
from vectorstore.config import StoreConfig
from vectorstore.embeddings import Embedder
from vectorstore.errors import StoreError
from vectorstore.lexical import LexicalIndex, LexicalIndexError
from vectorstore.records import Chunk, Document, Sentence, SentenceSpan
from vectorstore.state import MANIFEST_SCHEMA, SharedState, Snapshot, Watcher, open_state

log = logging.getLogger("openbaar.store")

__all__ = ["MANIFEST_SCHEMA", "Snapshot", "Store", "StoreError"]


def _describe(embedding: dict[str, Any]) -> str:
    return (
        f"{embedding.get('provider')} {embedding.get('model_id')} ({embedding.get('dimension')} dimensions)"
    )


class Store:
    """Everything ingestion writes and retrieval reads, behind one object.

    `create=True` (ingestion) makes what is missing; otherwise a store that was never published is refused:
    "store_missing" when it holds nothing, "store_incomplete" when an interrupted first ingestion left documents
    (`incomplete_ok=True` opens it anyway, for `stats`)."""

    def __init__(
        self,
        config: StoreConfig,
        embedder: Embedder,
        *,
        create: bool = False,
        incomplete_ok: bool = False,
        state: SharedState | None = None,
    ) -> None:
        self.config = config
        self.folder = Path(config.folder)
        self.embedder = embedder
        self._owns_state = state is None  # a state passed in is closed by whoever opened it
        self.state = state if state is not None else open_state(config, create=create)
        self.catalog = self.state.catalog
        try:
            manifest = self.state.read_manifest()
            if manifest is None and not create:
                documents = self.state.catalog.stats()["documents"] if self.state.has_documents() else 0
                if not documents:
                    raise StoreError("store_missing", {"store": config.location})
                if not incomplete_ok:
                    raise StoreError("store_incomplete", {"store": config.location, "documents": documents})
            if manifest is not None:
                self._check_embedder(manifest.get("embedding", {}))
                self._check_collection(manifest)
            self.complete = manifest is not None
            if not config.uses_chroma_server:
                self.folder.mkdir(parents=True, exist_ok=True)
            self._client = connect(config)
            self.collection, recorded = open_collection(self._client, config.collection, embedder.describe())
            self._check_embedder(recorded)
            self.sentence_collection, recorded = open_collection(
                self._client, sentence_collection_name(config.collection), embedder.describe()
            )
            self._check_embedder(recorded)
        except BaseException:
            if self._owns_state:
                self.state.close()
            raise
        self._snapshot: Snapshot | None = None
        self._pending: LexicalIndex | None = None  # built by rebuild_lexical, published by publish
        self._load_lock = threading.Lock()
        self._listeners: list[Callable[[Snapshot], None]] = []
        self._watcher: Watcher | None = None
        self.latest_generation = 0  # the published generation, as last seen

    # --- manifest -------------------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        return self.state.read_manifest()

    def _check_embedder(self, recorded: dict[str, Any]) -> None:
        if not recorded:
            return
        current = self.embedder.describe()
        if (recorded.get("provider"), recorded.get("model_id")) != (
            current["provider"],
            current["model_id"],
        ) or (int(recorded.get("dimension") or 0) != current["dimension"]):
            raise StoreError(
                "embedder_mismatch",
                {
                    "store": self.config.location,
                    "stored": _describe(recorded),
                    "configured": _describe(current),
                },
            )

    def _check_collection(self, manifest: dict[str, Any]) -> None:
        recorded = manifest.get("collection")
        if self.state.shared and recorded and recorded != self.config.collection:
            raise StoreError(
                "database_other_collection",
                {"store": self.config.location, "stored": recorded, "configured": self.config.collection},
            )

    def publish(
        self, chunking: dict[str, Any], rebuild: bool = False, changed: bool = False
    ) -> dict[str, Any]:
        """Check the saved BM25 index against the catalog (rebuilding and saving it when they differ, or when
        `rebuild`), then publish the store state; the generation grows when anything changed (`changed`: documents
        were written, so replicas reload their filter columns even when the index stayed the same)."""
        fingerprint = self.catalog.fingerprint()
        lexical = (
            self._pending if self._pending is not None and self._pending.fingerprint == fingerprint else None
        )
        if lexical is None and (rebuild or self.saved_lexical_fingerprint() != fingerprint):
            lexical = LexicalIndex.build(self.catalog.iter_chunks(), fingerprint=fingerprint)
        stats = self.catalog.stats()
        manifest = {
            "schema": MANIFEST_SCHEMA,
            "embedding": self.embedder.describe(),
            "chunking": chunking,
            "collection": self.config.collection,
            "chroma": f"http://{self.config.chroma_location}"
            if self.config.uses_chroma_server
            else "embedded",
            "counts": {
                "documents": stats["documents"],
                "chunks": stats["chunks"],
                "sentences": stats["sentences"],
            },
            "lexical": fingerprint,
        }
        manifest["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        stored = self.state.publish(manifest, lexical, changed)
        self._pending = None
        if lexical is not None:
            self._swap(Snapshot(lexical, int(stored["generation"])))
        self.latest_generation = int(stored["generation"])
        self.complete = True
        return stored

    def write_manifest(self, chunking: dict[str, Any]) -> dict[str, Any]:
        """Publish (see `publish`); kept for callers that rebuild first."""
        return self.publish(chunking)

    def saved_lexical_fingerprint(self) -> str | None:
        """The catalog fingerprint the saved BM25 index was built from (None: no usable saved index)."""
        return self.state.lexical_fingerprint()

    # --- writing ---------------------------------------------------------------------------------------------
    def replace_document(
        self,
        doc: Document,
        raw_hash: str,
        text_hash: str,
        chunks: list[Chunk],
        vectors: list[list[float]],
        sentences: Sequence[Sentence] = (),
        sentence_vectors: Sequence[list[float]] = (),
    ) -> None:
        """Remove any earlier chunks and sentences of the document, add the new ones, then record it in the
        catalog.

        The catalog is written last: after a crash in between, the next run sees the document as changed and
        writes it again (ids are stable, so it ends with exactly one copy)."""
        self.collection.delete(where={"doc_id": doc.doc_id})
        self.sentence_collection.delete(where={"doc_id": doc.doc_id})
        if chunks:
            self.collection.upsert(
                ids=[c.chunk_id for c in chunks],
                embeddings=vectors,
                documents=[c.text for c in chunks],
                metadatas=[chunk_metadata(doc, c) for c in chunks],
            )
        if sentences:
            self.sentence_collection.upsert(
                ids=[x.sentence_id for x in sentences],
                embeddings=list(sentence_vectors),
                metadatas=[sentence_metadata(doc, x) for x in sentences],
            )
        self.catalog.put(doc, raw_hash, text_hash, chunks, sentences)

    def delete_documents(self, doc_ids: list[str]) -> int:
        """Delete documents and their chunks; returns the number of chunks removed."""
        removed = 0
        for doc_id in doc_ids:
            removed += len(self.catalog.chunk_ids(doc_id))
            self.collection.delete(where={"doc_id": doc_id})
            self.sentence_collection.delete(where={"doc_id": doc_id})
        self.catalog.delete(doc_ids)
        return removed

    def rebuild_lexical(self) -> None:
        """Build the BM25 index from the catalog now; `publish` saves it."""
        self._pending = LexicalIndex.build(self.catalog.iter_chunks(), fingerprint=self.catalog.fingerprint())

    # --- the snapshot a running app answers from ------------------------------------------------------------
    @property
    def lexical(self) -> LexicalIndex:
        return self.snapshot().lexical

    @property
    def generation(self) -> int:
        """The generation this process answers from."""
        return self.snapshot().generation

    def snapshot(self) -> Snapshot:
        snap = self._snapshot
        if snap is None:
            with self._load_lock:
                if self._snapshot is None:
                    self._snapshot = self._load()
                snap = self._snapshot
        return snap

    def _load(self) -> Snapshot:
        """The saved BM25 index of the published generation, or one rebuilt from the catalog when the saved one
        is missing, unreadable or does not match the catalog."""
        generation = self.state.generation()  # first: an index published meanwhile is only newer
        self.latest_generation = max(self.latest_generation, generation)
        fingerprint = self.catalog.fingerprint()
        try:
            index = self.state.load_lexical()
            problem = None if index.fingerprint == fingerprint else "it does not match the catalog"
        except LexicalIndexError as exc:
            index, problem = None, str(exc)
        if index is not None and problem is None:
            return Snapshot(index, generation)
        log.warning(
            "the saved BM25 index of %s is not usable (%s): rebuilt from the catalog in memory;"
            " the next `openbaar ingest` saves it",
            self.config.location,
            problem,
        )
        return Snapshot(
            LexicalIndex.build(self.catalog.iter_chunks(), fingerprint=fingerprint), generation, rebuilt=True
        )

    def _swap(self, snap: Snapshot) -> None:
        self._snapshot = snap  # one reference: a request holds the old snapshot or the new one, never a mix
        for listener in list(self._listeners):
            try:
                listener(snap)
            except Exception:
                log.warning("a reload listener failed", exc_info=True)

    def refresh(self) -> bool:
        """Load the published generation when it is newer than the one answered from; True when swapped."""
        generation = self.state.generation()
        self.latest_generation = generation
        current = self._snapshot
        if current is not None and current.generation == generation:
            return False
        with self._load_lock:
            if self._snapshot is not None and self._snapshot.generation == generation and current is not None:
                return False
            snap = self._load()
        self._swap(snap)
        log.info(
            "store generation %s loaded (%d chunks in the BM25 index)",
            snap.generation,
            len(snap.lexical.chunk_ids),
        )
        return True

    def on_reload(self, listener: Callable[[Snapshot], None]) -> None:
        """Call `listener(snapshot)` after every swap (e.g. to rebuild filter caches before the next question)."""
        self._listeners.append(listener)

    def watch(self, interval: float | None = None) -> Watcher:
        """Look for a new generation every `interval` seconds (default: the config's `reload_seconds`)."""
        if self._watcher is None:
            self._watcher = Watcher(self.refresh, interval or self.config.reload_seconds).start()
        return self._watcher

    # --- reading ---------------------------------------------------------------------------------------------

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of analysed tokens in the current BM25 index."""
        return self.lexical.idf(tokens)

    def sentences(self, doc_id: str) -> list[SentenceSpan]:
        """The stored sentences of a document, in order (spans and ids)."""
        return self.catalog.sentences(doc_id)

    def sentence_vectors(self, sentence_ids: Sequence[str]) -> dict[str, list[float]]:
        """Sentence id -> its vector, for the ids that are stored."""
        if not sentence_ids:
            return {}
        try:
            got = self.sentence_collection.get(ids=list(sentence_ids), include=["embeddings"])
        except Exception as exc:
            # Embedded Chroma in a long-running app can fail to read vectors another process wrote meanwhile
            # (a live `openbaar ingest`): the answer is then chosen without them, as when the embedder is down.
            log.warning("sentence vectors unavailable (%s): answering without them", type(exc).__name__)
            return {}
        return dict(zip(got["ids"], got["embeddings"], strict=True))

    def nearest_sentences(
        self, vector: list[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, str, int, int, float]]:
        """(sentence id, doc id, start, end, cosine similarity) of the `n` sentences nearest to `vector`."""
        if n <= 0:
            return []
        result = self.sentence_collection.query(
            query_embeddings=[vector], n_results=n, where=where, include=["metadatas", "distances"]
        )
        return [
            (sid, str(meta["doc_id"]), int(meta["start"]), int(meta["end"]), 1.0 - float(dist))
            for sid, meta, dist in zip(
                result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

    def stats(self) -> dict[str, Any]:
        stats = self.catalog.stats()
        stats["vectors"] = self.collection.count()
        stats["sentence_vectors"] = self.sentence_collection.count()
        stats["store"] = self.config.location
        manifest = self.read_manifest()
        stats["manifest"] = manifest
        stats["complete"] = manifest is not None
        stats["generation"] = int((manifest or {}).get("generation") or 0)
        stats["lexical_current"] = self.saved_lexical_fingerprint() == self.catalog.fingerprint()
        return stats

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        if self._owns_state:
            self.state.close()
