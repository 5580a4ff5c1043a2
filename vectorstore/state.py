"""The shared state of a store, behind one interface with two implementations:

- `FileState`: files in the store folder (`catalog.sqlite`, `lexical/`, `manifest.json`, `embeddings.sqlite`,
  `.ingest.lock`), today's zero-configuration default;
- `vectorstore.postgres.PostgresState`: the same things in a PostgreSQL database (`OPENBAAR_DB_URL`), so app
  replicas and ingestion workers on several machines share them.

What they hold: the catalog (texts that citations are checked against), the store state that the manifest
records (embedder, chunking, counts) with a **generation** number that grows by one at every published change,
the saved BM25 index (with the catalog fingerprint it was built from), the passage embedding cache, the writer
lock (released when its holder dies) and the queue that splits an ingestion run over workers.

Vectors are not here: they stay in Chroma (embedded in the folder, or a Chroma server).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vectorstore.catalog import Catalog, CatalogBase
from vectorstore.config import StoreConfig
from vectorstore.errors import StoreError
from vectorstore.lexical import LexicalIndex, LexicalIndexError

MANIFEST_SCHEMA = 1
# Fields of the manifest that do not count as a change (a manifest equal in all others keeps its generation).
_VOLATILE = ("updated_at", "generation")


def same_content(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    if a is None:
        return False
    strip = lambda m: {k: v for k, v in m.items() if k not in _VOLATILE}  # noqa: E731
    return strip(a) == strip(b)


class WriterLock(Protocol):
    def release(self) -> None: ...


@dataclass
class Claimed:
    """A document claimed from a work queue: until `finish`, no other worker gets it; if the worker dies first,
    it goes back to the queue."""

    item_id: int
    doc_id: str
    payload: dict[str, Any]
    handle: Any = None  # the implementation's own (e.g. the transaction holding the row lock)


class WorkQueue(Protocol):
    """The documents of one ingestion run, split between the workers that take part in it."""

    def start(self, items: Sequence[tuple[str, dict[str, Any]]], run: dict[str, Any]) -> None:
        """Coordinator: a new run with these (doc_id, payload) items; `run` is shared with workers."""

    def join(self, wait: float) -> dict[str, Any] | None:
        """Worker: the running run's description (waiting up to `wait` s for one), or None."""

    def claim(self) -> Claimed | None:
        """The next unclaimed document, or None when none is free right now."""

    def finish(self, claimed: Claimed, result: dict[str, Any]) -> None:
        """Record a document's result; it is done."""

    def release(self, claimed: Claimed) -> None:
        """Give a claimed document back unfinished (it stays pending)."""

    def own_text(self, text_hash: str, doc_id: str) -> str:
        """The document that owns a cleaned text in this run: the first to claim it (itself or another)."""

    def remaining(self) -> int:
        """Documents not finished yet (claimed or not)."""

    def abort(self, reason: str) -> None:
        """Stop handing out documents (an embedder failure: the rest waits for the next run)."""

    def aborted(self) -> str | None: ...

    def results(self) -> list[dict[str, Any]]:
        """The result of every finished document, in queue order."""

    def end(self) -> None:
        """Coordinator: the run is over; forget it."""

    def close(self) -> None: ...


class LocalQueue:
    """The work queue of one process (the file backend): a list, worked through in order."""

    def __init__(self) -> None:
        self._items: list[tuple[str, dict[str, Any]]] = []
        self._next = 0
        self._results: dict[int, dict[str, Any]] = {}
        self._texts: dict[str, str] = {}
        self._aborted: str | None = None
        self._run: dict[str, Any] | None = None

    def start(self, items: Sequence[tuple[str, dict[str, Any]]], run: dict[str, Any]) -> None:
        self._items, self._next, self._results, self._texts = list(items), 0, {}, {}
        self._aborted, self._run = None, run

    def join(self, wait: float) -> dict[str, Any] | None:
        return self._run

    def claim(self) -> Claimed | None:
        if self._aborted is not None or self._next >= len(self._items):
            return None
        doc_id, payload = self._items[self._next]
        self._next += 1
        return Claimed(self._next - 1, doc_id, payload)

    def finish(self, claimed: Claimed, result: dict[str, Any]) -> None:
        self._results[claimed.item_id] = result

    def release(self, claimed: Claimed) -> None:
        return None

    def own_text(self, text_hash: str, doc_id: str) -> str:
        return self._texts.setdefault(text_hash, doc_id)

    def remaining(self) -> int:
        return len(self._items) - len(self._results) if self._aborted is None else 0

    def abort(self, reason: str) -> None:
        self._aborted = reason

    def aborted(self) -> str | None:
        return self._aborted

    def results(self) -> list[dict[str, Any]]:
        return [self._results[i] for i in sorted(self._results)]

    def end(self) -> None:
        self._run = None

    def close(self) -> None:
        return None


