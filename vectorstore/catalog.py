"""The catalog beside the vectors: every document's cleaned text and metadata, its chunk and sentence spans.

The catalog is what citation checks read (a quote must occur in the stored cleaned text) and what makes
re-ingestion cheap (a document whose raw hash is unchanged is skipped without being cleaned again).

`CatalogBase` holds every query (written once, with `?` placeholders); `Catalog` runs them on SQLite
(`<store>/catalog.sqlite`), `vectorstore.postgres.PostgresCatalog` on PostgreSQL. The same tests run against both.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from vectorstore.records import METADATA_FIELDS, Chunk, Document, DocumentState, Sentence, SentenceSpan

_METADATA_COLUMNS = ", ".join(f"{name} TEXT" for name in METADATA_FIELDS)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    raw_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    source_path TEXT NOT NULL,
    {_METADATA_COLUMNS},
    extra TEXT NOT NULL DEFAULT '{{}}',
    text TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
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
"""
_DOCUMENT_COLUMNS = (
    "doc_id",
    "raw_hash",
    "text_hash",
    "source_path",
    *METADATA_FIELDS,
    "extra",
    "text",
    "n_chunks",
)
_INSERT_DOCUMENT = f"INSERT INTO documents ({', '.join(_DOCUMENT_COLUMNS)}) VALUES ({', '.join('?' * len(_DOCUMENT_COLUMNS))})"


