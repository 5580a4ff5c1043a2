"""The store: two Chroma collections (chunk vectors and sentence vectors; embedded or on a Chroma server), the
catalog, the BM25 index and a manifest.

Layout of `<store>/`: `chroma/` (embedded Chroma data), `catalog.sqlite`, `lexical/`, `manifest.json`,
`embeddings.sqlite` (cache). With a Chroma server the vectors live on the server; the rest stays in the folder.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vectorstore.catalog import Catalog
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
from vectorstore.lexical import LexicalIndex
from vectorstore.records import Chunk, Document, Sentence, SentenceSpan

MANIFEST_SCHEMA = 1


def _describe(embedding: dict[str, Any]) -> str:
    return (
        f"{embedding.get('provider')} {embedding.get('model_id')} ({embedding.get('dimension')} dimensions)"
    )


class Store:
    """Everything ingestion writes and retrieval reads, behind one object."""

    def __init__(self, config: StoreConfig, embedder: Embedder, *, create: bool = False) -> None:
        self.config = config
        self.folder = Path(config.folder)
        self.embedder = embedder
        self.manifest_path = self.folder / "manifest.json"
        manifest = self.read_manifest()
        if manifest is None and not create:
            raise StoreError("store_missing", {"store": str(self.folder)})
        if manifest is not None:
            self._check_embedder(manifest.get("embedding", {}))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.folder / "catalog.sqlite")
        self._client = connect(config)
        self.collection, recorded = open_collection(self._client, config.collection, embedder.describe())
        self._check_embedder(recorded)
        self.sentence_collection, recorded = open_collection(
            self._client, sentence_collection_name(config.collection), embedder.describe()
        )
        self._check_embedder(recorded)
        self._lexical: LexicalIndex | None = None

    # --- manifest ---------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(
                "manifest_unreadable", {"path": str(self.manifest_path), "error": str(exc)}
            ) from exc

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
                {"store": str(self.folder), "stored": _describe(recorded), "configured": _describe(current)},
            )

    def write_manifest(self, chunking: dict[str, Any]) -> dict[str, Any]:
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
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = self.manifest_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        tmp.replace(self.manifest_path)
        return manifest

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
        self._lexical = None

    def delete_documents(self, doc_ids: list[str]) -> int:
        """Delete documents and their chunks; returns the number of chunks removed."""
        removed = 0
        for doc_id in doc_ids:
            removed += len(self.catalog.chunk_ids(doc_id))
            self.collection.delete(where={"doc_id": doc_id})
            self.sentence_collection.delete(where={"doc_id": doc_id})
        self.catalog.delete(doc_ids)
        self._lexical = None
        return removed

    def rebuild_lexical(self) -> None:
        LexicalIndex.build(self.catalog.iter_chunks()).save(self.folder / "lexical")
        self._lexical = None

    # --- reading ---------------------------------------------------------------------------------------------
    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            self._lexical = LexicalIndex.load(self.folder / "lexical")
        return self._lexical

    def sentences(self, doc_id: str) -> list[SentenceSpan]:
        """The stored sentences of a document, in order (spans and ids)."""
        return self.catalog.sentences(doc_id)

    def sentence_vectors(self, sentence_ids: Sequence[str]) -> dict[str, list[float]]:
        """Sentence id -> its vector, for the ids that are stored."""
        if not sentence_ids:
            return {}
        got = self.sentence_collection.get(ids=list(sentence_ids), include=["embeddings"])
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
        stats["store"] = str(self.folder)
        stats["manifest"] = self.read_manifest()
        return stats

    def close(self) -> None:
        self.catalog.close()
