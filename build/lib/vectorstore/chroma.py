"""The Chroma side of the store: a client (embedded or a Chroma server) and the collection of chunk vectors.

The collection records the embedder that made its vectors (`embedding_*` metadata); opening it with another one
is refused. Vectors always come from our embedder: the collection has no embedding function, so Chroma never
loads its default model (which it would download).
"""

from __future__ import annotations

from typing import Any

from vectorstore.config import StoreConfig
from vectorstore.dates import date_sort_key
from vectorstore.errors import StoreError
from vectorstore.records import Chunk, Document, Sentence


def connect(config: StoreConfig):
    """A Chroma client for the configuration; StoreError('chroma_unreachable') when it cannot be opened."""
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    try:
        if config.uses_chroma_server:
            return chromadb.HttpClient(
                host=config.chroma_host,
                port=config.chroma_port,
                ssl=config.chroma_ssl,
                settings=chroma_settings,
            )
        return chromadb.PersistentClient(path=str(config.folder / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(
            "chroma_unreachable", {"where": config.chroma_location, "error": type(exc).__name__}
        ) from exc


def open_collection(client, name: str, embedder_description: dict[str, Any]):
    """The collection `name`, created with the embedder's description when new; (collection, recorded description)."""
    collection = client.get_or_create_collection(
        name,
        embedding_function=None,
        metadata={"hnsw:space": "cosine", **{f"embedding_{k}": v for k, v in embedder_description.items()}},
    )
    recorded = {
        k.removeprefix("embedding_"): v
        for k, v in (collection.metadata or {}).items()
        if k.startswith("embedding_")
    }
    return collection, recorded


def sentence_collection_name(collection: str) -> str:
    """The collection of sentence vectors beside the chunk collection `collection`."""
    return f"{collection}_sentences"


def sentence_metadata(doc: Document, sentence: Sentence) -> dict[str, Any]:
    """Metadata stored with each sentence vector: where it is, and the filter fields of its document."""
    meta: dict[str, Any] = {"doc_id": doc.doc_id, "start": sentence.start, "end": sentence.end}
    meta.update({k: v for k, v in doc.metadata().items() if k in ("language", "type", "speaker", "date")})
    key = date_sort_key(doc.date)
    if key is not None:
        meta["date_key"] = key
    return meta


def chunk_metadata(doc: Document, chunk: Chunk) -> dict[str, Any]:
    """Metadata stored with each vector (Chroma accepts no None values, so missing ones are left out)."""
    meta: dict[str, Any] = {
        "doc_id": doc.doc_id,
        "chunk_index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
    }
    meta.update(doc.metadata())
    key = date_sort_key(doc.date)
    if key is not None:
        meta["date_key"] = key
    return meta