class Writer(Protocol):
    """What a write transaction offers: execute and executemany."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any: ...


class CatalogBase:
    """Every catalog query; subclasses say how to run them (`_rows`, `_dicts`, `_write`, `close`)."""

    location = ""

    # --- how queries run (per engine) ---------------------------------------------------------------
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    @contextmanager
    def _write(self) -> Iterator[Writer]:
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        raise NotImplementedError

    # --- queries -----------------------------------------------------------------------------------------
    def states(self) -> dict[str, DocumentState]:
        rows = self._rows("SELECT doc_id, raw_hash, text_hash, source_path, n_chunks FROM documents")
        return {r[0]: DocumentState(*r) for r in rows}

    def doc_with_text_hash(self, text_hash: str) -> str | None:
        rows = self._rows("SELECT doc_id FROM documents WHERE text_hash = ? LIMIT 1", (text_hash,))
        return rows[0][0] if rows else None

    def chunk_ids(self, doc_id: str) -> list[str]:
        return [r[0] for r in self._rows("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]

    def known_chunks(self, chunk_ids: Sequence[str]) -> set[str]:
        """Those of `chunk_ids` whose document is in the catalog (with that chunk)."""
        found: set[str] = set()
        for i in range(0, len(chunk_ids), 500):
            part = list(chunk_ids[i : i + 500])
            marks = ",".join("?" * len(part))
            found.update(
                r[0] for r in self._rows(f"SELECT chunk_id FROM chunks WHERE chunk_id IN ({marks})", part)
            )
        return found

    def put(
        self,
        doc: Document,
        raw_hash: str,
        text_hash: str,
        chunks: list[Chunk],
        sentences: Sequence[Sentence] = (),
    ) -> None:
        """Insert or replace a document, its chunks and its sentences in one transaction."""
        with self._write() as db:
            db.execute("DELETE FROM documents WHERE doc_id = ?", (doc.doc_id,))
            db.execute(
                _INSERT_DOCUMENT,
                (
                    doc.doc_id,
                    raw_hash,
                    text_hash,
                    str(doc.source_path),
                    *(getattr(doc, f) for f in METADATA_FIELDS),
                    json.dumps(doc.extra, ensure_ascii=False, default=str),
                    doc.text,
                    len(chunks),
                ),
            )
            if chunks:
                db.executemany(
                    'INSERT INTO chunks (chunk_id, doc_id, idx, start, "end") VALUES (?,?,?,?,?)',
                    [(c.chunk_id, c.doc_id, c.index, c.start, c.end) for c in chunks],
                )
            if sentences:
                db.executemany(
                    'INSERT INTO sentences (sentence_id, doc_id, idx, start, "end") VALUES (?,?,?,?,?)',
                    [(x.sentence_id, x.doc_id, x.index, x.start, x.end) for x in sentences],
                )

    def touch_source(self, doc_id: str, source_path: str) -> None:
        with self._write() as db:
            db.execute("UPDATE documents SET source_path = ? WHERE doc_id = ?", (source_path, doc_id))

    def delete(self, doc_ids: Iterable[str]) -> None:
        rows = [(d,) for d in doc_ids]
        if rows:
            with self._write() as db:
                db.executemany("DELETE FROM documents WHERE doc_id = ?", rows)

    def document(self, doc_id: str) -> dict[str, Any] | None:
        rows = self._dicts("SELECT * FROM documents WHERE doc_id = ?", (doc_id,))
        if not rows:
            return None
        doc = rows[0]
        doc["extra"] = json.loads(doc["extra"])
        return doc

    def text(self, doc_id: str) -> str | None:
        rows = self._rows("SELECT text FROM documents WHERE doc_id = ?", (doc_id,))
        return rows[0][0] if rows else None

    def sentences(self, doc_id: str) -> list[SentenceSpan]:
        """The stored sentences of a document, in order."""
        rows = self._rows(
            'SELECT sentence_id, start, "end" FROM sentences WHERE doc_id = ? ORDER BY idx', (doc_id,)
        )
        return [SentenceSpan(*row) for row in rows]

    def iter_chunks(self) -> Iterator[tuple[str, str, str]]:
        """(chunk_id, chunk text, language) of every chunk, in a stable order."""
        rows = self._rows(
            'SELECT c.chunk_id, substr(d.text, c.start + 1, c."end" - c.start), d.language'
            " FROM chunks c JOIN documents d ON d.doc_id = c.doc_id ORDER BY c.doc_id, c.idx"
        )
        for chunk_id, text, language in rows:
            yield chunk_id, text, language or "und"

    def iter_chunk_metadata(
        self,
    ) -> Iterator[tuple[str, str, int, str | None, str | None, str | None, str | None]]:
        """(chunk_id, doc_id, start, date, language, type, speaker) of every chunk: what retrieval filters and the
        sentence ranking look at."""
        yield from self._rows(
            "SELECT c.chunk_id, c.doc_id, c.start, d.date, d.language, d.type, d.speaker"
            " FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
        )

    def fingerprint(self) -> str:
        """A hash of the chunk set (ids, which name their text, and each document's language): what the BM25 index
        must have been built from. Equal fingerprints, same index."""
        digest = hashlib.sha256()
        rows = self._rows(
            "SELECT c.chunk_id, coalesce(d.language, '') FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
            " ORDER BY c.chunk_id"
        )
        for chunk_id, language in rows:
            digest.update(f"{chunk_id}\t{language}\n".encode())
        return f"{len(rows)}:{digest.hexdigest()[:32]}"

    def stats(self) -> dict[str, Any]:
        one = self._rows
        documents = one("SELECT count(*) FROM documents")[0][0]
        chunks = one("SELECT count(*) FROM chunks")[0][0]
        languages = dict(
            one("SELECT coalesce(language, 'und'), count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC, 1")
        )
        types = dict(one("SELECT coalesce(type, '-'), count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC, 1"))
        sentences = one("SELECT count(*) FROM sentences")[0][0]
        first, last = one("SELECT min(date), max(date) FROM documents WHERE date IS NOT NULL")[0]
        undated = one("SELECT count(*) FROM documents WHERE date IS NULL")[0][0]
        return {
            "documents": documents,
            "chunks": chunks,
            "sentences": sentences,
            "languages": languages,
            "types": types,
            "date_range": {"first": first, "last": last, "undated": undated},
        }


class Catalog(CatalogBase):
    """Documents and chunk spans in `<store>/catalog.sqlite`."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.location = str(path)
        self.readonly = readonly
        self._local = threading.local()  # one SQLite connection per thread: the app answers on many threads
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        if not readonly:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    @property
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            if self.readonly:
                db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            else:
                db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
            with self._guard:
                self._connections.append(db)
        return db

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return [tuple(r) for r in self._db.execute(sql, tuple(params))]

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._db.execute(sql, tuple(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    @contextmanager
    def _write(self) -> Iterator[Writer]:
        with self._db as db:
            yield db

    def close(self) -> None:
        with self._guard:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()
