"""The shared state in PostgreSQL (`OPENBAAR_DB_URL`): catalog, store state with its generation, the saved BM25
index, the embedding cache, the writer lock and the ingestion work queue. Vectors stay in Chroma.

- One connection pool per database URL and process (`Database.open`), autocommit for reads; writes run in
  explicit transactions. Queries are the catalog's own (`?` placeholders, turned into psycopg's `%s`).
- The writer lock is a session-level advisory lock on a connection of its own: PostgreSQL releases it when that
  connection ends, so an ingestion killed with `kill -9` never leaves the store locked.
- The work queue hands out one document at a time with `SELECT ... FOR UPDATE SKIP LOCKED` inside a transaction
  that stays open while the document is processed: a worker that dies drops its connection, PostgreSQL rolls back
  and unlocks the row, and the document is claimed again by another worker.
- `publish` saves the BM25 index and the store state (generation + 1) in one transaction, so a replica that sees
  a new generation always finds the index that belongs to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, ClassVar

from vectorstore.catalog import CatalogBase
from vectorstore.config import DatabaseConfig, StoreConfig
from vectorstore.errors import StoreError
from vectorstore.lexical import LexicalIndex, LexicalIndexError
from vectorstore.records import METADATA_FIELDS
from vectorstore.state import Claimed, SharedState, _next_manifest

log = logging.getLogger("openbaar.store")

SCHEMA_VERSION = 1
_METADATA_COLUMNS = ", ".join(f"{name} TEXT" for name in METADATA_FIELDS)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    raw_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    source_path TEXT NOT NULL,
    {_METADATA_COLUMNS},
    extra TEXT NOT NULL DEFAULT '{{}}',
    text TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
);
CREATE INDEX IF NOT EXISTS documents_text_hash ON documents(text_hash);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source_path);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS sentences (
    sentence_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_doc ON sentences(doc_id, idx);
CREATE TABLE IF NOT EXISTS store_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL,
    manifest JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS lexical_index (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    data BYTEA NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS embeddings (
    key TEXT PRIMARY KEY,
    vector BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id BIGSERIAL PRIMARY KEY,
    run JSONB NOT NULL,
    status TEXT NOT NULL DEFAULT 'running',
    aborted TEXT,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ingest_queue (
    item_id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES ingest_runs(run_id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    payload BYTEA NOT NULL,
    done BOOLEAN NOT NULL DEFAULT false,
    result JSONB,
    worker TEXT
);
CREATE INDEX IF NOT EXISTS ingest_queue_pending ON ingest_queue(run_id, item_id) WHERE NOT done;
CREATE TABLE IF NOT EXISTS ingest_texts (
    run_id BIGINT NOT NULL REFERENCES ingest_runs(run_id) ON DELETE CASCADE,
    text_hash TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (run_id, text_hash)
);
"""
_SCHEMA_LOCK = 0x0B5E_0001  # advisory lock serialising CREATE TABLE IF NOT EXISTS between processes


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for a name."""
    digest = hashlib.sha256("\x00".join(("openbaar", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@lru_cache(maxsize=256)
def _pg(sql: str) -> str:
    """Our `?` placeholders as psycopg's `%s`."""
    return sql.replace("?", "%s")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


class _Writer:
    """A transaction's cursor that takes `?` placeholders."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(_pg(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        with self.conn.cursor() as cursor:
            cursor.executemany(_pg(sql), [tuple(r) for r in rows])


class Database:
    """One connection pool per URL in this process (shared by the store, the embedding cache and the rate limit),
    closed when its last user releases it."""

    _open: ClassVar[dict[str, Database]] = {}
    _guard = threading.Lock()

    def __init__(self, config: DatabaseConfig) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.config = config
        self.location = config.location
        self.users = 0
        try:  # one plain connection first: a clear error when the server is not there
            with psycopg.connect(config.url, connect_timeout=5, autocommit=True) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise StoreError("database_unreachable", {"where": self.location, "error": _short(exc)}) from exc
        self.pool = ConnectionPool(
            config.url,
            min_size=1,
            max_size=max(1, config.pool_size),
            kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,  # a restarted server: broken connections are replaced
            name="openbaar",
            timeout=30,
            open=True,
        )

    @classmethod
    def open(cls, config: DatabaseConfig) -> Database:
        with cls._guard:
            db = cls._open.get(config.url)
            if db is None:
                db = cls._open[config.url] = cls(config)
            db.users += 1
            return db

    def release(self) -> None:
        with self._guard:
            self.users -= 1
            if self.users > 0:
                return
            if self._open.get(self.config.url) is self:
                del self._open[self.config.url]
        self.pool.close()

    def connect(self, autocommit: bool = False):
        """A connection of its own (locks and claims that must live exactly as long as it does)."""
        import psycopg

        try:
            return psycopg.connect(self.config.url, connect_timeout=5, autocommit=autocommit)
        except psycopg.Error as exc:
            raise StoreError("database_unreachable", {"where": self.location, "error": _short(exc)}) from exc

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.pool.connection() as conn:
            cursor = conn.execute(_pg(sql), tuple(params))
            return cursor.fetchall() if cursor.description else []

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            cursor = conn.execute(_pg(sql), tuple(params))
            names = [d.name for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    @contextmanager
    def write(self) -> Iterator[_Writer]:
        with self.pool.connection() as conn, conn.transaction():
            yield _Writer(conn)

    def ensure_schema(self) -> None:
        """Create the tables (once; concurrent starts wait for each other)."""
        with self.write() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            db.conn.execute(SCHEMA)

    def has_table(self, name: str) -> bool:
        return bool(self.rows("SELECT to_regclass(?) IS NOT NULL", (name,))[0][0])


class PostgresCatalog(CatalogBase):
    """The catalog's queries on PostgreSQL."""

    def __init__(self, db: Database, location: str) -> None:
        self.db = db
        self.location = location

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.db.rows(sql, params)

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self.db.dicts(sql, params)

    @contextmanager
    def _write(self) -> Iterator[_Writer]:
        with self.db.write() as writer:
            yield writer

    def close(self) -> None:
        return None  # the state releases the pool


