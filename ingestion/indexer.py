"""Idempotent ingestion: files -> documents -> clean -> chunks and sentences -> embeddings -> store, with one
coordinator at a time.

The coordinator (`ingest`) reads every file, skips what is unchanged and puts the rest in the run's work queue;
it then processes queued documents itself, together with any `openbaar worker` processes that joined (only with
the shared state in a database: see `vectorstore.state.WorkQueue`), and ends with the global steps: prune, the
BM25 index checked against the catalog (rebuilt when they differ), a new generation published."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingestion.chunking import chunk_text
from ingestion.clean import prepare_document
from ingestion.config import IngestConfig
from ingestion.discover import iter_files
from ingestion.loaders import load_file
from ingestion.loaders.base import LoadFailure
from ingestion.sentences import document_sentences
from ingestion.tokens import DEFAULT_ENCODING
from vectorstore.config import StoreConfig
from vectorstore.embeddings import BUNDLE_FILE, CachedEmbedder, import_bundle
from vectorstore.errors import EmbeddingError, StoreError
from vectorstore.records import Document
from vectorstore.state import WorkQueue, acquire_file_lock, open_state
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
    generation: int = 0  # the store's generation after this run

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


def acquire_writer_lock(folder: Path, timeout: float):
    """The store folder's writer lock; raises StoreError('ingest_running') when another ingestion holds it."""
    return acquire_file_lock(folder, timeout)


def document_payload(doc: Document) -> dict[str, Any]:
    """A document as JSON, for the work queue (workers on other machines need no access to the files)."""
    data = asdict(doc)
    data["source_path"] = str(doc.source_path)
    return data


def payload_document(data: dict[str, Any]) -> Document:
    return Document(**{**data, "source_path": Path(data["source_path"])})


def ingest(
    paths: Sequence[Path],
    config: IngestConfig,
    store_config: StoreConfig,
    embedder: CachedEmbedder,
    *,
    prune: bool = False,
    progress: Progress = _no_progress,
) -> IngestSummary:
    """Bring the store in line with the documents under `paths`, as the coordinator of the run: holds the writer
    lock throughout, so a second coordinator is refused. With a database, `openbaar worker` processes on other
    machines may take part (they claim documents from the run's queue); the global steps (prune, BM25 index,
    publishing the new generation) are the coordinator's."""
    started = time.perf_counter()
    state = open_state(store_config, create=True)
    try:
        lock = state.writer_lock(config.lock_timeout)
    except BaseException:
        state.close()
        raise
    try:
        store = Store(store_config, embedder, create=True, state=state)
        queue = state.work_queue()
        try:
            summary = _run(paths, config, store, embedder, prune, progress, queue)
        finally:
            queue.close()
            store.close()
    finally:
        lock.release()
        state.close()
    summary.seconds = time.perf_counter() - started
    return summary


def import_bundles(paths: Sequence[Path], embedder: CachedEmbedder) -> int:
    """Load precomputed vectors shipped in a given folder or one above it (BUNDLE_FILE: `samples/` holds the bundle
    of `samples/seed/` too) into the embedding cache."""
    added = 0
    seen: set[Path] = set()
    for path in (Path(p).resolve() for p in paths):
        start = path if path.is_dir() else path.parent
        for folder in (start, *start.parents):
            bundle = folder / BUNDLE_FILE
            if bundle in seen or not bundle.is_file():
                continue
            seen.add(bundle)
            try:
                added += import_bundle(embedder.cache, bundle)
            except (OSError, ValueError, KeyError):
                continue  # a damaged bundle only costs time: the texts are embedded instead
    return added


def _run(
    paths: Sequence[Path],
    config: IngestConfig,
    store: Store,
    embedder: CachedEmbedder,
    prune: bool,
    progress: Progress,
    queue: WorkQueue,
) -> IngestSummary:
    summary = IngestSummary(store=store.config.location)
    import_bundles(paths, embedder)
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

    # Phase 2: skip what is unchanged; the rest goes into the run's work queue.
    seen: set[str] = set()
    work: list[tuple[str, dict[str, Any]]] = []
    for doc in documents:
        if doc.doc_id in seen:
            summary.failures.append(LoadFailure(doc.source_path, "duplicate_id", doc.doc_id))
            continue
        seen.add(doc.doc_id)
        digest = raw_hash(doc, chunking)
        previous = states.get(doc.doc_id)
        if previous is not None and previous.raw_hash == digest:
            summary.unchanged += 1
            summary.chunks_unchanged += previous.n_chunks
            if previous.source_path != str(doc.source_path):
                store.catalog.touch_source(doc.doc_id, str(doc.source_path))
            continue
        previous_chunks = previous.n_chunks if previous is not None else None
        work.append(
            (
                doc.doc_id,
                {"doc": document_payload(doc), "raw_hash": digest, "previous_chunks": previous_chunks},
            )
        )

    # Phase 3: clean, chunk, embed and write each queued document (with any workers that joined the run).
    queue.start(work, {"chunking": chunking})
    total = len(work)
    progress("index", 0, total)
    work_queue(queue, store, embedder, chunking, lambda: progress("index", total - queue.remaining(), total))
    progress("index", total, total)
    _tally(summary, queue.results())
    if queue.aborted() is not None and summary.aborted is None:
        summary.aborted = queue.aborted()

    # Phase 4 (the coordinator's): prune, BM25 index checked against the catalog, a new generation.
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
    manifest = store.publish(chunking, changed=bool(summary.added or summary.updated or summary.removed))
    queue.end()
    summary.documents_total = manifest["counts"]["documents"]
    summary.chunks_total = manifest["counts"]["chunks"]
    summary.generation = int(manifest["generation"])
    summary.failed = len(summary.failures)
    return summary


