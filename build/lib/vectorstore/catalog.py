"""SQLite catalog beside the vectors: every document's cleaned text and metadata, and its chunk spans.

The catalog is what citation checks read (a quote must occur in the stored cleaned text) and what makes
re-ingestion cheap (a document whose raw hash is unchanged is skipped without being cleaned again).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

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


class Catalog:
    """Documents and chunk spans in `<store>/catalog.sqlite`."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
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
            db.row_factory = sqlite3.Row
            self._local.db = db
            with self._guard:
                self._connections.append(db)
        return db

    def close(self) -> None:
        with self._guard:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    def states(self) -> dict[str, DocumentState]:
        rows = self._db.execute("SELECT doc_id, raw_hash, text_hash, source_path, n_chunks FROM documents")
        return {r["doc_id"]: DocumentState(*r) for r in rows}

    def doc_with_text_hash(self, text_hash: str) -> str | None:
        row = self._db.execute(
            "SELECT doc_id FROM documents WHERE text_hash = ? LIMIT 1", (text_hash,)
        ).fetchone()
        return row["doc_id"] if row else None

    def chunk_ids(self, doc_id: str) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]

    def put(
        self,
        doc: Document,
        raw_hash: str,
        text_hash: str,
        chunks: list[Chunk],
        sentences: Sequence[Sentence] = (),
    ) -> None:
        """Insert or replace a document, its chunks and its sentences in one transaction."""
        with self._db:
            self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc.doc_id,))
            self._db.execute(
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
            self._db.executemany(
                'INSERT INTO chunks (chunk_id, doc_id, idx, start, "end") VALUES (?,?,?,?,?)',
                [(c.chunk_id, c.doc_id, c.index, c.start, c.end) for c in chunks],
            )
            self._db.executemany(
                'INSERT INTO sentences (sentence_id, doc_id, idx, start, "end") VALUES (?,?,?,?,?)',
                [(x.sentence_id, x.doc_id, x.index, x.start, x.end) for x in sentences],
            )

    def touch_source(self, doc_id: str, source_path: str) -> None:
        with self._db:
            self._db.execute("UPDATE documents SET source_path = ? WHERE doc_id = ?", (source_path, doc_id))

    def delete(self, doc_ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in doc_ids])

    def document(self, doc_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        doc = dict(row)
        doc["extra"] = json.loads(doc["extra"])
        return doc

    def text(self, doc_id: str) -> str | None:
        row = self._db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def sentences(self, doc_id: str) -> list[SentenceSpan]:
        """The stored sentences of a document, in order."""
        rows = self._db.execute(
            'SELECT sentence_id, start, "end" FROM sentences WHERE doc_id = ? ORDER BY idx', (doc_id,)
        )
        return [SentenceSpan(*row) for row in rows]

    def iter_chunks(self) -> Iterator[tuple[str, str, str]]:
        """(chunk_id, chunk text, language) of every chunk, in a stable order."""
        rows = self._db.execute(
            'SELECT c.chunk_id, substr(d.text, c.start + 1, c."end" - c.start), d.language'
            " FROM chunks c JOIN documents d USING (doc_id) ORDER BY c.doc_id, c.idx"
        )
        for chunk_id, text, language in rows:
            yield chunk_id, text, language or "und"

    def iter_chunk_metadata(
        self,
    ) -> Iterator[tuple[str, str, int, str | None, str | None, str | None, str | None]]:
        """(chunk_id, doc_id, start, date, language, type, speaker) of every chunk: what retrieval filters and the
        sentence ranking look at."""
        yield from self._db.execute(
            "SELECT c.chunk_id, c.doc_id, c.start, d.date, d.language, d.type, d.speaker"
            " FROM chunks c JOIN documents d USING (doc_id)"
        )

    def stats(self) -> dict[str, Any]:
        one = self._db.execute
        documents, chunks = (
            one("SELECT count(*) FROM documents").fetchone()[0],
            one("SELECT count(*) FROM chunks").fetchone()[0],
        )
        languages = dict(
            one(
                "SELECT coalesce(language, 'und'), count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        types = dict(
            one("SELECT coalesce(type, '-'), count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC").fetchall()
        )
        sentences = one("SELECT count(*) FROM sentences").fetchone()[0]
        first, last = one("SELECT min(date), max(date) FROM documents WHERE date IS NOT NULL").fetchone()
        undated = one("SELECT count(*) FROM documents WHERE date IS NULL").fetchone()[0]
        return {
            "documents": documents,
            "chunks": chunks,
            "sentences": sentences,
            "languages": languages,
            "types": types,
            "date_range": {"first": first, "last": last, "undated": undated},
        }