class AdvisoryLock:
    """A session-level advisory lock held on its own connection; released by `release()` or by the server when
    the holder dies (its connection ends)."""

    def __init__(self, db: Database, key: int, timeout: float, store: str) -> None:
        self.conn = db.connect(autocommit=True)
        deadline = time.monotonic() + timeout
        while True:
            got = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
            if got:
                self.key = key
                return
            if time.monotonic() >= deadline:
                self.conn.close()
                raise StoreError("ingest_running", {"store": store})
            time.sleep(0.2)

    def release(self) -> None:
        try:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        finally:
            self.conn.close()


class PostgresState(SharedState):
    """The store's shared state in PostgreSQL (see the module docstring)."""

    shared = True

    def __init__(self, config: StoreConfig, create: bool) -> None:
        assert config.database is not None
        self.config = config
        self.location = config.location
        self.db = Database.open(config.database)
        try:
            if create:
                self.db.ensure_schema()
            self.ready = create or self.db.has_table("store_state")
        except Exception:
            self.db.release()
            raise
        self.catalog = PostgresCatalog(self.db, self.location)

    def has_documents(self) -> bool:
        return self.ready and self.db.has_table("documents") and super().has_documents()

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.ready:
            return None
        rows = self.db.rows("SELECT manifest, generation FROM store_state WHERE id = 1")
        if not rows:
            return None
        manifest, generation = rows[0]
        return {**manifest, "generation": int(generation)}

    def generation(self) -> int:
        if not self.ready:
            return 0
        rows = self.db.rows("SELECT generation FROM store_state WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    def publish(
        self, manifest: dict[str, Any], lexical: LexicalIndex | None = None, changed: bool = False
    ) -> dict[str, Any]:
        from psycopg.types.json import Jsonb

        data = lexical.to_bytes() if lexical is not None else None
        with self.db.write() as db:
            rows = db.execute(
                "SELECT manifest, generation FROM store_state WHERE id = 1 FOR UPDATE"
            ).fetchall()
            stored = {**rows[0][0], "generation": int(rows[0][1])} if rows else None
            new = _next_manifest(stored, manifest, changed or lexical is not None)
            if lexical is not None:
                db.execute(
                    "INSERT INTO lexical_index (id, fingerprint, data) VALUES (1, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, data = excluded.data,"
                    " saved_at = now()",
                    (lexical.fingerprint, data),
                )
            body = {k: v for k, v in new.items() if k != "generation"}
            db.execute(
                "INSERT INTO store_state (id, generation, manifest) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, manifest = excluded.manifest,"
                " updated_at = now()",
                (new["generation"], Jsonb(body)),
            )
        return new

    def load_lexical(self) -> LexicalIndex:
        rows = self.db.rows("SELECT data FROM lexical_index WHERE id = 1") if self.ready else []
        if not rows:
            raise LexicalIndexError(f"no BM25 index saved in {self.location}")
        return LexicalIndex.from_bytes(bytes(rows[0][0]))

    def lexical_fingerprint(self) -> str | None:
        rows = self.db.rows("SELECT fingerprint FROM lexical_index WHERE id = 1") if self.ready else []
        return rows[0][0] if rows else None

    def writer_lock(self, timeout: float) -> AdvisoryLock:
        return AdvisoryLock(self.db, lock_key("writer", self.config.collection), timeout, self.location)

    def work_queue(self) -> PostgresQueue:
        return PostgresQueue(self.db)

    def close(self) -> None:
        self.db.release()