def _tally(summary: IngestSummary, results: list[dict[str, Any]]) -> None:
    """Add the documents' results to the summary."""
    for r in results:
        outcome = r["outcome"]
        summary.chunks_embedded += r.get("chunks_embedded", 0)
        summary.sentences_embedded += r.get("sentences_embedded", 0)
        if outcome in ("added", "updated"):
            summary.chunks_added += r["chunks"]
            if outcome == "added":
                summary.added += 1
            else:
                summary.updated += 1
                summary.chunks_removed += r.get("previous_chunks") or 0
        elif outcome == "duplicate":
            summary.duplicates += 1
            summary.duplicate_of[r["doc_id"]] = r["duplicate_of"]
        elif outcome == "empty":
            summary.failures.append(LoadFailure(Path(r["source_path"]), "empty", r["detail"]))
        elif outcome == "aborted":
            summary.failures.append(LoadFailure(Path(r["source_path"]), "embedding_failed", r["detail"]))
            summary.aborted = r["detail"]


def work_queue(
    queue: WorkQueue,
    store: Store,
    embedder: CachedEmbedder,
    chunking: dict[str, Any],
    on_done: Callable[[], None] = lambda: None,
    poll: float = 0.5,
) -> int:
    """Claim and process documents until the run has none left (waiting for documents other workers hold: one
    whose worker dies comes back and is taken here). Returns how many this process did."""
    done = 0
    while True:
        claimed = queue.claim()
        if claimed is None:
            if queue.aborted() is not None or queue.remaining() == 0:
                return done
            time.sleep(poll)
            continue
        try:
            result = process_document(claimed.payload, store, embedder, chunking, queue)
        except BaseException:
            queue.release(claimed)
            raise
        queue.finish(claimed, result)
        done += 1
        if result["outcome"] == "aborted":
            queue.abort(result["detail"])
        on_done()


def process_document(
    item: dict[str, Any], store: Store, embedder: CachedEmbedder, chunking: dict[str, Any], queue: WorkQueue
) -> dict[str, Any]:
    """Clean, chunk, split into sentences, embed and write one queued document; its result for the summary."""
    doc = payload_document(item["doc"])
    result: dict[str, Any] = {
        "doc_id": doc.doc_id,
        "source_path": str(doc.source_path),
        "previous_chunks": item.get("previous_chunks"),
    }
    clean = prepare_document(doc)
    if not clean.text.strip():
        return {**result, "outcome": "empty", "detail": f"no text left in {doc.doc_id}"}
    t_hash = text_hash(clean.text)
    owner = store.catalog.doc_with_text_hash(t_hash)
    if owner is None or owner == doc.doc_id:
        owner = queue.own_text(t_hash, doc.doc_id)
    if owner != doc.doc_id:
        return {**result, "outcome": "duplicate", "duplicate_of": owner}
    chunks = chunk_text(doc.doc_id, clean.text, chunking["chunk_tokens"], chunking["chunk_overlap"])
    sentences = document_sentences(doc.doc_id, clean.text)
    before = embedder.computed
    try:
        vectors = embedder.embed_documents([c.text for c in chunks])
        middle = embedder.computed
        sentence_vectors = embedder.embed_documents([x.text for x in sentences])
    except EmbeddingError as exc:
        return {
            **result,
            "outcome": "aborted",
            "detail": str(exc),
            "chunks_embedded": embedder.computed - before,
        }
    store.replace_document(clean, item["raw_hash"], t_hash, chunks, vectors, sentences, sentence_vectors)
    return {
        **result,
        "outcome": "added" if item.get("previous_chunks") is None else "updated",
        "chunks": len(chunks),
        "chunks_embedded": middle - before,
        "sentences_embedded": embedder.computed - middle,
    }


@dataclass
class WorkerSummary:
    """What one `openbaar worker` did; `--json` prints `to_dict()`."""

    store: str
    joined: bool = False
    documents: int = 0
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


def work(store_config: StoreConfig, embedder: CachedEmbedder, *, wait: float = 30.0) -> WorkerSummary:
    """Take part in the running ingestion: wait up to `wait` s for a coordinator's run, then claim and process
    documents until none is left. Needs the shared state in a database and a Chroma server."""
    started = time.perf_counter()
    if store_config.database is None or not store_config.uses_chroma_server:
        raise StoreError("worker_needs_servers", {})
    summary = WorkerSummary(store=store_config.location)
    store = Store(store_config, embedder, create=True)
    queue = store.state.work_queue()
    try:
        run = queue.join(wait)
        if run is not None:
            summary.joined = True
            before = embedder.computed
            summary.documents = work_queue(queue, store, embedder, run["chunking"])
            summary.chunks_embedded = embedder.computed - before
    finally:
        queue.close()
        store.close()
    summary.seconds = time.perf_counter() - started
    return summary