class SharedState:
    """What every implementation offers (see the module docstring)."""

    catalog: CatalogBase
    location: str = ""
    shared = False  # True when other machines see the same state (a database)

    def read_manifest(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def generation(self) -> int:
        """The generation of the published state (0: nothing published yet); cheap enough to poll."""
        raise NotImplementedError

    def publish(
        self, manifest: dict[str, Any], lexical: LexicalIndex | None = None, changed: bool = False
    ) -> dict[str, Any]:
        """Save `lexical` (when given) and `manifest`, as one step where the engine allows; the generation grows
        by one when either changed, or when `changed` (documents were written: their metadata may differ).
        Returns the manifest as stored (with its generation)."""
        raise NotImplementedError

    def load_lexical(self) -> LexicalIndex:
        """The saved BM25 index; LexicalIndexError when there is none that can be used."""
        raise NotImplementedError

    def lexical_fingerprint(self) -> str | None:
        """The catalog fingerprint the saved BM25 index was built from, without loading it (None: none saved)."""
        raise NotImplementedError

    def has_documents(self) -> bool:
        try:
            return self.catalog.stats()["documents"] > 0
        except Exception:
            return False

    def writer_lock(self, timeout: float) -> WriterLock:
        """The one-writer lock; StoreError('ingest_running') when another holder keeps it for `timeout` s."""
        raise NotImplementedError

    def work_queue(self) -> WorkQueue:
        return LocalQueue()

    def close(self) -> None:
        self.catalog.close()


def _next_manifest(stored: dict[str, Any] | None, manifest: dict[str, Any], changed: bool) -> dict[str, Any]:
    manifest = {**manifest, "schema": MANIFEST_SCHEMA}
    generation = int((stored or {}).get("generation") or 0)
    if changed or not same_content(stored, manifest):
        generation += 1
    return {**manifest, "generation": generation}


class FileState(SharedState):
    """The store folder: `catalog.sqlite`, `lexical/`, `manifest.json`, `.ingest.lock`."""

    def __init__(self, folder: Path, create: bool) -> None:
        self.folder = folder
        self.location = str(folder)
        self.manifest_path = folder / "manifest.json"
        catalog_path = folder / "catalog.sqlite"
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(catalog_path, readonly=not create and not catalog_path.exists())
        self._exists = create or catalog_path.exists()

    def has_documents(self) -> bool:
        return self._exists and super().has_documents()

    def read_manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(
                "manifest_unreadable", {"path": str(self.manifest_path), "error": str(exc)}
            ) from exc

    def generation(self) -> int:
        try:
            return int(json.loads(self.manifest_path.read_text()).get("generation") or 0)
        except (OSError, ValueError, AttributeError):
            return 0

    def publish(
        self, manifest: dict[str, Any], lexical: LexicalIndex | None = None, changed: bool = False
    ) -> dict[str, Any]:
        if lexical is not None:
            lexical.save(self.folder / "lexical")
        stored = _next_manifest(self.read_manifest(), manifest, changed or lexical is not None)
        tmp = self.manifest_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, indent=2, ensure_ascii=False))
        tmp.replace(self.manifest_path)
        return stored

    def load_lexical(self) -> LexicalIndex:
        return LexicalIndex.load(self.folder / "lexical")

    def lexical_fingerprint(self) -> str | None:
        folder = self.folder / "lexical"
        if not LexicalIndex.is_current(folder):
            return None
        try:
            return (folder / "fingerprint").read_text()
        except OSError:
            return None

    def writer_lock(self, timeout: float) -> WriterLock:
        return acquire_file_lock(self.folder, timeout)


def acquire_file_lock(folder: Path, timeout: float):
    """The store folder's writer lock (an OS file lock, released when the process dies); raises
    StoreError('ingest_running') when another ingestion holds it."""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / ".ingest.lock"))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise StoreError("ingest_running", {"store": str(folder)}) from exc
    return lock


def open_state(config: StoreConfig, create: bool) -> SharedState:
    """The state the configuration names: PostgreSQL when it has a database, else the store folder."""
    if config.database is not None:
        from vectorstore.postgres import PostgresState

        return PostgresState(config, create=create)
    return FileState(Path(config.folder), create=create)


@dataclass
class Snapshot:
    """What a running app answers from, swapped as a whole: the BM25 index and the generation it belongs to."""

    lexical: LexicalIndex
    generation: int
    rebuilt: bool = False  # built in memory from the catalog (the saved one was missing or did not match)
    loaded_at: float = field(default_factory=time.time)


class Watcher:
    """A daemon thread that calls `check()` every `interval` seconds until stopped; errors are logged, once per
    kind, and never stop it."""

    def __init__(self, check, interval: float, name: str = "openbaar-reload") -> None:
        self.check = check
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._errors: set[str] = set()

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        import logging

        log = logging.getLogger("openbaar.store")
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # a database restart, a Chroma hiccup: try again next time
                kind = type(exc).__name__
                if kind not in self._errors:
                    self._errors.add(kind)
                    log.warning(
                        "looking for a new store generation failed (%s); retrying", kind, exc_info=True
                    )

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5)


@contextmanager
def held(lock: WriterLock) -> Iterator[WriterLock]:
    try:
        yield lock
    finally:
        lock.release()


__all__ = [
    "MANIFEST_SCHEMA",
    "Claimed",
    "FileState",
    "LexicalIndexError",
    "LocalQueue",
    "SharedState",
    "Snapshot",
    "Watcher",
    "WorkQueue",
    "acquire_file_lock",
    "held",
    "open_state",
    "same_content",
]
