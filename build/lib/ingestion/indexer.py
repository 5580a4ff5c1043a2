"""Idempotent ingestion: files -> documents -> clean -> chunks and sentences -> embeddings -> store, with one
writer at a time."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ingestion.chunking import chunk_text
from ingestion.clean import prepare_document
from ingestion.config import IngestConfig
from ingestion.discover import iter_files
from ingestion.loaders import load_file
from ingestion.loaders.base import LoadFailure
from ingestion.sentences import document_sentences
from ingestion.tokens import DEFAULT_ENCODING
from vectorstore.config import StoreConfig
from vectorstore.embeddings import CachedEmbedder
from vectorstore.errors import EmbeddingError, StoreError
from vectorstore.records import Document
from vectorstore.store import Store

# Bump when cleaning, chunking or sentence splitting changes in a way that should re-process every document.
PIPELINE_VERSION = 2  # 2: sentences embedded on their own

Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


@dataclass
class IngestSummary:
    """What one ingestion run did; `--json` prints `to_dict()`."""

    store: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    duplicates: int = 0
    failed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    documents_total: int = 0
    chunks_total: int = 0
    files: int = 0
    seconds: float = 0.0
    failures: list[LoadFailure] = field(default_factory=list)
    duplicate_of: dict[str, str] = field(default_factory=dict)
    aborted: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.aborted is None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failures"] = [
            {"path": str(f.path), "line": f.line, "code": f.code, "detail": f.detail} for f in self.failures
        ]
        data["seconds"] = round(self.seconds, 3)
        return data


def chunking_settings(config: IngestConfig) -> dict[str, Any]:
    """The chunking parameters recorded in the manifest (and in every document's hash)."""
    return {
        "tokenizer": DEFAULT_ENCODING,
        "chunk_tokens": config.chunk_tokens,
        "chunk_overlap": config.chunk_overlap,
        "pipeline_version": PIPELINE_VERSION,
    }


def raw_hash(doc: Document, chunking: dict[str, Any]) -> str:
    """Hash of everything that determines a document's stored form, before any cleaning."""
    payload = json.dumps(
        [doc.text, doc.metadata(), doc.extra, chunking], sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def acquire_writer_lock(folder: Path, timeout: float) -> FileLock:
    """The store's writer lock; raises StoreError('ingest_running') when another ingestion holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / ".ingest.lock"))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise StoreError("ingest_running", {"store": str(folder)}) from exc
    return lock


def ingest(
    paths: Sequence[Path],
    config: IngestConfig,
    store_config: StoreConfig,
    embedder: CachedEmbedder,
    *,
    prune: bool = False,
    progress: Progress = _no_progress,
) -> IngestSummary:
    """Bring the store in line with the documents under `paths`. Holds the writer lock throughout."""
    started = time.perf_counter()
    lock = acquire_writer_lock(Path(store_config.folder), config.lock_timeout)
    try:
        store = Store(store_config, embedder, create=True)
        try:
            summary = _run(paths, config, store, embedder, prune, progress)
        finally:
            store.close()
    finally:
        lock.release()
    summary.seconds = time.perf_counter() - started
    return summary


def _run(
    paths: Sequence[Path],
    config: IngestConfig,
    store: Store,
    embedder: CachedEmbedder,
    prune: bool,
    progress: Progress,
) -> IngestSummary:
    summary = IngestSummary(store=str(store.folder))
    chunking = chunking_settings(config)
    max_bytes = config.max_file_bytes
    states = store.catalog.states()

    # Phase 1: read every file (cheap), so the slow phase can show a real ETA.
    files = list(iter_files([Path(p) for p in paths]))
    summary.files = len(files)
    documents: list[Document] = []
    failed_sources: set[str] = set()
    for n, (path, root) in enumerate(files, 1):
        result = load_file(path, root, max_bytes)
        summary.failures.extend(result.failures)
        if result.failures and not result.documents:
            failed_sources.add(str(path.resolve()))
        documents.extend(result.documents)
        progress("read", n, len(files))

    # Phase 2: skip what is unchanged, clean/chunk/embed/write the rest.
    seen: set[str] = set()
    text_owner: dict[str, str] = {}
    changed = False
    for n, doc in enumerate(documents, 1):
        progress("index", n - 1, len(documents))
        if doc.doc_id in seen:
            summary.failures.append(LoadFailure(doc.source_path, "duplicate_id", doc.doc_id))
            continue
        seen.add(doc.doc_id)
        digest = raw_hash(doc, chunking)
        previous = states.get(doc.doc_id)
        if previous is not None and previous.raw_hash == digest:
            summary.unchanged += 1
            summary.chunks_unchanged += previous.n_chunks
            text_owner.setdefault(previous.text_hash, doc.doc_id)
            if previous.source_path != str(doc.source_path):
                store.catalog.touch_source(doc.doc_id, str(doc.source_path))
            continue
        clean = prepare_document(doc)
        if not clean.text.strip():
            summary.failures.append(LoadFailure(doc.source_path, "empty", f"no text left in {doc.doc_id}"))
            continue
        t_hash = text_hash(clean.text)
        owner = text_owner.get(t_hash) or store.catalog.doc_with_text_hash(t_hash)
        if owner is not None and owner != doc.doc_id:
            summary.duplicates += 1
            summary.duplicate_of[doc.doc_id] = owner
            continue
        text_owner[t_hash] = doc.doc_id
        chunks = chunk_text(doc.doc_id, clean.text, config.chunk_tokens, config.chunk_overlap)
        sentences = document_sentences(doc.doc_id, clean.text)
        before = embedder.computed
        try:
            vectors = embedder.embed_documents([c.text for c in chunks])
            middle = embedder.computed
            sentence_vectors = embedder.embed_documents([x.text for x in sentences])
        except EmbeddingError as exc:
            summary.failures.append(LoadFailure(doc.source_path, "embedding_failed", str(exc)))
            summary.aborted = str(exc)
            break
        summary.chunks_embedded += middle - before
        summary.sentences_embedded += embedder.computed - middle
        store.replace_document(clean, digest, t_hash, chunks, vectors, sentences, sentence_vectors)
        changed = True
        summary.chunks_added += len(chunks)
        if previous is None:
            summary.added += 1
        else:
            summary.updated += 1
            summary.chunks_removed += previous.n_chunks
    progress("index", len(documents), len(documents))

    if prune and summary.aborted is None:
        roots = [Path(p).resolve() for p in paths]
        gone = [
            s.doc_id
            for s in store.catalog.states().values()
            if s.doc_id not in seen
            and s.source_path not in failed_sources
            and any(Path(s.source_path).is_relative_to(r) for r in roots)
        ]
        if gone:
            summary.chunks_removed += store.delete_documents(gone)
            summary.removed = len(gone)
            changed = True

    if changed or not (store.folder / "lexical").exists():
        store.rebuild_lexical()
    manifest = store.write_manifest(chunking)
    summary.documents_total = manifest["counts"]["documents"]
    summary.chunks_total = manifest["counts"]["chunks"]
    summary.failed = len(summary.failures)
    return summary
