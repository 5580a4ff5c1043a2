"""Precomputed embeddings shipped beside documents (`FOLDER/.openbaar-embeddings.npz`): written once by the
maintainers (`make sample-embeddings`), loaded into the embedding cache by `openbaar ingest FOLDER`, so the bundled
samples are ingested without embedding anything."""

from __future__ import annotations

from pathlib import Path

from ingestion.chunking import chunk_text
from ingestion.clean import prepare_document
from ingestion.config import IngestConfig
from ingestion.discover import iter_files
from ingestion.loaders import load_file
from ingestion.sentences import document_sentences
from vectorstore.embeddings import BUNDLE_FILE, CachedEmbedder, EmbeddingCache, write_bundle


def embedded_texts(folder: Path, config: IngestConfig) -> list[str]:
    """Every text that ingesting `folder` embeds: its chunks and its sentences."""
    texts: set[str] = set()
    for path, root in iter_files([folder]):
        for doc in load_file(path, root, config.max_file_bytes).documents:
            clean = prepare_document(doc)
            texts.update(
                c.text
                for c in chunk_text(clean.doc_id, clean.text, config.chunk_tokens, config.chunk_overlap)
            )
            texts.update(s.text for s in document_sentences(clean.doc_id, clean.text))
    return sorted(texts)


def bundle_folder(folder: Path, config: IngestConfig, embedder: CachedEmbedder) -> tuple[Path, int]:
    """Write FOLDER/BUNDLE_FILE with the vectors of everything ingesting it embeds; (path, number of vectors)."""
    texts = embedded_texts(folder, config)
    vectors = embedder.embed_documents(texts)
    keyed = {EmbeddingCache.key(embedder.model_id, t): v for t, v in zip(texts, vectors, strict=True)}
    target = folder / BUNDLE_FILE
    write_bundle(target, keyed)
    return target, len(keyed)