class PostgresEmbeddingCache:
    """Passage embeddings by sha256(model id + text), shared by every ingestion worker (table `embeddings`)."""

    def __init__(self, config: DatabaseConfig) -> None:
        self.db = Database.open(config)
        try:
            self.db.ensure_schema()
        except Exception:
            self.db.release()
            raise

    def get_many(self, keys: Sequence[str]) -> dict[str, list[float]]:
        import numpy as np

        found: dict[str, list[float]] = {}
        for i in range(0, len(keys), 1000):
            part = list(keys[i : i + 1000])
            for key, blob in self.db.rows("SELECT key, vector FROM embeddings WHERE key = ANY(?)", (part,)):
                found[key] = np.frombuffer(bytes(blob), dtype=np.float32).tolist()
        return found

    def put_many(self, items: dict[str, list[float]]) -> None:
        import numpy as np

        if not items:
            return
        with self.db.write() as db:
            db.executemany(
                "INSERT INTO embeddings (key, vector) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self.db.release()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PostgresQueue:
    """One ingestion run's documents in `ingest_queue`, claimed with FOR UPDATE SKIP LOCKED (see the module
    docstring). Every worker (the coordinator included) has one of these, with a connection of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.run_id: int | None = None
        self._conn = None  # the claiming connection; a claim is a transaction on it
        self.worker = worker_name()

    def _claimer(self):
        if self._conn is None or self._conn.closed:
            self._conn = self.db.connect(autocommit=False)
        return self._conn

    def start(self, items: Sequence[tuple[str, dict[str, Any]]], run: dict[str, Any]) -> None:
        from psycopg.types.json import Jsonb

        with self.db.write() as db:
            db.execute("DELETE FROM ingest_runs")  # an earlier coordinator that died: its run is void
            self.run_id = db.execute(
                "INSERT INTO ingest_runs (run) VALUES (?) RETURNING run_id", (Jsonb(run),)
            ).fetchone()[0]
            db.executemany(
                "INSERT INTO ingest_queue (run_id, doc_id, payload) VALUES (?, ?, ?)",
                [
                    (self.run_id, doc_id, json.dumps(payload, ensure_ascii=False, default=str).encode())
                    for doc_id, payload in items
                ],
            )

    def join(self, wait: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + wait
        while True:
            rows = self.db.rows(
                "SELECT run_id, run FROM ingest_runs WHERE status = 'running' ORDER BY run_id DESC LIMIT 1"
            )
            if rows:
                self.run_id = int(rows[0][0])
                return dict(rows[0][1])
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.5)

    def claim(self) -> Claimed | None:
        if self.run_id is None or self.aborted() is not None:
            return None
        conn = self._claimer()
        row = conn.execute(
            "SELECT item_id, doc_id, payload FROM ingest_queue WHERE run_id = %s AND NOT done"
            " ORDER BY item_id FOR UPDATE SKIP LOCKED LIMIT 1",
            (self.run_id,),
        ).fetchone()
        if row is None:
            conn.rollback()
            return None
        return Claimed(int(row[0]), row[1], json.loads(bytes(row[2])), handle=conn)

    def finish(self, claimed: Claimed, result: dict[str, Any]) -> None:
        from psycopg.types.json import Jsonb

        conn = claimed.handle
        conn.execute(
            "UPDATE ingest_queue SET done = true, result = %s, worker = %s WHERE item_id = %s",
            (Jsonb(result), self.worker, claimed.item_id),
        )
        conn.commit()

    def release(self, claimed: Claimed) -> None:
        claimed.handle.rollback()

    def own_text(self, text_hash: str, doc_id: str) -> str:
        with self.db.write() as db:
            db.execute(
                "INSERT INTO ingest_texts (run_id, text_hash, doc_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (self.run_id, text_hash, doc_id),
            )
            return db.execute(
                "SELECT doc_id FROM ingest_texts WHERE run_id = ? AND text_hash = ?", (self.run_id, text_hash)
            ).fetchone()[0]

    def remaining(self) -> int:
        if self.run_id is None:
            return 0
        return int(
            self.db.rows("SELECT count(*) FROM ingest_queue WHERE run_id = ? AND NOT done", (self.run_id,))[
                0
            ][0]
        )

    def abort(self, reason: str) -> None:
        self.db.rows(
            "UPDATE ingest_runs SET status = 'aborted', aborted = ? WHERE run_id = ?", (reason, self.run_id)
        )

    def aborted(self) -> str | None:
        rows = self.db.rows("SELECT status, aborted FROM ingest_runs WHERE run_id = ?", (self.run_id,))
        if not rows:
            return "the run is over"
        return (rows[0][1] or "aborted") if rows[0][0] != "running" else None

    def results(self) -> list[dict[str, Any]]:
        rows = self.db.rows(
            "SELECT result FROM ingest_queue WHERE run_id = ? AND done ORDER BY item_id", (self.run_id,)
        )
        return [dict(r[0]) for r in rows]

    def end(self) -> None:
        if self.run_id is not None:
            self.db.rows("DELETE FROM ingest_runs WHERE run_id = ?", (self.run_id,))
            self.run_id = None

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None
